"""Point localisation accuracy (paper eq. 11-12), shared by every point metric.

``PointMetric`` (initial bleeding source), ``TrackMetric`` (tracking), the
benchmark and the source-scoring harness all call these functions, so there is
one implementation of Err≤d / Err_avg and one rule for the awkward cases:

- **several sources**: a prediction is scored against the nearest one
  (:func:`nearest_source_errors`);
- **no prediction** (``None``) or a prediction with a NaN coordinate: a miss.
  Its error is ``inf`` (or the ``miss_error`` given, e.g. the frame diagonal);
  a miss is outside every threshold and counts ``miss_error`` in Err_avg.
"""
from typing import Dict, Sequence, Union

import numpy as np

from bleedorigin.constants import POINT_THRESHOLDS as DEFAULT_THRESHOLDS

MissError = Union[None, float, Sequence[float], np.ndarray]


def frame_diagonal(width: float, height: float) -> float:
    """The error a miss counts in Err_avg: the largest a point inside the frame can have."""
    return float(np.hypot(width, height))


def _is_miss(point) -> bool:
    if point is None:
        return True
    values = np.asarray(point, dtype=np.float64).reshape(-1)
    if values.size != 2:
        raise ValueError(f'a point must be (x, y), got {point!r}')
    return not np.isfinite(values).all()


def point_errors(pred, gt, miss_error: MissError = None) -> np.ndarray:
    """Euclidean distance between predicted and ground-truth points.

    Args:
        pred (array-like): Predicted points, shape (N, 2), (x, y) in pixels; a
            row with a NaN coordinate is a miss.
        gt (array-like): Ground-truth points, shape (N, 2), same frame of
            reference; must be finite.
        miss_error (float | array-like, optional): Error of a miss (scalar or
            (N,)). Default: ``inf``, which :func:`point_accuracy` counts as a
            miss.

    Returns:
        np.ndarray: L2 errors in pixels, shape (N,).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.ndim != 2 or pred.shape[-1] != 2:
        raise ValueError(f'point_errors: pred must have shape (N, 2), got {pred.shape}')
    if gt.shape != pred.shape:
        raise ValueError(f'point_errors: gt shape {gt.shape} != pred shape {pred.shape}')
    if not np.isfinite(gt).all():
        raise ValueError('point_errors: gt must be finite (a missing ground-truth point is '
                         'not scored: leave it out)')
    missed = ~np.isfinite(pred).all(axis=1)
    errors = np.linalg.norm(np.where(missed[:, None], 0.0, pred - gt), axis=-1)
    fill = np.inf if miss_error is None else np.broadcast_to(
        np.asarray(miss_error, np.float64), errors.shape)[missed]
    errors[missed] = fill
    return errors


def nearest_source_errors(preds: Sequence, gt_sources: Sequence[Sequence],
                          miss_error: MissError = None) -> np.ndarray:
    """Error of each sample's prediction to the nearest of its ground-truth sources.

    Args:
        preds (Sequence): One (x, y) or ``None`` (no prediction) per sample.
        gt_sources (Sequence[Sequence]): The ground-truth sources of each
            sample, (K_i, 2) with K_i >= 1.
        miss_error (float | array-like, optional): As in :func:`point_errors`.

    Returns:
        np.ndarray: (N,) pixels; ``inf`` (or ``miss_error``) for a miss.
    """
    if len(preds) != len(gt_sources):
        raise ValueError(f'nearest_source_errors: {len(preds)} predictions but '
                         f'{len(gt_sources)} ground-truth source lists')
    errors = np.full(len(preds), np.inf, np.float64)
    for i, (pred, sources) in enumerate(zip(preds, gt_sources)):
        gt = np.asarray(sources, dtype=np.float64).reshape(-1, 2)
        if not len(gt):
            raise ValueError(f'nearest_source_errors: sample {i} has no ground-truth source')
        if _is_miss(pred):
            continue
        pred_rep = np.repeat(np.asarray(pred, np.float64).reshape(1, 2), len(gt), axis=0)
        errors[i] = point_errors(pred_rep, gt).min()
    if miss_error is not None:
        missed = np.isinf(errors)
        errors[missed] = np.broadcast_to(np.asarray(miss_error, np.float64),
                                         errors.shape)[missed]
    return errors


def point_accuracy(errors, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                   miss_error: MissError = None) -> Dict[str, float]:
    """Err≤d (percent of points within d px) and the mean error Err_avg.

    Args:
        errors (array-like): L2 errors in pixels, shape (N,), N >= 1; ``inf``
            marks a miss (see :func:`point_errors`).
        thresholds (Sequence[float]): Distance thresholds d in pixels.
        miss_error (float | array-like, optional): What a miss counts in
            Err_avg (scalar or (N,), e.g. the frame diagonal); required when
            ``errors`` holds a miss.

    Returns:
        dict: ``err_le_<d>`` in percent (0-100) for every d, and ``err_avg`` in pixels.
    """
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    if errors.size == 0:
        raise ValueError('point_accuracy: no errors given (N = 0)')
    if np.isnan(errors).any() or (errors < 0).any():
        raise ValueError('point_accuracy: errors must be non-negative numbers (inf = a miss)')
    missed = np.isinf(errors)
    if missed.any():
        if miss_error is None:
            raise ValueError(f'point_accuracy: {int(missed.sum())} misses (inf errors) need '
                             'miss_error, e.g. the frame diagonal')
        fill = np.broadcast_to(np.asarray(miss_error, np.float64), errors.shape)[missed]
        if not np.isfinite(fill).all():
            raise ValueError('point_accuracy: miss_error must be finite')
    results = {}
    for d in thresholds:
        key = f'err_le_{int(d) if float(d).is_integer() else d}'
        results[key] = float(100.0 * np.mean(errors <= d))  # inf is never <= d
    averaged = errors.copy()
    if missed.any():
        averaged[missed] = fill
    results['err_avg'] = float(averaged.mean())
    return results


def score_source_predictions(preds: Sequence, gt_sources: Sequence[Sequence],
                             frame_sizes: Sequence[Sequence[int]],
                             thresholds: Sequence[float] = DEFAULT_THRESHOLDS
                             ) -> Dict[str, float]:
    """Err≤d / Err_avg of one source prediction per clip, with the module's rule.

    Every source predictor (our detector in ``PointMetric`` and the benchmark,
    YOLO at a confidence threshold, an MLLM answer, a constant prior) is scored
    here: the nearest ground-truth source counts; a missing or NaN prediction
    is a miss, outside every threshold and counted as the frame diagonal in
    Err_avg.

    Args:
        preds (Sequence[tuple | None]): Predicted (x, y) per clip in original
            frame pixels, or None when the method gave no point.
        gt_sources (Sequence[Sequence[tuple]]): Ground-truth sources per clip
            (the onset frame's, ``ClipRecord.onset_sources``).
        frame_sizes (Sequence[tuple]): (width, height) per clip.
        thresholds (Sequence[float]): Distance thresholds d in pixels.

    Returns:
        dict: ``err_le_<d>`` (%), ``err_avg`` (px), ``miss_rate`` (%) and ``num_clips``.
    """
    if not len(preds) == len(gt_sources) == len(frame_sizes):
        raise ValueError('score_source_predictions: preds, gt_sources and frame_sizes differ in '
                         f'length ({len(preds)}, {len(gt_sources)}, {len(frame_sizes)})')
    if not len(preds):
        raise ValueError('score_source_predictions: no clips to score')
    errors = nearest_source_errors(preds, gt_sources)
    diagonals = np.array([frame_diagonal(w, h) for w, h in frame_sizes])
    results = point_accuracy(errors, thresholds, miss_error=diagonals)
    results['miss_rate'] = float(100.0 * np.mean(np.isinf(errors)))
    results['num_clips'] = len(preds)
    return results
