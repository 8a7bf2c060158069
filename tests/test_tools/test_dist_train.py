"""tools/dist_train.sh runs two CPU processes (gloo); tools/test.py scores the checkpoint."""
import json
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.mark.timeout(600)
def test_dist_train_two_cpu_processes_then_test(tmp_path):
    from bleedorigin.datasets.synthetic import generate_benchmark

    data_root = str(tmp_path / 'tiny')
    generate_benchmark(data_root, 'tiny', seed=0, workers=1, progress=False)
    work_dir = str(tmp_path / 'work')
    overrides = ['synthetic_data=None', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
                 'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
                 'train_dataloader.persistent_workers=False', 'val_dataloader.num_workers=0',
                 'default_hooks.logger.interval=1']
    for loader in ('train_dataloader', 'val_dataloader'):
        overrides += [f'{loader}.dataset.datasets.{i}.data_root={data_root}' for i in (0, 1)]
    # the default's other training sets (hard negatives from long negative streams; hard
    # positives, onset and source, from the instrument_onsets render)
    overrides += [f'train_dataloader.dataset.datasets.{i}.data_root={data_root}'
                  for i in (2, 3, 4)]
    env = dict(os.environ, PORT=str(_free_port()), PYTHON=sys.executable)
    proc = subprocess.run(
        ['bash', osp.join(ROOT, 'tools', 'dist_train.sh'), 'configs/bleedorigin/detect.py', '2',
         '--work-dir', work_dir, '--cfg-options', *overrides],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=580)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'Distributed training: True' in log
    assert 'Iter(train) [2/2]' in log
    scalars = [osp.join(dp, f) for dp, _, files in os.walk(work_dir) for f in files
               if f == 'scalars.json']
    assert scalars, 'no scalars.json written'
    with open(scalars[0]) as f:
        records = [json.loads(line) for line in f if line.strip()]
    val = [r for r in records if 'onset/acc_8' in r]
    assert val and 'source/err_le_100' in val[-1]
    checkpoint = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(checkpoint)

    # tools/test.py on the same checkpoint: paper tables on stdout, the exact keys in --out.
    out_json = str(tmp_path / 'metrics.json')
    # the tiny preset's one test clip may be negative: score the (positive) val clip
    test_overrides = ['synthetic_data=None', 'test_dataloader.num_workers=0']
    for i in (0, 1):
        test_overrides += [f'test_dataloader.dataset.datasets.{i}.data_root={data_root}',
                           f'test_dataloader.dataset.datasets.{i}.split=val']
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'test.py'), 'configs/bleedorigin/detect.py',
         checkpoint, '--work-dir', str(tmp_path / 'test'), '--out', out_json,
         '--cfg-options', *test_overrides],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert 'Table 3' in proc.stdout and 'Table 4' in proc.stdout
    assert '| prior_median |' in proc.stdout and '| prior_center |' in proc.stdout
    with open(out_json) as f:
        metrics = json.load(f)
    expected = {f'onset/acc_{k}' for k in (0, 1, 2, 4, 8)} | {
        'onset/err_avg', 'onset/bias', 'onset/miss_rate', 'onset/false_alarm_rate'} | {
        f'source/err_le_{d}' for d in (10, 25, 50, 75, 100)} | {'source/err_avg'}
    assert expected <= set(metrics)
