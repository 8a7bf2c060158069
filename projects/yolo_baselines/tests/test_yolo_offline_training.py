"""The YOLO path end to end with the network cut: dataset -> 1 epoch -> detector."""
import json
import os.path as osp
import socket
import urllib.request

import numpy as np
import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Record and refuse every network access (sockets, urllib, requests)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[:2])
        raise OSError('network access refused by the test')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket.socket, 'connect_ex', refuse)
    monkeypatch.setattr(socket, 'getaddrinfo', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)
    monkeypatch.setattr(urllib.request, 'urlopen', refuse)
    try:
        import requests
        monkeypatch.setattr(requests.Session, 'request', refuse)
    except ImportError:
        pass
    return attempts


def test_download_helpers_are_blocked(no_network, tmp_path):
    from projects.yolo_baselines.yolo_baselines.offline import (
        OfflineDownloadError,
        import_ultralytics,
    )
    from projects.yolo_baselines.yolo_baselines.train import resolve_model

    import_ultralytics()
    from ultralytics.utils import SETTINGS, downloads
    from ultralytics.utils.checks import check_font

    with pytest.raises(OfflineDownloadError, match='yolo11n.pt'):
        downloads.attempt_download_asset('yolo11n.pt')
    with pytest.raises(OfflineDownloadError):
        downloads.safe_download(url='https://example.com/Arial.ttf', file=str(tmp_path / 'x'))
    assert osp.isfile(str(check_font('Arial.ttf')))  # a local font, not a download
    assert SETTINGS['sync'] is False
    with pytest.raises(FileNotFoundError, match='must be a local file'):
        resolve_model('yolo11n.pt')
    assert resolve_model('yolo11n.yaml') == 'yolo11n.yaml'
    assert no_network == []


def test_one_epoch_training_offline_then_detect(no_network, tiny_bench, tmp_path):
    from bleedorigin.datasets.bench import BenchIndex
    from bleedorigin.registry import MODELS
    from projects.yolo_baselines.yolo_baselines import (
        AdapterParams,
        build_yolo_dataset,
        collect_detections,
        train_yolo,
        yolo_metrics,
    )

    data_yaml = build_yolo_dataset(tiny_bench, str(tmp_path / 'cache'),
                                   AdapterParams(box_size=16, negatives_per_clip=1))
    run_dir = train_yolo('yolo11n.yaml', data_yaml, str(tmp_path / 'runs'), 'tiny', epochs=1,
                         imgsz=64, batch=4, extra_args={'val': False})
    assert no_network == [], f'network access attempted: {no_network}'
    with open(osp.join(run_dir, 'run_meta.json')) as f:
        meta = json.load(f)
    assert meta['method'] == 'YOLOv11-n' and meta['epochs'] == 1
    assert osp.isfile(osp.join(run_dir, 'weights', 'best_state.pth'))

    detector = MODELS.build({'type': 'YOLOBleedingDetector', 'weights': run_dir, 'imgsz': 64})
    clips = BenchIndex(tiny_bench, split='test').clips
    detections = collect_detections(detector, clips)
    for clip, det in zip(clips, detections):
        assert det['confidences'].shape == (clip.num_frames, )
        assert det['centres'].shape == (clip.num_frames, 2)
        assert ((det['confidences'] >= 0) & (det['confidences'] <= 1)).all()
        assert (det['centres'][:, 0] <= clip.width).all()
    metrics = yolo_metrics(detector.method, clips, detections)
    assert 0 <= metrics['onset/YOLOv11-n/acc_8'] <= 100
    assert 'source/YOLOv11-n/err_avg' in metrics

    # streaming interface: frame counter, onset once confidence > threshold, bounded state
    frames = clips[0].load_frames()
    detector.onset_threshold = 0.0
    detector.reset_stream()
    out = [detector.stream_step(f) for f in frames[:3]]
    assert [o['frame_index'] for o in out] == [0, 1, 2]
    assert out[0]['onset_frame'] == 0  # any detection is above 0
    # the alarm gate K = 2: the same onset, known one frame later
    detector.onset_run = 2
    assert detector.onset_threshold == 0.0
    out = [detector.stream_step(f) for f in frames[:3]]
    assert [o['onset_frame'] for o in out] == [None, 0, 0]
    assert detector.onset_from_confidences([0.2, 0.0, 0.3, 0.4]) == 2
    with pytest.raises(ValueError, match='run must be >= 1'):
        detector.onset_run = 0
    x, y, score = detector.locate_source(frames[-1])
    assert 0 <= x <= clips[0].width and 0 <= y <= clips[0].height and 0 <= score <= 1
    with pytest.raises(ValueError, match='uint8'):
        detector(np.zeros((1, 8, 8, 3), np.float32))
    assert no_network == []
