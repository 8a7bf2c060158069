"""Full-clip evaluation of the streaming pipeline (section 6.2 / 6.3 analogue).

Pure functions turn per-frame pipeline outputs and dense ground truth into
frame-wise errors and alert-latency statistics; :func:`stream_clip` is the
only function here that reads frames. Dense ground truth comes as arrays from
:meth:`ClipRecord.dense_tracks`.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np

from .bleedorigin_net import BleedOriginNet


def point_exists(point: np.ndarray) -> bool:
    return bool(np.all(np.isfinite(point)))


def frame_track_errors(pred_points: np.ndarray, gt_points: np.ndarray,
                       gt_visible: np.ndarray, match: str = 'index') -> np.ndarray:
    """L2 error per frame between tracked points and the dense ground truth.

    Args:
        pred_points (np.ndarray): (T, P, 2) predictions, NaN where the pipeline
            had none (e.g. before the alert).
        gt_points (np.ndarray): (T, K, 2) ground truth, NaN where absent.
        gt_visible (np.ndarray): (T, K) bool.
        match (str): ``'index'`` compares prediction p with source p (evaluation
            mode: the tracker was started on the true sources, in order);
            ``'nearest'`` compares each prediction with the nearest visible
            source (deployment mode: the detector picks one of them).

    Returns:
        np.ndarray: (T,) mean error over the compared pairs; NaN on frames
        with no visible source or no prediction.
    """
    from bleedorigin.evaluation.functional.point_accuracy import point_errors

    num_frames = gt_points.shape[0]
    errors = np.full(num_frames, np.nan, np.float64)
    for t in range(num_frames):
        frame_errors = []
        for p in range(pred_points.shape[1]):
            pred = pred_points[t, p]
            if not point_exists(pred):
                continue
            if match == 'index':
                candidates = [p] if p < gt_points.shape[1] and gt_visible[t, p] else []
            else:
                candidates = list(np.flatnonzero(gt_visible[t]))
            if not candidates:
                continue
            gts = gt_points[t, candidates]
            distances = point_errors(np.repeat(pred[None], len(candidates), 0), gts)
            frame_errors.append(float(np.min(distances)))
        if frame_errors:
            errors[t] = float(np.mean(frame_errors))
    return errors


def latency_statistics(latencies: Sequence[Optional[int]]) -> dict:
    """Alert latency (frames from the true onset to the alert) over clips.

    Args:
        latencies (Sequence[int | None]): One per clip with a true onset;
            ``None`` when the pipeline never alerted (a miss). Negative values
            are alerts before the true onset (early alarms).

    Returns:
        dict: ``clips``, ``alerts``, ``misses``, ``miss_rate`` (%),
        ``early_alerts``, ``median``, ``p90``, ``mean`` (frames, over the
        alerts; ``None`` without any alert).
    """
    alerts = np.array([v for v in latencies if v is not None], np.float64)
    clips = len(latencies)
    misses = clips - len(alerts)
    stats = dict(clips=clips, alerts=int(len(alerts)), misses=int(misses),
                 miss_rate=100.0 * misses / clips if clips else 0.0,
                 early_alerts=int(np.sum(alerts < 0)), median=None, p90=None, mean=None)
    if len(alerts):
        stats.update(median=float(np.median(alerts)), p90=float(np.percentile(alerts, 90)),
                     mean=float(np.mean(alerts)))
    return stats


def align_on_onset(curves: List[np.ndarray], onsets: List[int]) -> np.ndarray:
    """Mean frame-wise curve over clips, aligned at their onset frame.

    Args:
        curves (list[np.ndarray]): (T_i,) per-clip errors (NaN = no value).
        onsets (list[int]): Onset frame of each clip.

    Returns:
        np.ndarray: (max_i T_i - onset_i,) NaN-mean over clips of the error
        at each number of frames after the onset.
    """
    tails = [np.asarray(c, np.float64)[o:] for c, o in zip(curves, onsets)]
    if not tails:
        return np.zeros((0, ))
    length = max(len(t) for t in tails)
    stacked = np.full((len(tails), length), np.nan)
    for i, tail in enumerate(tails):
        stacked[i, :len(tail)] = tail
    counts = np.sum(np.isfinite(stacked), axis=0)
    sums = np.nansum(stacked, axis=0)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def stream_clip(net: BleedOriginNet, frames, num_frames: int,
                max_sources: int = 1) -> Dict[str, object]:
    """Run the pipeline over a clip and collect its per-frame outputs.

    Args:
        net (BleedOriginNet): Pipeline, already given the ground truth in
            evaluation mode; it is reset here.
        frames (Iterable): RGB frames or ``None`` (e.g. a VideoSource).
        num_frames (int): T, length of the output arrays.
        max_sources (int): P, columns of the prediction array.

    Returns:
        dict: ``points`` (T, P, 2) NaN where no prediction, ``confidence``
        (T, P), ``refreshed`` (T,) bool, and the pipeline ``summary``.
    """
    net.reset()
    points = np.full((num_frames, max_sources, 2), np.nan, np.float64)
    confidence = np.full((num_frames, max_sources), np.nan, np.float64)
    refreshed = np.zeros(num_frames, bool)
    for t, frame in enumerate(frames):
        result = net.step(frame)
        if t >= num_frames:
            continue
        count = min(len(result.points), max_sources)
        if count and result.is_bleeding:
            points[t, :count] = result.points[:count]
            confidence[t, :count] = result.confidence[:count]
        refreshed[t] = result.refreshed
    return dict(points=points, confidence=confidence, refreshed=refreshed,
                summary=net.summary())
