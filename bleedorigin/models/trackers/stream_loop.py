"""The loops that run a streaming tracker over a sequence of frames in memory.

:func:`track_frames` takes any object with ``init(frame, points)`` and
``step(frame) -> (points, visibility, confidence)`` (``bleedorigin.apis.StreamTracker``
and the classical baselines); it serves the pseudo-label tracker and the label-free
round trip. :func:`track_online` is ``BleedTrackOn``'s offline evaluation: the model's
online step (``frame_input`` -> ``start_state``/``advance_state``, ``refresh_state``
every ``refresh_interval`` frames), the same calls ``StreamTracker`` makes per frame.
(Bench clips decoded in chunks for several trackers at once go through
``bleedorigin.evaluation.track_runner`` instead.)
"""
from typing import Sequence, Tuple

import numpy as np

TrackArrays = Tuple[np.ndarray, np.ndarray, np.ndarray]


def _outputs(num_frames: int, query: np.ndarray) -> TrackArrays:
    out = np.zeros((num_frames, len(query), 2), np.float32)
    out[0] = query
    return (out, np.ones((num_frames, len(query)), bool),
            np.ones((num_frames, len(query)), np.float32))


def track_frames(tracker, frames: Sequence[np.ndarray], points) -> TrackArrays:
    """Track ``points`` (K, 2) from ``frames[0]`` through every frame, then reset the stream.

    Returns:
        tuple: points (T, K, 2) float32 (row 0 = the query), visibility (T, K) bool and
        confidence (T, K) float32 (row 0: visible, confidence 1).
    """
    query = np.asarray(points, np.float32).reshape(-1, 2)
    out, visibility, confidence = _outputs(len(frames), query)
    tracker.init(frames[0], query)
    for i in range(1, len(frames)):
        out[i], visibility[i], confidence[i] = tracker.step(frames[i])
    for name in ('reset', 'reset_stream'):
        if callable(getattr(tracker, name, None)):
            getattr(tracker, name)()
            break
    return out, visibility, confidence


def track_online(model, frames: Sequence[np.ndarray], points, refresh_interval: int = 0
                 ) -> TrackArrays:
    """A stateless tracker model's online step over ``frames`` (its offline evaluation).

    Args:
        model: Has ``frame_input``, ``start_state``, ``advance_state`` and
            ``refresh_state`` (``BleedTrackOn``).
        frames (Sequence[np.ndarray]): T >= 1 (H, W, 3) uint8 RGB frames.
        points: (K, 2) queries on ``frames[0]``, original px.
        refresh_interval (int): Refresh the memory every this many frames (0: never).

    Returns:
        tuple: as :func:`track_frames`.
    """
    if refresh_interval < 0:
        raise ValueError(f'refresh_interval must be >= 0, got {refresh_interval}')
    query = np.asarray(points, np.float32).reshape(-1, 2)
    out, visibility, confidence = _outputs(len(frames), query)
    state = model.start_state(frames[0], model.frame_input(frames[0]), query)
    for i in range(1, len(frames)):
        out[i], visibility[i], confidence[i] = model.advance_state(
            state, frames[i], model.frame_input(frames[i]))
        if refresh_interval and i % refresh_interval == 0:
            model.refresh_state(state)
    return out, visibility, confidence
