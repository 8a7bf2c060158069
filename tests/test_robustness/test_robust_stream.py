"""The streaming pipeline survives hostile frames and stalls; the soak tool (issue 14)."""
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from robust_helpers import REPO
from tool_loader import load_tool

sys.path.insert(0, osp.join(REPO, 'tests', 'test_apis'))
from pipeline_fixtures import build_models, stream_frames  # noqa: E402


@pytest.fixture(scope='module')
def net():
    from bleedorigin.apis import BleedOriginNet

    detector, tracker = build_models()
    return BleedOriginNet(detector, tracker, mode='evaluation', evaluation_detector='until_onset')


def test_hostile_frames_are_counted_and_state_kept(net):
    frames = stream_frames(24, onset=8)
    hostile = {
        3: None,                                          # undecodable
        5: np.zeros((48, 64, 3), np.uint8),               # black
        10: cv2.resize(frames[10], (32, 24)),             # resolution switch
        12: frames[12].astype(np.float32),                # wrong dtype
        14: np.zeros((48, 64, 5), np.uint8),              # wrong channel count
        16: cv2.cvtColor(frames[16], cv2.COLOR_RGB2GRAY),  # grey: converted
        18: np.zeros((1, 64, 3), np.uint8),               # empty frame
    }
    net.reset()
    net.set_ground_truth(8, [[40.0, 24.0]])
    results = [net.step(hostile.get(t, frame)) for t, frame in enumerate(frames)]
    summary = net.summary()
    assert [r.status for r in results[:6]] == ['ok', 'ok', 'ok', 'dropped', 'ok', 'black']
    assert (summary['dropped_frames'], summary['black_frames'], summary['resized_frames'],
            summary['converted_frames'], summary['model_errors']) == (4, 1, 1, 1, 0)
    assert summary['processed_frames'] == 24 - 5
    assert summary['alert_frame'] == 8 and summary['onset_frame'] == 8
    assert summary['tracker_frames'] == 15 - 3  # frames 9..23 less the three dropped ones
    assert results[-1].points.shape == (1, 2) and np.isfinite(results[-1].points).all()


def test_demo_on_a_folder_with_corrupt_and_resized_frames(tmp_path, capsys):
    folder = tmp_path / 'frames'
    folder.mkdir()
    for t, frame in enumerate(stream_frames(10, onset=4)):
        if t == 6:
            frame = cv2.resize(frame, (80, 60))
        cv2.imwrite(str(folder / f'{t:06d}.png'), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (folder / '000003.png').write_bytes(b'\x89PNG\r\n\x1a\n' + os.urandom(64))  # corrupt
    out = tmp_path / 'records.json'
    summary = load_tool('tools/demo.py').main([
        str(folder), '--json', str(out), '--no-progress', '--threads', '1', '--mode',
        'evaluation', '--gt-onset', '4', '--gt-point', '40', '24', '--random-weights'])
    assert summary['frames'] == 10 and summary['model_errors'] == 0
    assert (summary['dropped_frames'], summary['resized_frames']) == (1, 1)
    assert summary['source']['undecodable_frames'] == 1
    records = json.loads(out.read_text())
    assert len(records['frames']) == 10 and records['frames'][3]['status'] == 'dropped'
    assert not osp.exists(str(out) + '.part')


def test_soak_tool_counts_every_injected_fault(tmp_path, capsys):
    out = tmp_path / 'soak.json'
    report = load_tool('tools/analysis_tools/soak_pipeline.py').main([
        '--frames', '90', '--segments', '3', '--size', '64', '48', '--fault-rate', '0.25',
        '--stalls', '1', '--stall-seconds', '0.6', '--stall-threshold', '0.4',
        '--out', str(out)])
    printed = capsys.readouterr().out
    assert report['consistent'], report['problems']
    injected, counted = report['faults_injected'], report['faults_counted']
    assert all(injected.get(kind, 0) > 0 for kind in ('dropped', 'corrupt', 'black', 'resized'))
    assert counted['dropped+corrupt'] == injected.get('dropped', 0) + injected.get('corrupt', 0)
    assert counted['black'] == injected.get('black', 0)
    assert counted['resized'] == injected.get('resized', 0)
    assert counted['stall'] == injected['stall'] == 1
    assert counted['model_errors'] == 0
    assert report['processed_frames'] == 90 - counted['dropped+corrupt'] - counted['black']
    assert 'random weights' in printed and 'consistent' in printed
    assert json.loads(out.read_text())['frames'] == 90
