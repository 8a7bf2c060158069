"""Per-task scoring of the benchmark: our detector, any streaming tracker, and the
metric blocks of Tables 3, 4 and 7 (keys as in :mod:`bleedorigin.evaluation.tables`).

A tracker is anything with ``init(frame, query)`` and ``step(frame) -> (points, ...)``:
our ``BleedTrackOn`` stream and the classical baselines alike go through
:func:`run_tracker_on_clip`.
"""
from typing import Dict, Optional, Sequence

import numpy as np

from bleedorigin.constants import ONSET_TOLERANCES, POINT_THRESHOLDS

from .clips import iter_frames
from .functional import (
    frame_diagonal,
    onset_accuracy,
    point_accuracy,
    point_errors,
    score_source_predictions,
)
from .track_runner import run_tracker_on_clip


def run_detector(detector, clips: list, chunk: int) -> tuple:
    """Stream every frame through our detector; locate the source on the GT onset frame.

    Returns:
        tuple: predicted onset per clip (None = no alarm) and, per clip with an
        annotated onset, the predicted source (x, y).
    """
    from tqdm import tqdm

    offset = int(getattr(detector, 'reference_offset', 15))
    onsets, sources = [], []
    for clip in tqdm(clips, desc='BleedOrigin-Detect', unit='clip'):
        detector.reset_stream()
        out = {'onset_frame': None}
        for _, frame in iter_frames(clip, 0, clip.num_frames, chunk):
            out = detector.stream_step(frame)
        onsets.append(out['onset_frame'])
        if clip.onset_sources():
            t = clip.onset_frame
            frame, reference = clip.load_frames([t, max(t - offset, 0)])
            x, y, _ = detector.locate_source(frame, reference=reference)
            sources.append((float(x), float(y)))
    return onsets, sources


def onset_metrics(method: Optional[str], preds: Sequence, clips: list) -> Dict[str, float]:
    scores = onset_accuracy(preds, [c.onset_frame for c in clips], [c.num_frames for c in clips],
                            ONSET_TOLERANCES)
    prefix = 'onset/' if method is None else f'onset/{method}/'
    return {prefix + k: v for k, v in scores.items()}


def source_metrics(method: Optional[str], preds: Sequence, source_clips: list
                   ) -> Dict[str, float]:
    if not source_clips:
        return {}
    scores = score_source_predictions(preds, [[(s.x, s.y) for s in c.onset_sources()]
                                              for c in source_clips],
                                      [(c.width, c.height) for c in source_clips],
                                      POINT_THRESHOLDS)
    prefix = 'source/' if method is None else f'source/{method}/'
    return {prefix + k: v for k, v in scores.items()}


def track_errors(clip, groups: np.ndarray, preds: np.ndarray) -> tuple:
    """Sparse (annotated frames) and dense (dense_gt) errors after the start frame.

    Args:
        clip: A bench clip; the tracker started on its onset frame.
        groups (np.ndarray): (K,) group id of each tracked column.
        preds (np.ndarray): (T, K, 2) predictions for frames onset..num_frames-1.

    Returns:
        tuple: sparse errors (N_s,) and dense errors (N_d,), pixels; a NaN
        prediction where the ground truth is visible is a miss (the frame diagonal).
    """
    start = clip.onset_frame
    out = []
    for tracks in (clip.sparse_tracks(groups, start, clip.num_frames),
                   clip.dense_tracks(groups, start, clip.num_frames)):
        if tracks is None:
            out.append(np.zeros(0))
            continue
        visible = tracks['visible'].copy()
        visible[0] = False  # the start frame is given, not predicted
        out.append(point_errors(preds[visible], tracks['points'][visible],
                                miss_error=frame_diagonal(clip.width, clip.height)))
    return tuple(out)


def run_tracker(tracker, name: str, clips: list, chunk: int) -> tuple:
    from tqdm import tqdm

    sparse, dense = {}, {}
    for i, clip in enumerate(tqdm(clips, desc=name, unit='clip')):
        groups, preds = run_tracker_on_clip(tracker, clip, chunk)
        sparse[i], dense[i] = track_errors(clip, groups, preds)
    return sparse, dense


def track_metrics(method: Optional[str], sparse: dict, dense: dict,
                  indices: Optional[Sequence[int]] = None) -> Dict[str, float]:
    out = {}
    for task, errors in (('track', sparse), ('track_dense', dense)):
        keep = errors if indices is None else {i: errors[i] for i in indices if i in errors}
        flat = np.concatenate([e for e in keep.values() if e.size] or [np.zeros(0)])
        if not flat.size:
            continue
        prefix = f'{task}/' if method is None else f'{task}/{method}/'
        for k, v in point_accuracy(flat, POINT_THRESHOLDS).items():
            out[prefix + k] = v
        out[prefix + 'num_points'] = int(flat.size)
    return out
