"""Streaming predictors: the models hold no stream, the predictors own it (and the
refresh policy); offline evaluation and the predictors run the same online step."""
import numpy as np
import pytest
import torch
from pipeline_fixtures import TEST_WINDOW, stream_frames

from bleedorigin.apis import (
    BleedOriginNet,
    FixedIntervalRefresh,
    OnsetStepModel,
    RefreshPolicy,
    StreamDetector,
    StreamingDetector,
    StreamingTracker,
    StreamTracker,
    TrackStepModel,
    as_stream_detector,
    as_stream_tracker,
    build_stream_model,
    protocols,
)
from bleedorigin.models.trackers.baselines import LucasKanadeTracker, ZeroMotionTracker
from bleedorigin.models.trackers.stream_loop import track_frames, track_online
from bleedorigin.models.utils import pick_reference, update_state_run, update_window_onset


def moving_frames(count, shift=1.5, size=(64, 48), seed=3):
    """A smooth texture moving ``shift`` px left per frame: something to follow."""
    import cv2
    rng = np.random.default_rng(seed)
    w, h = size
    tex = cv2.resize(rng.integers(0, 255, (h // 4 + 8, w // 4 + 8, 3), dtype=np.uint8),
                     (w + 32, h + 32), interpolation=cv2.INTER_CUBIC)
    return [np.ascontiguousarray(tex[16:16 + h, 16 + int(round(shift * t)):][:, :w])
            for t in range(count)]


class EveryOther(RefreshPolicy):
    """Refreshes on the tracker steps listed; records what it was asked."""

    name = 'listed'

    def __init__(self, steps):
        self.steps, self.asked, self.resets = set(steps), [], 0
        self.step = 0

    def reset(self):
        self.resets += 1
        self.step = 0

    def should_refresh(self, frames_since_refresh, confidence, visibility):
        self.step += 1
        self.asked.append((self.step, frames_since_refresh, confidence.shape, visibility.dtype))
        return self.step in self.steps


class YoloLike:
    """Keeps its own stream (the YOLO baseline's interface); fires at ``fire_at``."""

    def __init__(self, fire_at=3):
        self.fire_at = fire_at
        self.window_size = 4
        self.reset_stream()

    def reset_stream(self):
        self.index = -1

    def stream_step(self, frame):
        self.index += 1
        onset = self.fire_at if self.index >= self.fire_at else None
        return dict(frame_index=self.index, onset_frame=onset, confidence=0.9)

    def locate_source(self, frame, reference=None):
        return 40.0, 24.0, 0.8


# ----------------------------------------------------------------- state-update rules
def test_state_run_window_onset_and_reference_rules_by_hand():
    count, onset = 0, None
    found = []
    for t, prob in enumerate([0.9, 0.9, 0.2, 0.6, 0.7, 0.8]):
        count, onset = update_state_run(count, prob, 0.5, 3, t)
        found.append(onset)
    assert found == [None, None, None, None, None, 3]  # the run 3, 4, 5 starts at 3
    # eq. 2 online: floor(theta * N) inside the window, the earliest one kept
    assert update_window_onset(None, 10, 0.5, 0.9, 8, 0.5) == 14
    assert update_window_onset(14, 11, 0.25, 0.9, 8, 0.5) == 13
    assert update_window_onset(13, 12, 0.75, 0.9, 8, 0.5) == 13
    assert update_window_onset(13, 2, 0.0, 0.4, 8, 0.5) == 13  # not confident
    frames = [(t, np.full((2, 2, 3), t, np.uint8)) for t in range(5, 12)]
    assert pick_reference(frames, anchor=20, offset=11)[0, 0, 0] == 9
    assert pick_reference(frames, anchor=3, offset=15)[0, 0, 0] == 5  # the oldest kept
    assert pick_reference([], anchor=3, offset=1) is None


# ---------------------------------------------------------------------- detector
def test_stream_detector_owns_the_state_and_shares_the_model(models):
    detector, _ = models
    frames = stream_frames(TEST_WINDOW + 3, onset=2)
    one, two = StreamDetector(detector), StreamDetector(detector)
    alone = [one.step(f) for f in frames]
    one.reset()
    # two interleaved videos on one model: neither disturbs the other
    mixed = []
    for frame in frames:
        mixed.append(one.step(frame))
        two.step(frames[0])
    assert mixed == alone
    assert [s['frame_index'] for s in alone] == list(range(len(frames)))
    assert all(s['onset_frame'] is None for s in alone[:TEST_WINDOW - 1])
    assert alone[-1]['onset_frame'] is not None  # conf_thr 0: the first window fires
    assert two.state.index == len(frames) - 1 and len(two.state.feats) == TEST_WINDOW
    assert getattr(detector, '_stream', None) is None  # the model kept no stream
    x, y, score = one.locate_source(frames[-1])
    assert 0 <= x < 64 and 0 <= y < 48 and np.isfinite(score)
    one.reset()
    assert one.state.index == -1 and len(one.state.feats) == 0 and one.state.onset is None
    with pytest.raises(ValueError, match='uint8'):
        one.step(np.zeros((48, 64, 3), np.float32))


def test_stream_detector_reference_is_the_buffered_frame_before_the_onset(models):
    detector, _ = models
    stream = StreamDetector(detector)
    frames = stream_frames(TEST_WINDOW + 4, onset=3)
    for frame in frames:
        out = stream.step(frame)
    onset = out['onset_frame']
    wanted = pick_reference(stream.state.frames, onset, detector.reference_offset)
    explicit = detector.locate(frames[-1], reference_small=wanted)
    assert stream.locate_source(frames[-1]) == explicit


# ----------------------------------------------------------------------- tracker
def test_offline_predict_equals_the_stream_tracker_on_a_clip(models):
    _, tracker = models
    frames = moving_frames(9)
    query = np.array([[30.0, 20.0], [40.0, 30.0]], np.float32)
    interval = 4
    offline = track_online(tracker, frames, query, refresh_interval=interval)
    stream = StreamTracker(tracker, FixedIntervalRefresh(interval))
    online = track_frames(stream, frames, query)
    for a, b in zip(offline, online):
        np.testing.assert_array_equal(a, b)
    assert stream.state is None  # track_frames reset the predictor after the clip
    # the model's offline evaluation (predict) is the same loop
    inputs = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)[None]
    interval_before = tracker.refresh_interval
    predicted = tracker(inputs, [dict(query_points=query)], mode='predict')[0]
    expected = track_online(tracker, frames, query, refresh_interval=interval_before)
    np.testing.assert_array_equal(predicted['pred_points'], expected[0])
    # the deprecated stream on the model runs the same step with its refresh_interval
    with pytest.warns(DeprecationWarning, match='StreamTracker'):
        legacy = track_frames(tracker, frames, query)
    for a, b in zip(legacy, expected):
        np.testing.assert_array_equal(a, b)
    assert tracker.stream_state is None


def test_refresh_policy_is_honoured_without_touching_the_model(models):
    _, tracker = models
    interval = tracker.refresh_interval
    frames = moving_frames(8)
    policy = EveryOther({2, 5})
    stream = StreamTracker(tracker, policy)
    stream.init(frames[0], [[30.0, 20.0]])
    refreshed = []
    for frame in frames[1:]:
        points, visibility, confidence = stream.step(frame)
        refreshed.append(stream.refreshed)
        assert points.shape == (1, 2) and visibility.shape == (1, ) and confidence.shape == (1, )
    assert refreshed == [False, True, False, False, True, False, False]
    assert stream.refreshes == 2
    # frames since the last refresh as the policy saw them; (K,) arrays
    assert [a[1] for a in policy.asked] == [1, 2, 1, 2, 3, 1, 2]
    assert policy.asked[0][2] == (1, ) and policy.asked[0][3] == np.bool_
    assert len(stream.state.spatial_memory) == 3  # refreshed at step 5: 1 + 2 steps
    assert tracker.refresh_interval == interval and getattr(tracker, '_stream', None) is None
    never = StreamTracker(tracker, None)
    never.init(frames[0], [[30.0, 20.0]])
    for frame in frames[1:]:
        never.step(frame)
    assert never.refreshes == 0 and not never.refreshed
    assert len(never.state.spatial_memory) == min(len(frames), tracker.spatial_memory_size)
    with pytest.raises(RuntimeError, match='init'):
        StreamTracker(tracker).step(frames[0])


def test_stream_tracker_drives_a_classical_tracker_and_add_points():
    frames = moving_frames(6, shift=2.0)
    stream = as_stream_tracker(LucasKanadeTracker(), FixedIntervalRefresh(2))
    stream.init(frames[0], [[30.0, 20.0]])
    stream.step(frames[1])
    stream.add_points(frames[1], [[20.0, 30.0]])
    for frame in frames[2:]:
        points, visibility, _ = stream.step(frame)
    assert points.shape == (2, 2) and visibility.shape == (2, )
    np.testing.assert_allclose(points[0], [30.0 - 2.0 * 5, 20.0], atol=1.0)  # moves left
    assert stream.refreshes == 2  # LK has no memory: a refresh is a counted no-op
    with pytest.raises(TypeError, match='neither'):
        StreamTracker(object())


# --------------------------------------------------------------------- protocols
def test_protocol_conformance_of_models_predictors_and_fakes(models):
    detector, tracker = models
    assert isinstance(detector, OnsetStepModel) and isinstance(tracker, TrackStepModel)
    assert isinstance(StreamDetector(detector), StreamingDetector)
    assert isinstance(StreamTracker(tracker), StreamingTracker)
    assert isinstance(StreamTracker(ZeroMotionTracker()), StreamingTracker)
    assert not isinstance(ZeroMotionTracker(), TrackStepModel)
    fake = YoloLike()
    assert isinstance(fake, StreamingDetector) and not isinstance(fake, OnsetStepModel)
    assert as_stream_detector(fake) is fake  # keeps its own stream: used as it is
    wrapped = as_stream_detector(detector)
    assert isinstance(wrapped, StreamDetector) and as_stream_detector(wrapped) is wrapped
    with pytest.raises(TypeError, match='stream_step, locate_source'):
        as_stream_detector(type('OnlyReset', (), {'reset_stream': lambda self: None})())
    # the member tuples name exactly the protocols' methods
    for proto, names in ((protocols.StreamingDetector, protocols.DETECTOR_MEMBERS),
                         (protocols.StreamingTracker, protocols.TRACKER_MEMBERS),
                         (protocols.OnsetStepModel, protocols.ONSET_STEP_MEMBERS),
                         (protocols.TrackStepModel, protocols.TRACK_STEP_MEMBERS)):
        methods = {k for k, v in vars(proto).items() if callable(v) and not k.startswith('_')}
        assert methods == set(names), proto.__name__


def test_pipeline_composes_a_yolo_like_detector_and_a_classical_tracker():
    net = BleedOriginNet(YoloLike(fire_at=3), ZeroMotionTracker(), refresh_policy='fixed2')
    results = [net.step(f) for f in stream_frames(9, onset=3)]
    assert results[3].state == 'bleeding' and results[3].onset_frame == 3
    assert np.allclose(results[-1].points, [[40.0, 24.0]])
    assert net.summary()['refresh_policy'] == 'fixed2'
    assert net.refreshes == sum(r.refreshed for r in results) == 2  # 5 tracker steps


def test_pipeline_never_modifies_the_models_it_is_given(models):
    detector, tracker = models
    before = {k: getattr(tracker, k) for k in ('refresh_interval', 'input_size')}
    net = BleedOriginNet(detector, tracker, refresh_policy=FixedIntervalRefresh(2))
    for frame in stream_frames(TEST_WINDOW + 6, onset=2):
        net.step(frame)
    assert net.refreshes > 0
    assert {k: getattr(tracker, k) for k in before} == before
    assert getattr(tracker, '_stream', None) is None
    assert getattr(detector, '_stream', None) is None
    assert isinstance(net.tracker, StreamTracker) and net.tracker.model is tracker


def test_builders_accept_roles_and_refuse_a_model_without_a_stream(tmp_path):
    from pipeline_fixtures import REPO
    cfg = tmp_path / 'bad.py'
    cfg.write_text("model = dict(type='SmallCNNEncoder')\n")
    with pytest.raises(TypeError, match='onset_inputs'):
        build_stream_model(str(cfg), None, 'detector')
    with pytest.raises(TypeError, match='start_state'):
        build_stream_model(str(cfg), None, 'tracker')
    model = build_stream_model(f'{REPO}/configs/bleedorigin/track.py', None, 'tracker')
    assert isinstance(model, TrackStepModel)
