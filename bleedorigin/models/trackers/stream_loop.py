"""The one loop that runs a streaming tracker over a sequence of frames in memory.

Any tracker with ``init(frame, points)`` and ``step(frame) -> (points, visibility,
confidence)`` (our ``BleedTrackOn`` and the classical baselines) fits. Used by
``BleedTrackOn``'s offline evaluation, the pseudo-label tracker and the
label-free round trip. (Bench clips decoded in chunks for several trackers at once
go through ``bleedorigin.evaluation.track_runner`` instead.)
"""
from typing import Sequence, Tuple

import numpy as np


def track_frames(tracker, frames: Sequence[np.ndarray], points
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Track ``points`` (K, 2) from ``frames[0]`` through every frame, then reset the stream.

    Returns:
        tuple: points (T, K, 2) float32 (row 0 = the query), visibility (T, K) bool and
        confidence (T, K) float32 (row 0: visible, confidence 1).
    """
    query = np.asarray(points, np.float32).reshape(-1, 2)
    t, k = len(frames), len(query)
    out = np.zeros((t, k, 2), np.float32)
    visibility = np.ones((t, k), bool)
    confidence = np.ones((t, k), np.float32)
    tracker.init(frames[0], query)
    out[0] = query
    for i in range(1, t):
        out[i], visibility[i], confidence[i] = tracker.step(frames[i])
    if hasattr(tracker, 'reset_stream'):
        tracker.reset_stream()
    return out, visibility, confidence
