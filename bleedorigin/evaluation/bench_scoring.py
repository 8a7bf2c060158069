"""Per-task scoring of the benchmark: our detector, any streaming tracker, and the
metric blocks of Tables 3, 4 and 7 (keys as in :mod:`bleedorigin.evaluation.tables`).

A tracker is anything with ``init(frame, query)`` and ``step(frame) -> (points, ...)``:
our ``BleedTrackOn`` stream and the classical baselines alike go through
:func:`run_tracker_on_clip`.
"""
from typing import Dict, Optional, Sequence

import numpy as np

from bleedorigin.constants import ONSET_TOLERANCES, POINT_THRESHOLDS

from .clips import iter_frames, onset_sources
from .functional import onset_accuracy, point_accuracy, point_errors
from .mllm.source_scoring import score_source_predictions
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
        if onset_sources(clip):
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
    scores = score_source_predictions(preds, [[(x, y) for _, x, y in onset_sources(c)]
                                              for c in source_clips],
                                      [(c.width, c.height) for c in source_clips],
                                      POINT_THRESHOLDS)
    prefix = 'source/' if method is None else f'source/{method}/'
    return {prefix + k: v for k, v in scores.items()}


def track_errors(clip, groups: np.ndarray, preds: np.ndarray) -> tuple:
    """Sparse (annotated frames) and dense (dense_gt) errors after the start frame."""
    start = clip.onset_frame
    column = {int(g): k for k, g in enumerate(groups)}
    sparse_pred, sparse_gt = [], []
    for t in clip.annotated_frames:
        if t <= start:
            continue
        for source in clip.annotations[t]:
            if source.group_id in column:
                sparse_pred.append(preds[t - start, column[source.group_id]])
                sparse_gt.append((source.x, source.y))
    dense_pred, dense_gt = [], []
    dense = clip.load_dense_gt() if clip.has_dense_gt else None
    for source in (dense or {}).get('sources', []):
        k = column.get(int(source.get('group_id') or 0))
        if k is None:
            continue
        for t in range(start + 1, clip.num_frames):
            point = source['points'][t]
            if point is not None and source['visible'][t]:
                dense_pred.append(preds[t - start, k])
                dense_gt.append(point)

    def errors(p, g):
        return point_errors(np.asarray(p), np.asarray(g)) if p else np.zeros(0)

    return errors(sparse_pred, sparse_gt), errors(dense_pred, dense_gt)


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
