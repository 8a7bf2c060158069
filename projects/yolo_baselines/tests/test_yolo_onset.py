import numpy as np
import pytest

from projects.yolo_baselines.yolo_baselines.evaluation import render_confidence_tables, yolo_metrics
from projects.yolo_baselines.yolo_baselines.onset import (
    OnsetGate,
    first_frame_above,
    source_at_frame,
)


def test_first_frame_above_is_strict_and_handles_no_alarm():
    conf = [0.0, 0.05, 0.10, 0.3, 0.02]
    assert first_frame_above(conf, 0.01) == 1
    assert first_frame_above(conf, 0.10) == 3  # 0.10 is not above 0.10
    assert first_frame_above(conf, 0.5) is None
    with pytest.raises(ValueError, match='threshold'):
        first_frame_above(conf, 1.0)


def test_first_frame_above_with_an_alarm_gate():
    conf = [0.3, 0.0, 0.3, 0.3, 0.0, 0.3, 0.3, 0.3, 0.0]
    assert first_frame_above(conf, 0.1, run=1) == 0
    assert first_frame_above(conf, 0.1, run=2) == 2  # the first run of two
    assert first_frame_above(conf, 0.1, run=3) == 5
    assert first_frame_above(conf, 0.1, run=4) is None
    assert first_frame_above(conf[:2], 0.1, run=3) is None  # shorter than the run
    with pytest.raises(ValueError, match='run must be >= 1'):
        first_frame_above(conf, 0.1, run=0)


def test_onset_gate_streams_what_first_frame_above_finds_on_every_prefix():
    conf = [0.3, 0.0, 0.3, 0.3, 0.0, 0.3, 0.3, 0.3, 0.0]
    gate = OnsetGate(0.1, run=3)
    # hand-checked: the first run of three starts at frame 5 and is known at frame 7
    assert [gate.step(c) for c in conf] == [None] * 7 + [5, 5]
    gate.reset()
    assert gate.index == -1 and gate.step(0.3) is None and gate.index == 0
    rng = np.random.default_rng(0)
    for _ in range(50):
        seq = rng.random(int(rng.integers(1, 30))).round(1)
        threshold, run = float(rng.choice([0.0, 0.3, 0.5])), int(rng.integers(1, 5))
        gate = OnsetGate(threshold, run)
        for t, c in enumerate(seq):
            assert gate.step(c) == first_frame_above(seq[:t + 1], threshold, run)
    with pytest.raises(ValueError, match='run must be >= 1'):
        OnsetGate(0.1, run=0)
    with pytest.raises(ValueError, match=r'threshold must be in \[0, 1\)'):
        OnsetGate(1.0)


def test_source_at_frame():
    assert source_at_frame(0.3, (10.0, 20.0), 0.25) == (10.0, 20.0)
    assert source_at_frame(0.2, (10.0, 20.0), 0.25) is None


def test_yolo_metrics_against_hand_computed(tiny_bench):
    from bleedorigin.datasets.bench import BenchIndex

    clips = BenchIndex(tiny_bench).clips  # P1_C1 (3), P1_C2 (neg), P2_C1 (5), P3_C1 (4), ...
    by_id = {c.clip_id: c for c in clips}
    order = ['P1_C1', 'P1_C2', 'P2_C1', 'P3_C1']
    clips = [by_id[i] for i in order]
    conf = {
        'P1_C1': [0.0, 0.0, 0.0, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0],  # onset 3 at any threshold
        'P1_C2': [0.0] * 11 + [0.05],  # false alarm only at 0.01
        'P2_C1': [0.0, 0.02, 0, 0, 0, 0.05, 0.3, 0, 0, 0, 0, 0],  # 1 @0.01, 5 @0.03, 6 @0.25
        'P3_C1': [0.0] * 12,  # never fires: a miss
    }
    centres = {k: np.tile(np.array([[0.0, 0.0]], np.float32), (12, 1)) for k in order}
    centres['P1_C1'][3] = (60.0 + 3.0, 30.0 + 4.0)  # 5 px from the source (60, 30)
    centres['P2_C1'][5] = (30.0, 50.0 + 30.0)  # 30 px from (30, 50)
    detections = [{'confidences': np.asarray(conf[k], np.float32), 'centres': centres[k]}
                  for k in order]
    m = yolo_metrics('YOLOv11-n', clips, detections, thresholds=(0.25, 0.01),
                     table_threshold=0.01, runs=(1, 2, 3))
    # threshold 0.01: onsets 3 (gt 3), 1 (gt 5), None (gt 4) -> acc_0 1/3, acc_4 2/3
    assert m['onset/YOLOv11-n/acc_0'] == pytest.approx(100 / 3)
    assert m['onset/YOLOv11-n/acc_4'] == pytest.approx(200 / 3)
    assert m['onset/YOLOv11-n/false_alarm_rate'] == pytest.approx(100.0)
    assert m['onset/YOLOv11-n/miss_rate'] == pytest.approx(100 / 3)
    # miss error = distance to the clip end: |12 - 4| = 8; mean(|0|, |4|, 8) = 4
    assert m['onset/YOLOv11-n/err_avg'] == pytest.approx(4.0)
    # threshold 0.25: onsets 3, 6, None; P2_C1 source at frame 5 has 0.05 < 0.25 -> missed
    assert m['yolo_onset/YOLOv11-n/c0.25_acc_1'] == pytest.approx(200 / 3)
    assert m['yolo_onset/YOLOv11-n/c0.25_false_alarm_rate'] == 0.0
    # sources at 0.01: 5 px, 30 px, P3_C1 0.0 conf -> miss
    assert m['source/YOLOv11-n/err_le_10'] == pytest.approx(100 / 3)
    assert m['source/YOLOv11-n/err_le_50'] == pytest.approx(200 / 3)
    assert m['source/YOLOv11-n/miss_rate'] == pytest.approx(100 / 3)
    assert m['yolo_source/YOLOv11-n/c0.25_err_le_100'] == pytest.approx(100 / 3)
    # alarm gate K = 3 at 0.01: P1_C1 has a run of two only (miss), P1_C2 one frame (no
    # false alarm), P2_C1 never three in a row (miss), P3_C1 a miss
    assert m['yolo_gate/YOLOv11-n@k3/c0.01_miss_rate'] == pytest.approx(100.0)
    assert m['yolo_gate/YOLOv11-n@k3/c0.01_false_alarm_rate'] == 0.0
    # K = 2 at 0.01: P1_C1 onset 3 (exact), P2_C1 first run of two at 5 (exact)
    assert m['yolo_gate/YOLOv11-n@k2/c0.01_acc_0'] == pytest.approx(200 / 3)
    assert m['yolo_gate/YOLOv11-n@k2/c0.01_false_alarm_rate'] == 0.0
    tables = render_confidence_tables(m, thresholds=(0.25, 0.01))
    assert 'Table 5' in tables and 'Table 6' in tables and '| YOLOv11-n |' in tables
    assert 'Table 5b' in tables and '| YOLOv11-n@k3 |' in tables and '| YOLOv11-n@k1 |' in tables
    with pytest.raises(ValueError, match='must not contain'):
        yolo_metrics('a/b', clips, detections)
