"""Resume after a crash: the newest intact checkpoint, atomic writes (issue 14)."""
import glob
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch
from robust_helpers import REPO
from tiny_runner import build_runner

from bleedorigin.utils.checkpoint import (
    checkpoint_candidates,
    find_intact_checkpoint,
    load_checkpoint_safely,
    save_checkpoint_atomic,
)

HERE = osp.dirname(osp.abspath(__file__))


def truncate(path, keep=0.5):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def run_log(work_dir):
    logs = sorted(glob.glob(osp.join(str(work_dir), '*', '*.log')), key=osp.getmtime)
    with open(logs[-1]) as f:
        return f.read()


@pytest.fixture
def trained(tmp_path):
    """A work dir with epoch_1..3.pth and last_checkpoint -> epoch_3.pth."""
    work = tmp_path / 'work'
    build_runner(work, 3, name='first').train()
    return work


def test_auto_resume_falls_back_to_newest_intact_checkpoint(trained):
    truncate(trained / 'epoch_3.pth')  # a power cut during the last write
    runner = build_runner(trained, 4, resume=True, name='fallback')
    runner.train()
    log = run_log(trained)
    assert (f'auto-resume: skipping {trained}/epoch_3.pth: truncated or corrupt: not a '
            'complete torch zip archive') in log
    assert (f'auto-resume: fell back to {trained}/epoch_2.pth, the newest intact checkpoint '
            '(1 newer one(s) skipped)') in log
    assert runner.epoch == 4
    assert load_checkpoint_safely(str(trained / 'epoch_3.pth'))['meta']['epoch'] == 3  # redone
    assert load_checkpoint_safely(str(trained / 'epoch_4.pth'))['meta']['epoch'] == 4


def test_garbled_last_checkpoint_pointer(trained):
    (trained / 'last_checkpoint').write_bytes(b'\x00\xffnot a path')
    path, checkpoint, skipped = find_intact_checkpoint(str(trained))
    assert path == str(trained / 'epoch_3.pth') and skipped == []
    assert checkpoint['meta']['epoch'] == 3


def test_no_intact_checkpoint_starts_from_scratch(trained):
    for path in checkpoint_candidates(str(trained)):
        truncate(path, 0.3)
    runner = build_runner(trained, 1, resume=True, name='scratch')
    runner.train()
    assert 'auto-resume: no intact checkpoint in' in run_log(trained)
    assert runner.epoch == 1


def test_crash_during_checkpoint_write_leaves_previous_intact(tmp_path, monkeypatch):
    """A write that dies half-way: no half-written file under any checkpoint name."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    work = tmp_path / 'work'
    build_runner(work, 1, name='before').train()
    original = LocalBackend.put

    def dying_put(self, obj, filepath):
        if str(filepath).endswith('.pth'):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise OSError(28, 'No space left on device')
        return original(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', dying_put)
    with pytest.raises(OSError, match='No space left'):
        build_runner(work, 2, resume=True, name='dying').train()
    monkeypatch.setattr(LocalBackend, 'put', original)
    names = sorted(n for n in os.listdir(work) if n.endswith('.pth') or n.startswith('.tmp'))
    assert names == ['epoch_1.pth']  # no epoch_2.pth, no temporary file left
    assert load_checkpoint_safely(str(work / 'epoch_1.pth'))['meta']['epoch'] == 1
    runner = build_runner(work, 2, resume=True, name='after')
    runner.train()
    assert runner.epoch == 2


def test_save_checkpoint_atomic_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / 'ckpt.pth'
    save_checkpoint_atomic({'v': torch.ones(2)}, str(path))

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError('disk pulled')

    with pytest.raises(RuntimeError, match='disk pulled'):
        save_checkpoint_atomic({'v': torch.zeros(2), 'x': Unpicklable()}, str(path))
    assert os.listdir(tmp_path) == ['ckpt.pth']
    assert torch.equal(load_checkpoint_safely(str(path))['v'], torch.ones(2))


KILL_SCRIPT = '''
import sys, time
sys.path[:0] = [{here!r}, {repo!r}]
from mmengine.hooks import Hook
from tiny_runner import build_runner

class Slow(Hook):
    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        time.sleep(0.1)

runner = build_runner(sys.argv[1], 1000, name='killed')
runner.register_hook(Slow())
runner.train()
'''


def test_sigkill_then_resume(tmp_path):
    """SIGKILL at an arbitrary moment of training; auto-resume restarts from a checkpoint."""
    work = tmp_path / 'work'
    script = tmp_path / 'train.py'
    script.write_text(KILL_SCRIPT.format(here=osp.dirname(HERE), repo=REPO))  # tests/: tiny_runner
    proc = subprocess.Popen([sys.executable, str(script), str(work)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not (work / 'epoch_3.pth').exists():
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.time() < deadline, 'training did not write epoch_3.pth'
            time.sleep(0.05)
        time.sleep(0.13)  # somewhere in epoch 4
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    path, checkpoint, skipped = find_intact_checkpoint(str(work))
    assert skipped == [] and checkpoint['meta']['epoch'] >= 3
    last = checkpoint['meta']['epoch']
    runner = build_runner(work, last + 1, resume=True, name='resumed', log_level='INFO')
    runner.train()
    assert runner.epoch == last + 1
    assert f'Auto resumed from the latest checkpoint {path}.' in run_log(work)


def test_auto_resume_of_a_fine_tuning_run(tmp_path):
    """--resume on a config with load_from: its weights start the run while the work dir
    holds no checkpoint; once it holds one, that checkpoint is resumed instead."""
    pretrained = tmp_path / 'pretrained'
    build_runner(pretrained, 2, name='pre').train()
    start = str(pretrained / 'epoch_2.pth')
    weights = load_checkpoint_safely(start)['state_dict']['linear.weight']
    work = tmp_path / 'finetune'
    runner = build_runner(work, 1, resume=True, name='ft', log_level='INFO')
    runner.cfg['auto_resume_load_from'] = start
    runner.load_or_resume()
    # the pretrained weights, at epoch 0 (a fine-tuning start, not a resume of epoch 2)
    assert torch.equal(runner.model.linear.weight.detach(), weights)
    assert runner.epoch == 0
    runner.train()
    assert (f'auto-resume: no intact checkpoint in {work}; loading the weights of {start} '
            '(load_from)') in run_log(work)
    # a second start resumes the fine-tuning run's own checkpoint, not the pretrained one
    again = build_runner(work, 2, resume=True, name='ft2', log_level='INFO')
    again.cfg['auto_resume_load_from'] = start
    again.train()
    assert again.epoch == 2
    assert f'Auto resumed from the latest checkpoint {work}/epoch_1.pth.' in run_log(work)
