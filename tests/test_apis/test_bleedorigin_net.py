import numpy as np
import pytest
import torch
from pipeline_fixtures import TEST_WINDOW, stream_frames

from bleedorigin.apis import BleedOriginNet, FixedIntervalRefresh


def test_deployment_alert_locates_source_and_catches_up(models):
    detector, tracker = models
    net = BleedOriginNet(detector, tracker, mode='deployment', refresh_policy='none')
    frames = stream_frames(TEST_WINDOW + 6, onset=2)
    results = [net.step(f) for f in frames]
    alert = TEST_WINDOW - 1  # the first full window fires (S_conf threshold 0)
    assert [r.state for r in results[:alert]] == ['non_bleeding'] * alert
    assert all(r.state == 'bleeding' for r in results[alert:])
    fired = results[alert]
    assert fired.alert_frame == alert and 0 <= fired.onset_frame <= alert
    assert fired.detected_onset_frame == fired.onset_frame
    x, y = fired.source_point
    assert 0 <= x < 64 and 0 <= y < 48
    # tracker started in the onset frame and caught up to the alert frame
    assert fired.points.shape == (1, 2) and fired.confidence.shape == (1, )
    summary = net.summary()
    assert summary['tracker_frames'] == len(frames) - 1 - fired.onset_frame
    # the detector stops after the alert: tracking only
    assert summary['detector_frames'] == TEST_WINDOW
    assert summary['frames'] == summary['processed_frames'] == len(frames)
    assert len(net._recent) == 0  # the pre-alert frame buffer is released
    assert results[-1].points.shape == (1, 2) and np.isfinite(results[-1].points).all()
    assert set(fired.latency_ms) >= {'guard', 'detect', 'locate', 'track', 'total'}


def test_faults_are_skipped_counted_and_state_kept(models):
    detector, tracker = models
    net = BleedOriginNet(detector, tracker, refresh_policy='none')
    frames = stream_frames(TEST_WINDOW + 8, onset=2)
    stream = list(frames)
    stream[1] = None                                          # undecodable
    stream[3] = np.zeros_like(frames[3])                      # black
    stream[4] = np.ascontiguousarray(np.repeat(np.repeat(frames[4], 2, 0), 2, 1))  # 2x size
    stream[TEST_WINDOW + 4] = None                            # drop while tracking
    stream.append(np.zeros((5, 5), np.float32))               # garbage
    results = [net.step(f) for f in stream]
    statuses = [r.status for r in results]
    assert statuses[1] == 'dropped' and statuses[3] == 'black' and statuses[4] == 'resized'
    # two frames were skipped before the window filled, so the alert comes two frames later
    alert = TEST_WINDOW - 1 + 2
    assert results[alert].alert_frame == alert
    assert results[alert].onset_frame not in (1, 3)          # onset maps to a frame it saw
    dropped = results[TEST_WINDOW + 4]
    before = results[TEST_WINDOW + 3]
    assert dropped.state == 'bleeding' and np.allclose(dropped.points, before.points)
    summary = net.summary()
    assert summary['dropped_frames'] == 3 and summary['black_frames'] == 1
    assert summary['resized_frames'] == 1 and summary['model_errors'] == 0
    assert summary['frames'] == len(stream)
    assert summary['processed_frames'] == len(stream) - 4


def test_stream_ending_mid_window_and_bounded_buffer(models):
    detector, tracker = models
    net = BleedOriginNet(detector, tracker, frame_buffer_size=3)
    assert net.frame_buffer_size == TEST_WINDOW + 1  # never shorter than the onset window
    net.frame_buffer_size = 3
    net.reset()
    results = [net.step(f) for f in stream_frames(TEST_WINDOW - 2)]
    assert all(r.state == 'non_bleeding' and r.onset_frame is None for r in results)
    summary = net.summary()
    assert summary['ended_mid_window'] and summary['onset_frame'] is None
    assert len(net._recent) == 3
    net.reset()
    assert net.summary()['frames'] == 0


def test_evaluation_mode_injects_ground_truth(models):
    detector, tracker = models
    interval = tracker.refresh_interval
    net = BleedOriginNet(detector, tracker, mode='evaluation',
                         refresh_policy=FixedIntervalRefresh(3), evaluation_detector='off')
    # the policy is passed to the pipeline's StreamTracker; the model is not touched
    assert tracker.refresh_interval == interval and net.refresh_policy.interval == 3
    net.set_ground_truth(4, [[40.0, 24.0]])
    stream = stream_frames(12, onset=4)
    stream[4] = None  # the true onset frame itself is undecodable
    results = [net.step(f) for f in stream]
    assert [r.state for r in results[:5]] == ['non_bleeding'] * 5
    started = results[5]
    assert started.state == 'bleeding' and started.onset_frame == 4
    assert started.alert_frame == 5
    assert np.allclose(started.points, [[40.0, 24.0]])
    assert started.source_point is not None  # the source branch is still assessed
    summary = net.summary()
    assert summary['detector_frames'] == 0 and summary['tracker_frames'] == 6
    assert summary['refreshes'] == 2 and [r.refreshed for r in results].count(True) == 2
    with pytest.raises(ValueError, match='at least one source point'):
        net.set_ground_truth(3, np.zeros((0, 2)))
    deploy = BleedOriginNet(detector, tracker)
    with pytest.raises(RuntimeError, match='mode="evaluation"'):
        deploy.set_ground_truth(3, [[1.0, 2.0]])


def test_evaluation_mode_reports_detector_onset_independently(models):
    detector, tracker = models
    net = BleedOriginNet(detector, tracker, mode='evaluation', refresh_policy='none')
    net.set_ground_truth(2, [[40.0, 24.0]])
    results = [net.step(f) for f in stream_frames(TEST_WINDOW + 2, onset=2)]
    assert results[2].state == 'bleeding' and results[2].onset_frame == 2
    assert results[TEST_WINDOW - 1].detected_onset_frame is not None
    assert results[-1].onset_frame == 2  # the injected onset drives the pipeline


def test_model_error_is_logged_counted_and_survived(models, monkeypatch):
    detector, tracker = models
    net = BleedOriginNet(detector, tracker, mode='evaluation', evaluation_detector='off')
    net.set_ground_truth(0, [[40.0, 24.0]])
    frames = stream_frames(5, onset=0)
    net.step(frames[0])
    calls = {'n': 0}
    real_step = type(tracker).advance_state

    def failing_once(self, state, frame, inputs):
        calls['n'] += 1
        if calls['n'] == 1:
            raise RuntimeError('simulated inference failure')
        return real_step(self, state, frame, inputs)

    monkeypatch.setattr(type(tracker), 'advance_state', failing_once)
    results = [net.step(f) for f in frames[1:]]
    assert results[0].status == 'model_error' and results[1].status == 'ok'
    assert net.summary()['model_errors'] == 1
    # a failure of the source branch at the alert: tracking starts on the next frame
    real_locate = type(detector).locate
    located = {'n': 0}

    def locate_failing_once(self, frame, *args):
        located['n'] += 1
        if located['n'] == 1:
            raise RuntimeError('simulated locate failure')
        return real_locate(self, frame, *args)

    monkeypatch.setattr(type(detector), 'locate', locate_failing_once)
    deploy = BleedOriginNet(detector, tracker, refresh_policy='none')
    results = [deploy.step(f) for f in stream_frames(TEST_WINDOW + 3, onset=2)]
    alert = TEST_WINDOW - 1
    assert results[alert].status == 'model_error' and results[alert].state == 'bleeding'
    assert len(results[alert].points) == 0
    assert results[alert + 1].status == 'ok' and results[alert + 1].points.shape == (1, 2)
    assert results[-1].alert_frame == alert and deploy.summary()['model_errors'] == 1
    strict = BleedOriginNet(detector, tracker, mode='evaluation', evaluation_detector='off',
                            strict=True)
    strict.set_ground_truth(0, [[40.0, 24.0]])
    strict.step(frames[0])
    calls['n'] = 0
    with pytest.raises(RuntimeError, match='simulated inference failure'):
        strict.step(frames[1])


def test_from_config_loads_checkpoints_and_rejects_bad_ones(models, tmp_path):
    from pipeline_fixtures import REPO
    detector, _ = models
    good = tmp_path / 'detect.pth'
    torch.save({'state_dict': detector.state_dict(), 'meta': {}}, good)
    cfg = f'{REPO}/configs/bleedorigin/detect.py'
    small = tmp_path / 'detect_small.py'
    small.write_text(f"_base_ = ['{cfg}']\nmodel = dict(onset_head=dict(window_size="
                     f"{TEST_WINDOW}), conf_thr=0.0)\n")
    net = BleedOriginNet.from_config(str(small), f'{REPO}/configs/bleedorigin/track.py',
                                     detect_checkpoint=str(good), track_checkpoint=None)
    for key, value in detector.state_dict().items():
        assert torch.equal(net.detector.model.state_dict()[key], value)
    bad = tmp_path / 'bad.pth'
    torch.save({'state_dict': {'nothing.weight': torch.zeros(1)}}, bad)
    with pytest.raises(ValueError, match='does not fit the model'):
        BleedOriginNet.from_config(str(small), f'{REPO}/configs/bleedorigin/track.py',
                                   detect_checkpoint=str(bad), track_checkpoint=None)
    with pytest.raises(FileNotFoundError, match='checkpoint file not found'):
        BleedOriginNet.from_config(str(small), f'{REPO}/configs/bleedorigin/track.py',
                                   detect_checkpoint=None,
                                   track_checkpoint=str(tmp_path / 'missing.pth'))


def test_deployment_with_an_onset_refiner_alerts_at_once_and_locates_at_the_refined_onset():
    from pipeline_fixtures import build_models
    # the paper's memory: with these random weights eq. 2's onset then lies within R of the
    # window's end, so the refined onset needs frames after the alarm (the case tested here)
    detector, tracker = build_models(refiner=dict(radius=2, crop=16), memory_stride=1)
    with torch.no_grad():
        detector.onset_refiner.none_fc.bias[0] = -5.0  # it always names a candidate
    net = BleedOriginNet(detector, tracker, mode='deployment', refresh_policy='none')
    frames = stream_frames(TEST_WINDOW + 12, onset=2)
    results = [net.step(f) for f in frames]
    alert = TEST_WINDOW - 1
    assert results[alert].state == 'bleeding' and results[alert].alert_frame == alert
    # the alarm is raised at once; the source and the tracker wait for the refined onset
    first = next(t for t, r in enumerate(results) if r.detected_onset_frame is not None)
    assert first > alert
    for r in results[alert:first]:
        assert r.state == 'bleeding' and r.source_point is None and r.alert_frame == alert
    fired = results[first]
    assert fired.alert_frame == alert and fired.source_point is not None
    # the refiner answered when the frames up to eq. 2's onset + R were in
    coarse = net.detector.state.refined_for
    assert first == coarse + 2 and coarse <= alert
    assert fired.onset_frame == fired.detected_onset_frame == net.detector.state.refined
    assert coarse - 2 <= fired.onset_frame <= coarse + 2
    summary = net.summary()
    assert summary['detector_frames'] == first + 1  # the detector stops once refined
    assert summary['tracker_frames'] == len(frames) - 1 - fired.onset_frame


def test_deployment_with_the_refiner_confirming_alerts_with_the_located_onset():
    """``onset_refine_confirm`` (detect.py's decision): no alarm until the refiner names a
    frame in a candidate's window, then the alarm, the refined onset and the source at once;
    a refiner that names nothing raises no alarm at all."""
    from pipeline_fixtures import build_models
    detector, tracker = build_models(refiner=dict(radius=2, crop=16), confirm=True)
    assert detector.onset_refine_confirm and detector.onset_candidate_thr == 0.0
    with torch.no_grad():
        detector.onset_refiner.none_fc.bias[0] = -5.0  # it always names a candidate
    net = BleedOriginNet(detector, tracker, mode='deployment', refresh_policy='none')
    frames = stream_frames(TEST_WINDOW + 12, onset=2)
    results = [net.step(f) for f in frames]
    first = next(t for t, r in enumerate(results) if r.alert_frame is not None)
    assert all(r.state != 'bleeding' for r in results[:first])
    fired = results[first]
    assert fired.alert_frame == first and fired.source_point is not None
    assert fired.onset_frame == fired.detected_onset_frame == net.detector.state.onset
    # the first candidate (the first window, ending at N - 1) was confirmed once its
    # window's last frame (candidate + R) arrived
    cascade = net.detector.state.cascade
    assert first == max(TEST_WINDOW - 1, cascade.candidate + 2)
    assert cascade.candidate - 2 <= fired.onset_frame <= cascade.candidate + 2
    assert net.summary()['tracker_frames'] == len(frames) - 1 - fired.onset_frame
    with torch.no_grad():
        detector.onset_refiner.none_fc.bias[0] = 5.0  # it never names a candidate
    net.reset()
    results = [net.step(f) for f in stream_frames(TEST_WINDOW + 30, onset=2)]
    assert all(r.alert_frame is None and r.detected_onset_frame is None for r in results)
    # the early candidates were asked in all four windows and dropped; nothing to settle
    assert net.finish() is None and net.detector.state.cascade.dropped > 0


def test_finish_settles_an_onset_the_refiner_search_had_not_answered(tmp_path):
    """A video that ends while the refiner's search windows are still to come: the alarm
    is up but no source; ``finish`` takes the detector's answer over the frames that
    arrived, locates the source there and catches the tracker up (``run_stream`` calls it)."""
    from pipeline_fixtures import build_models

    from bleedorigin.apis import format_summary, run_stream
    detector, tracker = build_models(refiner=dict(radius=2, crop=16))
    assert detector.onset_refine_search == (1, 2, 3)  # detect.py's search
    with torch.no_grad():
        detector.onset_refiner.none_fc.bias[0] = 5.0  # it never names a candidate
    net = BleedOriginNet(detector, tracker, mode='deployment', refresh_policy='none')
    frames = stream_frames(TEST_WINDOW + 6, onset=2)
    results = [net.step(f) for f in frames]
    alert = TEST_WINDOW - 1
    # the search's last window (theta + 3 * 5, needing theta + 17) is past the video's end
    assert all(r.alert_frame == alert and r.source_point is None for r in results[alert:])
    assert all(r.detected_onset_frame is None for r in results)
    assert not net.summary()['onset_at_stream_end']
    final = net.finish()
    state = net.detector.state
    assert final.frame_index == len(frames) - 1 and final.alert_frame == alert
    # nothing was named: eq. 2's onset stands, as offline predict would report it
    assert final.detected_onset_frame == final.onset_frame == state.refined == state.onset
    assert final.source_point is not None and np.isfinite(final.points).all()
    summary = net.summary()
    assert summary['onset_at_stream_end'] and summary['detected_onset_frame'] == state.onset
    assert summary['tracker_frames'] == len(frames) - 1 - state.onset
    assert net.finish() is None  # settled once
    # run_stream settles it too and reports the final frame in its summary
    out = run_stream(net, frames, out_json=str(tmp_path / 'records.json'), progress=False)
    assert out['onset_at_stream_end'] and out['end_of_stream']['source_point'] is not None
    assert out['detected_onset_frame'] == state.onset
    assert 'onset settled at the end of the video' in format_summary(out)
    # a video without an alarm has nothing to settle
    net.reset()
    for f in stream_frames(TEST_WINDOW - 2):
        net.step(f)
    assert net.finish() is None and not net.summary()['onset_at_stream_end']


def test_stream_reference_is_taken_before_the_reported_onset():
    """The source's reference frame is ``reference_offset`` frames before the onset the
    stream reports: the refiner's answer for eq. 2's current onset, else eq. 2's."""
    from bleedorigin.models.utils import OnsetStreamState, reference_anchor
    state = OnsetStreamState(memory=None, window_size=4, buffer_size=8)
    state.index = 30
    assert reference_anchor(state) == 30  # no window fired: the newest frame
    state.onset = 20
    assert reference_anchor(state) == 20
    state.refined_for, state.refined = 20, 26
    assert reference_anchor(state) == 26
    state.onset = 18  # eq. 2's onset moved: the old answer no longer applies
    assert reference_anchor(state) == 18
