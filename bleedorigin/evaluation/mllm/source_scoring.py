"""Scoring of initial-bleeding-source predictions that may be missing.

Every source predictor of the benchmark (our detector, YOLO at a confidence
threshold, an MLLM answer, a constant prior) yields one point per clip or
nothing (YOLO below its threshold, a refused or malformed MLLM answer). The
errors go through the shared :func:`point_errors` / :func:`point_accuracy`
(PointMetric's functional form); a missing prediction is wrong at every
threshold and counts with the frame diagonal as its error (the largest error a
point inside the frame can have), and the miss rate is reported beside it.
"""
import math
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from bleedorigin.constants import POINT_THRESHOLDS

from ..functional import point_accuracy, point_errors

Point = Tuple[float, float]


def nearest_source_error(pred: Point, sources: Sequence[Point]) -> float:
    """L2 distance from a prediction to the nearest ground-truth source (pixels)."""
    if not len(sources):
        raise ValueError('nearest_source_error: no ground-truth source given')
    gt = np.asarray(sources, dtype=np.float64).reshape(-1, 2)
    pred_rep = np.repeat(np.asarray(pred, dtype=np.float64).reshape(1, 2), len(gt), axis=0)
    return float(point_errors(pred_rep, gt).min())


def score_source_predictions(preds: Sequence[Optional[Point]],
                             gt_sources: Sequence[Sequence[Point]],
                             frame_sizes: Sequence[Tuple[int, int]],
                             thresholds: Sequence[float] = POINT_THRESHOLDS
                             ) -> Dict[str, float]:
    """Err≤d / Err_avg over clips, with missing predictions counted as misses.

    Args:
        preds (Sequence[tuple | None]): Predicted (x, y) per clip in original
            frame pixels, or None when the method gave no point.
        gt_sources (Sequence[Sequence[tuple]]): Ground-truth sources per clip
            (the annotation of the onset frame); the nearest one counts.
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
    errors, misses = [], 0
    for pred, sources, (width, height) in zip(preds, gt_sources, frame_sizes):
        if pred is None or not all(math.isfinite(float(v)) for v in pred):
            errors.append(math.hypot(width, height))
            misses += 1
        else:
            errors.append(nearest_source_error(pred, sources))
    results = point_accuracy(errors, thresholds)
    results['miss_rate'] = 100.0 * misses / len(preds)
    results['num_clips'] = len(preds)
    if misses:  # a miss must never count as a hit, even for a huge threshold
        miss_mask = np.array([p is None or not all(math.isfinite(float(v)) for v in p)
                              for p in preds])
        hit_errors = np.asarray(errors)
        for d in thresholds:
            key = f'err_le_{int(d) if float(d).is_integer() else d}'
            results[key] = float(100.0 * np.mean((hit_errors <= d) & ~miss_mask))
    return results
