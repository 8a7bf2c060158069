"""bleedorigin.apis.onset_timing and tools/analysis_tools/onset_timing_probe.py."""
import json
import math

import numpy as np
import pytest
from tiny_models import ALWAYS_FIRING, default_detector_on_tiny_data
from tool_loader import load_tool

from bleedorigin.apis.onset_timing import (
    APPEARANCE,
    format_timing_table,
    resolve_looks,
    retime,
    timing_rows,
)

TOOL = 'tools/analysis_tools/onset_timing_probe.py'


def test_retime_hand_computed():
    assert retime(150, 100) == (0, 150)
    assert retime(150, 100, lead=5) == (95, 150)  # the onset is frame 5 of the stream
    assert retime(150, 3, lead=5) == (0, 150)  # not enough frames before: all of them
    assert retime(150, 100, tail=10) == (0, 110)  # onset frame + 9 more
    assert retime(150, 145, tail=10) == (0, 150)
    with pytest.raises(ValueError, match='outside a clip of 150 frames'):
        retime(150, 150)
    with pytest.raises(ValueError, match='not both'):
        retime(150, 100, lead=5, tail=10)
    with pytest.raises(ValueError, match='lead must be >= 0 and tail >= 1'):
        retime(150, 100, tail=0)


def test_timing_rows_hand_computed():
    records = {'as rendered': [
        dict(clip='a', frames=100, gt=40, pred=40),  # exact
        dict(clip='b', frames=100, gt=40, pred=45),  # within 8
        dict(clip='c', frames=70, gt=10, pred=None),  # a miss with a window
        dict(clip='d', frames=30, gt=10, pred=None),  # shorter than N: no window
    ]}
    row = timing_rows(records, window_size=60)[0]
    assert row['clips'] == 4 and row['miss'] == 2 and row['short'] == 1
    assert (row['acc_0'], row['acc_1'], row['acc_8']) == (25.0, 25.0, 50.0)
    assert row['long_clips'] == 3 and row['long_miss'] == 1
    assert row['long_acc_0'] == pytest.approx(100 / 3)
    assert row['long_acc_8'] == pytest.approx(200 / 3)
    empty = timing_rows({'x': [dict(clip='d', frames=30, gt=10, pred=None)]}, 60)[0]
    assert empty['long_clips'] == 0 and math.isnan(empty['long_acc_0'])
    table = format_timing_table([row], 60)
    assert '| as rendered | 4 | 25.00 | 25.00 | 50.00 | 2 | 1 | 33.33 / 33.33 / 66.67 (3) | 1 |' \
        in table


def test_appearance_changes_hand_checked():
    frame = np.full((200, 300, 3), (200, 60, 50), np.uint8)  # red mucosa
    frame[50:100, 50:100] = (60, 60, 60)  # blur sigma: 1.5 px
    for name, change in APPEARANCE.items():
        out = change(frame, 0)
        assert out.shape == frame.shape and out.dtype == np.uint8, name
        assert not np.array_equal(out, frame), name
    # gamma: a grey level through 255 * (v / 255) ** gamma
    assert APPEARANCE['gamma1.6'](frame, 0)[0, 0, 0] == round(255 * (200 / 255) ** 1.6)
    # a hue turn keeps a grey pixel grey and moves the red one
    turned = APPEARANCE['hue+8'](frame, 0)
    assert tuple(turned[70, 70]) == (60, 60, 60) and tuple(turned[0, 0]) != (200, 60, 50)
    # the noise of a frame index is the same in every run, another index gets another
    noise = APPEARANCE['noise8']
    assert np.array_equal(noise(frame, 3), noise(frame, 3))
    assert not np.array_equal(noise(frame, 3), noise(frame, 4))
    # names: 'all' is every look, in the table's order; an unknown one is named
    assert resolve_looks(['all']) == list(APPEARANCE)
    assert resolve_looks(['jpeg20', 'hue-8']) == ['jpeg20', 'hue-8']
    with pytest.raises(KeyError, match=r"unknown \['sepia'\]"):
        resolve_looks(['hue+8', 'sepia'])


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return default_detector_on_tiny_data(tmp_path_factory.mktemp('timing'), ALWAYS_FIRING)


def test_probe_streams_each_variant(tiny, tmp_path, capsys):
    from bleedorigin.datasets.bench import BenchIndex
    root, ckpt, config = tiny
    out = tmp_path / 'timing.json'
    rows = load_tool(TOOL).main([config, ckpt, '--data-root', root, '--split', 'train',
                                 '--lead', '2', '--tail', '3', '20', '--look', 'jpeg20',
                                 '--out', str(out)])
    printed = capsys.readouterr().out
    clips = [c for c in BenchIndex(root, 'train').clips if c.onset_frame is not None]
    names = ['as rendered', 'onset 2 frames after the start',
             'stream ends 3 frames after the onset', 'stream ends 20 frames after the onset',
             'look: jpeg20']
    assert [r['variant'] for r in rows] == names
    saved = json.loads(out.read_text())
    for name, (lead, tail) in zip(names, [(None, None), (2, None), (None, 3), (None, 20),
                                          (None, None)]):
        records = saved['clips'][name]
        assert len(records) == len(clips)
        for clip, rec in zip(clips, records):
            start, stop = retime(clip.num_frames, clip.onset_frame, lead, tail)
            assert rec['frames'] == stop - start and rec['gt'] == clip.onset_frame - start
            # every window fires (N = 8): a stream of N frames or more has an onset,
            # a shorter one has no window and none
            assert (rec['pred'] is not None) == (rec['frames'] >= 8)
    assert saved['rows'] == json.loads(json.dumps(rows))
    assert '| onset 2 frames after the start |' in printed


def test_bad_arguments_are_named(tiny, tmp_path):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    with pytest.raises(SystemExit, match='splits.json missing'):
        tool.main([config, ckpt, '--data-root', str(tmp_path)])
    with pytest.raises(SystemExit, match='--lead must be >= 0 and --tail >= 1'):
        tool.main([config, ckpt, '--data-root', root, '--tail', '0'])
    with pytest.raises(SystemExit, match=r"--look: unknown \['sepia'\]"):
        tool.main([config, ckpt, '--data-root', root, '--look', 'sepia'])
    with pytest.raises(SystemExit, match='no clip with an onset'):
        tool.main([config, ckpt, '--data-root', root, '--split', 'test'])


def test_yolo_baselines_stream_the_same_variants(tiny, tmp_path, capsys, monkeypatch):
    """--yolo: one more table per baseline, its onset from the streamed alarm gate K."""
    from bleedorigin.datasets.bench import BenchIndex
    yolo = pytest.importorskip('projects.yolo_baselines.yolo_baselines')
    from projects.yolo_baselines.yolo_baselines.onset import OnsetGate

    class FakeYOLO:
        """Every frame's best box at confidence 0.5 (no weights read)."""
        method = 'YOLOv11-n'

        def __init__(self, weights, onset_threshold, onset_run):
            self.gate = OnsetGate(onset_threshold, onset_run)

        def reset_stream(self):
            self.gate.reset()

        def stream_step(self, frame):
            return {'onset_frame': self.gate.step(0.5), 'confidence': 0.5}

    monkeypatch.setattr(yolo, 'YOLOBleedingDetector', FakeYOLO)
    root, ckpt, config = tiny
    weights = tmp_path / 'yolo11n.pth'
    weights.write_bytes(b'')
    out = tmp_path / 'timing.json'
    rows = load_tool(TOOL).main([config, ckpt, '--data-root', root, '--split', 'train',
                                 '--lead', '0', '--tail', '2', '--yolo', f'{weights}:0.25:3',
                                 f'{weights}:0.6:1', '--out', str(out)])
    printed = capsys.readouterr().out
    saved = json.loads(out.read_text())
    assert saved['rows'] == json.loads(json.dumps(rows))  # ours, as without --yolo
    assert list(saved['baselines']) == ['YOLOv11-n at 0.25, K = 3', 'YOLOv11-n at 0.6, K = 1']
    fires, never = saved['baselines'].values()
    assert (fires['threshold'], fires['run'], fires['weights']) == (0.25, 3, str(weights))
    n = len([c for c in BenchIndex(root, 'train').clips if c.onset_frame is not None])
    for name, records in fires['clips'].items():
        assert len(records) == n and list(saved['clips']) == list(fires['clips'])
        # above 0.25 from the first frame: onset 0 once three frames were seen
        assert all(r['pred'] == (0 if r['frames'] >= 3 else None) for r in records)
        assert all(r['pred'] is None for r in never['clips'][name])
    assert [r['miss'] for r in never['rows']] == [n] * len(never['rows'])
    assert printed.count('| as rendered |') == 3 and 'YOLOv11-n at 0.6, K = 1:' in printed


def test_bad_yolo_settings_are_named(tiny, tmp_path):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    with pytest.raises(SystemExit, match=r"--yolo: expected WEIGHTS:THRESHOLD:K, got 'w.pth'"):
        tool.main([config, ckpt, '--data-root', root, '--yolo', 'w.pth'])
    with pytest.raises(SystemExit, match=r'a threshold in \[0, 1\) and K >= 1'):
        tool.main([config, ckpt, '--data-root', root, '--yolo', 'w.pth:0.25:0'])
    with pytest.raises(SystemExit, match='missing.pth not found'):
        tool.main([config, ckpt, '--data-root', root, '--yolo',
                   f'{tmp_path}/missing.pth:0.25:3'])
