"""tools/analysis_tools/full_clip_eval.py on a tiny hand-written bench tree."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from pipeline_fixtures import REPO, TEST_WINDOW, stream_frames
from tool_loader import load_tool

from bleedorigin.datasets.bench_writer import (
    atomic_clip_dir,
    write_clip_json,
    write_dense_gt,
    write_labelme,
    write_splits,
)

ONSET = 8
NUM_FRAMES = 24
SOURCE = (40.0, 24.0)


def _write_clip(root, patient, clip_id, num_frames, onset):
    frames = stream_frames(num_frames, onset=onset)
    with atomic_clip_dir(root, patient, clip_id) as clip_dir:
        os.makedirs(osp.join(clip_dir, 'frames'))
        for t, frame in enumerate(frames):
            cv2.imwrite(osp.join(clip_dir, 'frames', f'{t:06d}.png'),
                        cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        write_clip_json(clip_dir, dict(
            clip_id=clip_id, patient_id=patient, fps=25, num_frames=num_frames, width=64,
            height=48, video='frames', onset_frame=onset, site='gastric_antrum',
            scenarios=['clear_view'], annotation_stride=10, source='test'))
        if onset is not None:
            os.makedirs(osp.join(clip_dir, 'annotations'))
            write_labelme(osp.join(clip_dir, 'annotations', f'{onset:06d}.json'),
                          [(0, *SOURCE)], 64, 48, f'../frames/{onset:06d}.png')
            write_dense_gt(clip_dir, dict(
                sources=[dict(group_id=0,
                              points=[None] * onset + [list(SOURCE)] * (num_frames - onset),
                              visible=[False] * onset + [True] * (num_frames - onset))],
                bleeding=[False] * onset + [True] * (num_frames - onset)))


@pytest.fixture()
def tree(tmp_path):
    root = str(tmp_path / 'bench')
    write_splits(root, dict(train=['P1'], val=['P2'], test=['P3']))
    _write_clip(root, 'P3', 'P3_C1', NUM_FRAMES, ONSET)
    _write_clip(root, 'P3', 'P3_C2', 10, None)  # negative clip
    return root


def test_full_clip_eval_latency_false_alarms_and_policies(tree, tmp_path):
    tool = load_tool('tools/analysis_tools/full_clip_eval.py')
    detect_cfg = tmp_path / 'detect_small.py'
    detect_cfg.write_text(f"_base_ = ['{REPO}/configs/bleedorigin/detect.py']\n"
                          f"model = dict(onset_head=dict(window_size={TEST_WINDOW}), "
                          # random detector weights: the refiner, which would move the
                          # onset by what it sees at a random source point, is left out
                          # (test_bleedorigin_net covers the deployment path with it)
                          "conf_thr=0.0, onset_refiner=None, "
                          "onset_refiner_checkpoint=None)\n")
    out_dir = tmp_path / 'eval'
    report = tool.main([
        '--data-root', tree, '--split', 'test', '--detect-config', str(detect_cfg),
        '--track-config', f'{REPO}/configs/bleedorigin/track.py', '--out-dir', str(out_dir),
        '--policies', 'none', 'fixed5', '--long-clips', '1', '--threads', '1'])
    saved = json.loads((out_dir / 'full_clip_eval.json').read_text())
    assert saved['deployment']['alert_latency'] == report['deployment']['alert_latency']
    latency = saved['deployment']['alert_latency']
    # the untrained detector (threshold 0) fires at its first full window: frame 5
    assert latency['clips'] == 1 and latency['alerts'] == 1
    assert latency['median'] == TEST_WINDOW - 1 - ONSET and latency['early_alerts'] == 1
    assert saved['deployment']['false_alarms'] == 1 and saved['deployment']['negative_clips'] == 1
    clip = saved['deployment']['clips'][0]
    errors = np.array([np.nan if e is None else e for e in clip['track_errors']])
    assert np.isnan(errors[:ONSET]).all() and np.isfinite(errors[ONSET:]).all()
    # the early alert leaves no frame with ground truth unpredicted: no miss, and every
    # scored frame is after the alert
    assert clip['track_misses'] == 0
    track, after = saved['deployment']['track'], saved['deployment']['track_after_alert']
    assert track == after and track['frames'] == NUM_FRAMES - ONSET and track['miss_rate'] == 0
    assert saved['metrics']['track_dense/deployment_after_alert/err_avg'] == after['err_avg']
    policies = saved['policies']
    tracked = NUM_FRAMES - ONSET - 1
    assert policies['none']['refreshes'] == [0]
    assert policies['fixed5']['refreshes'] == [tracked // 5]
    for name in ('none', 'fixed5'):
        accuracy = policies[name]['accuracy']
        assert 0 <= accuracy['err_le_100'] <= 100 and accuracy['err_avg'] >= 0
        assert len(policies[name]['mean_curve']) == NUM_FRAMES - ONSET
        assert policies[name]['mean_curve'][0] is None  # the given start frame
    assert saved['metrics']['track_dense/refresh_fixed5/err_avg'] == \
        policies['fixed5']['accuracy']['err_avg']
    assert (out_dir / 'refresh_policies.png').read_bytes()[:4] == b'\x89PNG'
    assert (out_dir / 'deployment_clips_P3_P3_C1.png').exists()


def test_policy_comparison_is_the_evaluation_mode_pipeline(tree, tmp_path):
    """track_refresh_policies (StreamTrackers run by run_trackers_on_clip) gives the
    errors and refresh counts of BleedOriginNet in evaluation mode, frame for frame."""
    from bleedorigin.apis import (
        BleedOriginNet,
        VideoSource,
        build_stream_detector,
        build_stream_tracker,
        frame_track_errors,
        stream_clip,
        track_refresh_policies,
    )
    from bleedorigin.datasets.bench import BenchIndex

    detect_cfg = tmp_path / 'detect_small.py'
    detect_cfg.write_text(f"_base_ = ['{REPO}/configs/bleedorigin/detect.py']\n"
                          f"model = dict(onset_head=dict(window_size={TEST_WINDOW}))\n")
    detector = build_stream_detector(str(detect_cfg), None)
    tracker = build_stream_tracker(f'{REPO}/configs/bleedorigin/track.py', None)
    clip = next(c for c in BenchIndex(tree, split='test').clips if c.onset_frame is not None)
    policies = ['none', 'fixed5', 'adaptive']
    ours = track_refresh_policies(tracker, clip, policies)
    assert list(ours) == policies
    dense = clip.dense_tracks([0])
    for policy in policies:
        net = BleedOriginNet(detector, tracker, mode='evaluation', refresh_policy=policy,
                             evaluation_detector='off')
        net.set_ground_truth(clip.onset_frame, np.array([SOURCE], np.float32))
        outputs = stream_clip(net, VideoSource(osp.join(clip.clip_dir, 'frames')),
                              clip.num_frames)
        errors = frame_track_errors(outputs['points'], dense['points'], dense['visible'])
        errors[:clip.onset_frame + 1] = np.nan
        np.testing.assert_array_equal(ours[policy]['errors'], errors)
        assert ours[policy]['refreshes'] == outputs['summary']['refreshes']
        assert ours[policy]['fps'] > 0
    assert ours['fixed5']['refreshes'] == (NUM_FRAMES - ONSET - 1) // 5
    negative = next(c for c in BenchIndex(tree, split='test').clips if c.onset_frame is None)
    with pytest.raises(ValueError, match='needs an onset'):
        track_refresh_policies(tracker, negative, policies)
