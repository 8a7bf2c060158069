"""Shipping YOLO weights: float16 file + manifest entry, loaded back with weights_only=True,
and tools/benchmark.py picking the shipped baselines by default."""
import json
import os
import os.path as osp

import numpy as np
import pytest
import torch

from projects.yolo_baselines.tests.test_yolo_curves import RESULTS_CSV
from tests.tool_loader import load_tool

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
CONFIG = osp.join(REPO_ROOT, 'projects', 'yolo_baselines', 'configs', 'yolo11n_cpu.py')


def _fake_run(tmp_path, finished=True):
    """A run folder as train_yolo leaves it, with random YOLO11-n weights."""
    from projects.yolo_baselines.yolo_baselines.offline import import_ultralytics

    import_ultralytics()
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(0)
    model = DetectionModel('yolo11n.yaml', nc=1, verbose=False).eval()
    run = tmp_path / 'run'
    (run / 'weights').mkdir(parents=True)
    torch.save({'state_dict': model.state_dict(), 'yaml': model.yaml,
                'names': {0: 'bleeding_source'}, 'name': 'yolo11n', 'imgsz': 320, 'epoch': 2},
               run / 'weights' / 'best_state.pth')
    (run / 'results.csv').write_text(RESULTS_CSV)
    (run / 'bench_val.jsonl').write_text(
        json.dumps({'epoch': 3, 'clips': 12, 'metrics': {'onset/acc_8': 25.0}}) + '\n')
    (run / 'run_meta.json').write_text(json.dumps({'finished': finished,
                                                   'early_stopped': finished}))
    return str(run), model


def _publish(run, zoo, name='yolo11n'):
    from projects.yolo_baselines.tools.publish_yolo import main
    return main([run, name, '--config', CONFIG, '--zoo', zoo, '--command', 'train it'])


def test_publish_writes_float16_file_and_manifest(tmp_path):
    from bleedorigin.utils.model_zoo import get_checkpoint, load_manifest
    from projects.yolo_baselines.yolo_baselines import YOLOBleedingDetector

    run, model = _fake_run(tmp_path)
    zoo = str(tmp_path / 'checkpoints')
    entry = _publish(run, zoo)
    manifest = load_manifest(zoo)
    assert manifest['yolo11n'] == entry
    assert entry['file'] == 'checkpoints/yolo11n.pth' and entry['imgsz'] == 320
    assert entry['epoch'] == 2 and entry['best_epoch'] == 2 and entry['epochs_run'] == 3
    assert entry['metrics']['val/mAP50'] == pytest.approx(0.25)
    assert entry['metrics']['val_clips/onset/acc_8'] == 25.0
    assert entry['stopped_by_patience'] is True and entry['command'] == 'train it'
    assert entry['config'] == 'projects/yolo_baselines/configs/yolo11n_cpu.py'
    assert osp.isfile(osp.join(zoo, 'logs', 'yolo11n.results.csv'))
    path = get_checkpoint('yolo11n', zoo)  # sha256 checked
    assert 4e6 < osp.getsize(path) < 6.5e6  # float16: about half of the float32 state
    state = torch.load(path, weights_only=True)
    assert set(state) == {'state_dict', 'meta'}  # the zoo's layout
    assert state['state_dict']['model.0.conv.weight'].dtype == torch.float16
    assert state['meta']['imgsz'] == 320 and state['meta']['name'] == 'yolo11n'

    # the shipped file predicts like the float32 model it came from
    detector = YOLOBleedingDetector(path)
    assert detector.method == 'YOLOv11-n' and detector.predictor.imgsz == 320
    assert next(detector.yolo.parameters()).dtype == torch.float32
    frames = np.random.default_rng(0).integers(0, 255, (2, 96, 128, 3), dtype=np.uint8)
    from projects.yolo_baselines.yolo_baselines.predictor import BestBoxPredictor
    conf32, _ = BestBoxPredictor(model.float().eval(), 320)(frames)
    conf16, _ = detector(frames)
    np.testing.assert_allclose(conf16, conf32, atol=2e-2)


def test_publish_a_model_trained_in_two_stages(tmp_path):
    """--previous: epochs and time over both stages, both stages' logs, the weights of the
    stage with the best validation mAP50 (the earlier one here)."""
    from projects.yolo_baselines.tools.publish_yolo import main

    first, _ = _fake_run(tmp_path / 'a')  # best mAP50 0.25 at epoch 2 of 3, 300 s
    second, _ = _fake_run(tmp_path / 'b')
    with open(osp.join(second, 'results.csv'), 'w') as f:
        f.write('epoch,metrics/mAP50(B),time\n1,0.10,60.0\n2,0.20,120.0\n')
    state = torch.load(osp.join(first, 'weights', 'best_state.pth'), weights_only=True)
    state['epoch'] = 1  # tell the two stages' weights apart
    torch.save(state, osp.join(first, 'weights', 'best_state.pth'))
    zoo = str(tmp_path / 'checkpoints')
    entry = main([second, 'yolo11n', '--config', CONFIG, '--zoo', zoo, '--command', 'a && b',
                  '--previous', first])
    assert entry['stages'] == 2 and entry['restarts_after_epoch'] == [3]
    assert entry['epochs_run'] == 5 and entry['best_epoch'] == 2
    assert entry['epoch'] == 1  # the first stage's weights, numbered within stage 1
    assert entry['metrics']['val/mAP50'] == pytest.approx(0.25)
    assert entry['training_time'] == '7 min (5 epochs)'  # 300 s + 120 s
    assert set(entry['logs']) == {'stage1.results.csv', 'stage1.bench_val.jsonl',
                                  'stage2.results.csv', 'stage2.bench_val.jsonl'}
    assert osp.isfile(osp.join(zoo, 'logs', 'yolo11n.stage2.results.csv'))


def test_publish_refuses_a_zoo_over_20_mb(tmp_path):
    run, _ = _fake_run(tmp_path)
    zoo = tmp_path / 'checkpoints'
    zoo.mkdir()
    with open(zoo / 'big.bin', 'wb') as f:
        f.truncate(17 * 2 ** 20)
    with pytest.raises(ValueError, match='20 MB'):
        _publish(str(run), str(zoo))
    assert not osp.exists(zoo / 'yolo11n.pth')
    assert [p for p in os.listdir(zoo) if p.startswith('.')] == []  # no temporary left


def test_publish_needs_best_state(tmp_path):
    with pytest.raises(FileNotFoundError, match='best_state.pth'):
        _publish(str(tmp_path), str(tmp_path / 'checkpoints'))


def test_benchmark_defaults_to_shipped_yolo(tmp_path, monkeypatch):
    run, _ = _fake_run(tmp_path)
    zoo = str(tmp_path / 'checkpoints')
    _publish(run, zoo)
    monkeypatch.setenv('BLEEDORIGIN_CHECKPOINTS', zoo)
    cli = load_tool('tools/benchmark.py')
    assert cli.yolo_weights(None) == [osp.join(zoo, 'yolo11n.pth')]  # yolo12n not shipped here
    assert cli.yolo_weights(['none']) == []
    assert cli.yolo_weights(['work_dirs/some_run']) == ['work_dirs/some_run']
    from bleedorigin.utils.model_zoo import ModelZooError
    with pytest.raises(ModelZooError, match='yolo12n'):
        cli.yolo_weights(['yolo12n'])
