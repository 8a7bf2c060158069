"""Run streaming point trackers over a bench clip: the one loop shared by the
benchmark (Table 7), :class:`~bleedorigin.evaluation.metrics.TrackMetric`'s
classical baselines and the refresh-policy comparison of the deployment evaluation
(``bleedorigin.apis.track_refresh_policies``, one ``StreamTracker`` per policy).

A tracker is anything with ``init(frame, query)`` and ``step(frame)`` returning
``(points (K, 2), ...)``: our ``BleedTrackOn`` stream and the classical
baselines of :mod:`bleedorigin.models.trackers.baselines` alike.
"""
from typing import Dict, Optional

import numpy as np

from .clips import iter_frames


def run_trackers_on_clip(trackers: Dict[str, object], clip, query: np.ndarray, start: int,
                         stop: int, chunk: int = 32) -> Dict[str, np.ndarray]:
    """Track ``query`` from frame ``start`` to ``stop - 1`` with every tracker.

    Frames are decoded once, ``chunk`` at a time, and fed to all trackers.

    Note:
        K: number of query points; T = stop - start.

    Args:
        trackers (dict): Name -> tracker.
        clip: A bench clip (``load_frames``).
        query (np.ndarray): (K, 2) start points in original pixels on ``start``.
        start (int): First frame (where the trackers are initialised).
        stop (int): One past the last frame.
        chunk (int): Frames decoded at once. Defaults to 32.

    Returns:
        dict: Name -> (T, K, 2) float32 predictions; row 0 is the query.
    """
    outputs = {name: np.zeros((stop - start, len(query), 2), np.float32) for name in trackers}
    for index, frame in iter_frames(clip, start, stop, chunk):
        i = index - start
        for name, tracker in trackers.items():
            if i == 0:
                tracker.init(frame, query)
                outputs[name][0] = query
            else:
                outputs[name][i] = np.asarray(tracker.step(frame)[0], np.float32)
    return outputs


def run_tracker_on_clip(tracker, clip, chunk: int = 32,
                        stop: Optional[int] = None) -> tuple:
    """Track the ground-truth onset sources of ``clip`` to its end (the benchmark's protocol).

    Returns:
        tuple: group ids (K,) and predictions (T, K, 2) for frames
        onset..num_frames-1 (row 0 = the query).
    """
    sources = clip.onset_sources()
    groups = np.array([s.group_id for s in sources], np.int64)
    query = np.array([[s.x, s.y] for s in sources], np.float32).reshape(-1, 2)
    stop = clip.num_frames if stop is None else stop
    preds = run_trackers_on_clip({'tracker': tracker}, clip, query, clip.onset_frame, stop,
                                 chunk)['tracker']
    return groups, preds
