"""Training curves (results.csv + bench_val.jsonl -> PNG) and resumable training."""
import json
import os.path as osp

import numpy as np
import pytest

from projects.yolo_baselines.yolo_baselines.val_curve import (
    BENCH_VAL_FILE,
    read_bench_val,
    read_results_csv,
    read_run_chain,
    summarise_run,
)

# ultralytics writes padded column names; two epochs by hand
RESULTS_CSV = """\
                  epoch,         train/box_loss,   metrics/precision(B),   metrics/mAP50(B),\
metrics/mAP50-95(B),  time
                      1,                 3.2,          0.1,            0.05,   0.01,   100.5
                      2,                 2.9,          0.2,            0.25,   0.08,   201.0
                      3,                 2.7,          0.2,            0.20,   0.07,   300.0
"""


def write_run(tmp_path, records=()):
    run = tmp_path / 'run'
    run.mkdir()
    (run / 'results.csv').write_text(RESULTS_CSV)
    with open(run / BENCH_VAL_FILE, 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
    return str(run)


def test_read_results_csv_strips_padding(tmp_path):
    run = write_run(tmp_path)
    results = read_results_csv(osp.join(run, 'results.csv'))
    np.testing.assert_allclose(results['epoch'], [1, 2, 3])
    np.testing.assert_allclose(results['metrics/mAP50(B)'], [0.05, 0.25, 0.20])
    summary = summarise_run(run)
    assert summary['best_epoch'] == 2 and summary['best_map50'] == pytest.approx(0.25)
    assert summary['epochs'] == 3 and summary['last_map50'] == pytest.approx(0.20)
    assert summary['train_seconds'] == pytest.approx(300.0)


def test_a_chain_of_stages_numbers_epochs_on(tmp_path):
    """RUN1+RUN2: the second stage (from the first's weights) continues the epoch count,
    its time adds to the first's, and the restart is reported."""
    first = write_run(tmp_path, [{'epoch': 3, 'metrics': {'onset/acc_8': 40.0}}])
    (tmp_path / 'more').mkdir()
    second = tmp_path / 'more' / 'run'
    second.mkdir()
    (second / 'results.csv').write_text(
        'epoch,metrics/mAP50(B),time\n1,0.15,50.0\n2,0.30,110.0\n')
    (second / BENCH_VAL_FILE).write_text(json.dumps(
        {'epoch': 2, 'metrics': {'onset/acc_8': 60.0}}) + '\n')
    results, records, restarts = read_run_chain(f'{first}+{second}')
    np.testing.assert_allclose(results['epoch'], [1, 2, 3, 4, 5])
    np.testing.assert_allclose(results['metrics/mAP50(B)'], [0.05, 0.25, 0.20, 0.15, 0.30])
    assert 'train/box_loss' not in results  # not in every stage
    assert [r['epoch'] for r in records] == [3, 5] and restarts == [3]
    summary = summarise_run(f'{first}+{second}')
    assert summary['best_epoch'] == 5 and summary['best_map50'] == pytest.approx(0.30)
    assert summary['train_seconds'] == pytest.approx(410.0)
    assert summary['restarts_after_epoch'] == [3]
    assert summary['bench_val']['metrics']['onset/acc_8'] == 60.0


def test_read_results_csv_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match='results.csv'):
        read_results_csv(str(tmp_path / 'results.csv'))
    path = tmp_path / 'bad.csv'
    path.write_text('epoch,train/box_loss\n1,3.0\n')
    with pytest.raises(ValueError, match='mAP50'):
        read_results_csv(str(path))
    path.write_text('epoch,metrics/mAP50(B)\n')
    with pytest.raises(ValueError, match='no epochs'):
        read_results_csv(str(path))


def test_bench_val_records_sorted_last_wins(tmp_path):
    run = write_run(tmp_path, [
        {'epoch': 3, 'metrics': {'onset/acc_8': 40.0}},
        {'epoch': 1, 'metrics': {'onset/acc_8': 10.0}},
        {'epoch': 3, 'metrics': {'onset/acc_8': 50.0}},  # a resumed run re-evaluated epoch 3
    ])
    records = read_bench_val(osp.join(run, BENCH_VAL_FILE))
    assert [r['epoch'] for r in records] == [1, 3]
    assert records[-1]['metrics']['onset/acc_8'] == 50.0
    assert read_bench_val(str(tmp_path / 'missing.jsonl')) == []
    bad = tmp_path / 'bad.jsonl'
    bad.write_text('{"epoch": 1}\n')
    with pytest.raises(ValueError, match='"metrics"'):
        read_bench_val(str(bad))


def test_box_fitness_patch_is_scoped():
    from projects.yolo_baselines.yolo_baselines.offline import import_ultralytics
    from projects.yolo_baselines.yolo_baselines.train import box_fitness

    import_ultralytics()
    from ultralytics.utils.metrics import Metric

    metric = Metric()
    metric.mean_results = lambda: [0.9, 0.8, 0.6, 0.3]  # P, R, mAP50, mAP50-95
    assert metric.fitness() == pytest.approx(0.3)  # ultralytics' default: mAP50-95
    with box_fitness('map50'):
        assert metric.fitness() == pytest.approx(0.6)
    assert metric.fitness() == pytest.approx(0.3)


def test_plot_training_curves_writes_png(tmp_path):
    from projects.yolo_baselines.tools.plot_yolo_curves import main

    run = write_run(tmp_path, [{'epoch': 2, 'metrics': {'onset/acc_8': 30.0,
                                                         'source/err_le_100': 20.0}}])
    out = str(tmp_path / 'curves' / 'yolo.png')
    summary = main([f'YOLOv11-n={run}', '--out', out, '--summary', str(tmp_path / 's.json')])
    with open(out, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert summary['YOLOv11-n']['best_epoch'] == 2
    with open(tmp_path / 's.json') as f:
        assert json.load(f)['YOLOv11-n']['bench_val']['metrics']['onset/acc_8'] == 30.0
    with pytest.raises(SystemExit):
        main(['no_equals_sign', '--out', out])


def test_resume_and_bench_eval(tiny_bench, tmp_path):
    """An interrupted 2-epoch run resumes at epoch 2; the callback scores val clips."""
    from projects.yolo_baselines.yolo_baselines import AdapterParams, build_yolo_dataset, train_yolo

    data_yaml = build_yolo_dataset(tiny_bench, str(tmp_path / 'cache'),
                                   AdapterParams(box_size=16, negatives_per_clip=1))

    class Interrupt(Exception):
        pass

    def stop_after_first(trainer):
        if trainer.epoch == 0:
            raise Interrupt

    bench_eval = {'data_root': tiny_bench, 'split': 'val', 'interval': 1}
    common = dict(epochs=2, imgsz=64, batch=4, bench_eval=bench_eval, fitness='map50')
    with pytest.raises(Interrupt):
        train_yolo('yolo11n.yaml', data_yaml, str(tmp_path / 'runs'), 'r', **common,
                   callbacks={'on_fit_epoch_end': stop_after_first})
    run_dir = str(tmp_path / 'runs' / 'r')
    with open(osp.join(run_dir, 'run_meta.json')) as f:
        assert json.load(f)['finished'] is False  # usable, but not finished
    assert osp.isfile(osp.join(run_dir, 'weights', 'last.pt'))
    train_yolo('yolo11n.yaml', data_yaml, str(tmp_path / 'runs'), 'r', resume=True, **common)
    results = read_results_csv(osp.join(run_dir, 'results.csv'))
    np.testing.assert_allclose(results['epoch'], [1, 2])  # epoch 1 not trained twice
    with open(osp.join(run_dir, 'run_meta.json')) as f:
        meta = json.load(f)
    assert meta['finished'] is True and meta['epochs_run'] == 2 and meta['fitness'] == 'map50'
    assert meta['stopped_by'] == 'epochs' and meta['best_epoch'] in (1, 2)
    with pytest.raises(RuntimeError, match='model=.*last.pt'):  # finished: never overwritten
        train_yolo('yolo11n.yaml', data_yaml, str(tmp_path / 'runs'), 'r', resume=True, **common)
    records = read_bench_val(osp.join(run_dir, BENCH_VAL_FILE))
    assert [r['epoch'] for r in records] == [1, 2]
    assert records[-1]['clips'] == 1
    assert 0 <= records[-1]['metrics']['onset/acc_8'] <= 100
    assert 'source/err_le_100' in records[-1]['metrics']
    with pytest.raises(ValueError, match='fitness'):
        train_yolo('yolo11n.yaml', data_yaml, str(tmp_path / 'runs'), 'bad', epochs=1,
                   imgsz=64, fitness='f1')
    with pytest.raises(ValueError, match='time'):
        train_yolo('yolo11n.yaml', data_yaml, str(tmp_path / 'runs'), 'bad', epochs=1,
                   imgsz=64, time=0)
