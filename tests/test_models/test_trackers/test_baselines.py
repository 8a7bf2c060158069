import cv2
import numpy as np
import pytest

from bleedorigin.models.trackers.baselines import (
    DISFlowTracker,
    LucasKanadeTracker,
    ZeroMotionTracker,
)


def shifted_frames(shift=(3, 2), steps=3, seed=0):
    rng = np.random.default_rng(seed)
    big = cv2.resize(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8), (200, 200),
                     interpolation=cv2.INTER_CUBIC)
    big = cv2.GaussianBlur(big, (0, 0), 1.5)
    frames = []
    for t in range(steps):
        x0, y0 = 50 - shift[0] * t, 50 - shift[1] * t
        frames.append(np.ascontiguousarray(big[y0:y0 + 100, x0:x0 + 120]))
    return frames


@pytest.mark.parametrize('tracker_cls', [LucasKanadeTracker, DISFlowTracker])
def test_flow_baselines_follow_translation(tracker_cls):
    frames = shifted_frames()
    query = np.array([[60.5, 50.5], [40.5, 30.5]], np.float32)
    tracker = tracker_cls()
    tracker.init(frames[0], query)
    for _ in frames[1:]:
        pts, vis, conf = tracker.step(_)
    expected = query + np.array([6, 4])
    assert np.abs(pts - expected).max() < 1.0
    assert vis.all()


def test_zero_motion_keeps_query_and_rejects_bad_frames():
    frames = shifted_frames()
    tracker = ZeroMotionTracker()
    with pytest.raises(RuntimeError, match='init'):
        tracker.step(frames[0])
    tracker.init(frames[0], [[10.0, 20.0]])
    pts, _, _ = tracker.step(frames[1])
    np.testing.assert_allclose(pts, [[10.0, 20.0]])
    with pytest.raises(ValueError, match='HxWx3'):
        tracker.step(frames[1][..., 0])
