"""Point localisation accuracy (paper eq. 11-12), shared by every point metric.

``PointMetric`` (initial bleeding source) and ``TrackMetric`` (tracking) both
call these two functions, so there is one implementation of Err≤d / Err_avg.
"""
from typing import Dict, Sequence

import numpy as np

from bleedorigin.constants import POINT_THRESHOLDS as DEFAULT_THRESHOLDS


def point_errors(pred, gt) -> np.ndarray:
    """Euclidean distance between predicted and ground-truth points.

    Args:
        pred (array-like): Predicted points, shape (N, 2), (x, y) in pixels.
        gt (array-like): Ground-truth points, shape (N, 2), same frame of reference.

    Returns:
        np.ndarray: L2 errors in pixels, shape (N,).
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.ndim != 2 or pred.shape[-1] != 2:
        raise ValueError(f'point_errors: pred must have shape (N, 2), got {pred.shape}')
    if gt.shape != pred.shape:
        raise ValueError(f'point_errors: gt shape {gt.shape} != pred shape {pred.shape}')
    if not (np.isfinite(pred).all() and np.isfinite(gt).all()):
        raise ValueError('point_errors: pred and gt must be finite')
    return np.linalg.norm(pred - gt, axis=-1)


def point_accuracy(errors, thresholds: Sequence[float] = DEFAULT_THRESHOLDS
                   ) -> Dict[str, float]:
    """Err≤d (percent of points within d px) and the mean error Err_avg.

    Args:
        errors (array-like): L2 errors in pixels, shape (N,), N >= 1.
        thresholds (Sequence[float]): Distance thresholds d in pixels.

    Returns:
        dict: ``err_le_<d>`` in percent (0-100) for every d, and ``err_avg`` in pixels.
    """
    errors = np.asarray(errors, dtype=np.float64).reshape(-1)
    if errors.size == 0:
        raise ValueError('point_accuracy: no errors given (N = 0)')
    if (errors < 0).any() or not np.isfinite(errors).all():
        raise ValueError('point_accuracy: errors must be finite and non-negative')
    results = {}
    for d in thresholds:
        key = f'err_le_{int(d) if float(d).is_integer() else d}'
        results[key] = float(100.0 * np.mean(errors <= d))
    results['err_avg'] = float(errors.mean())
    return results
