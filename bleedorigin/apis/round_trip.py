"""Label-free tracking check: forward-backward round trip on any video.

A grid of points is tracked ``horizon`` frames forward, then from where it
ended back through the same frames in reverse order; a tracker that follows the
tissue returns each point to where it started. The round-trip error (original
pixels) needs no annotation, so it can be measured on real video that the
project never trains on (the reference ESD clips, a user's own recordings).

It is a necessary, not a sufficient, condition for accuracy: a tracker that
never moves has zero round-trip error. Report it beside a motion figure (the
mean forward displacement of the same points), never alone.
"""
from typing import Callable, Dict, List, Sequence

import numpy as np

from bleedorigin.models.trackers.stream_loop import track_frames


def grid_points(width: int, height: int, per_side: int = 4, margin: float = 0.2) -> np.ndarray:
    """(per_side**2, 2) points on a regular grid inside a margin of the frame."""
    if per_side < 1 or not 0 <= margin < 0.5:
        raise ValueError(f'per_side must be >= 1 and margin in [0, 0.5), got '
                         f'{per_side}, {margin}')
    xs = np.linspace(margin, 1 - margin, per_side) * width
    ys = np.linspace(margin, 1 - margin, per_side) * height
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], -1).astype(np.float32)


def round_trip(make_tracker: Callable[[], object], frames: Sequence[np.ndarray],
               points: np.ndarray) -> Dict[str, np.ndarray]:
    """Forward then backward through ``frames``.

    Args:
        make_tracker (callable): Returns a tracker with ``init(frame, points)``
            and ``step(frame) -> (points, ...)`` (a fresh one is used per pass).
        frames (Sequence[np.ndarray]): T >= 2 HxWx3 RGB frames.
        points (np.ndarray): (K, 2) start points on ``frames[0]``, original px.

    Returns:
        dict: ``error`` (K,) round-trip error, ``motion`` (K,) forward
        displacement of each point from its start to the last frame,
        ``forward`` (T, K, 2) forward trajectory.
    """
    if len(frames) < 2:
        raise ValueError(f'round trip needs at least 2 frames, got {len(frames)}')
    points = np.asarray(points, np.float32).reshape(-1, 2)
    forward = track_frames(make_tracker(), frames, points)[0]
    backward = track_frames(make_tracker(), list(frames)[::-1], forward[-1])[0]
    return dict(error=np.linalg.norm(backward[-1] - points, axis=-1),
                motion=np.linalg.norm(forward[-1] - points, axis=-1), forward=forward)


def summarise(errors: List[np.ndarray], motions: List[np.ndarray], width: float
              ) -> Dict[str, float]:
    """Median / mean round-trip error, share within 1 % and 2 % of the width, mean motion."""
    err = np.concatenate(errors) if errors else np.zeros(0)
    mot = np.concatenate(motions) if motions else np.zeros(0)
    if err.size == 0:
        return dict(median=float('nan'), mean=float('nan'), within_1pct=float('nan'),
                    within_2pct=float('nan'), motion=float('nan'), points=0)
    return dict(median=float(np.median(err)), mean=float(err.mean()),
                within_1pct=float(100 * np.mean(err <= 0.01 * width)),
                within_2pct=float(100 * np.mean(err <= 0.02 * width)),
                motion=float(mot.mean()), points=int(err.size))
