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
                       gt_visible: np.ndarray, match: str = 'index',
                       miss_error: Optional[float] = None) -> np.ndarray:
    """L2 error per frame between tracked points and the dense ground truth.

    A frame is scored when a ground-truth source is visible in it. The package's one
    rule (:mod:`bleedorigin.evaluation.functional.point_accuracy`) holds: a scored
    frame without a prediction (NaN, e.g. before the alert or on a clip that never
    alerted) is a miss, not a skipped frame.

    Args:
        pred_points (np.ndarray): (T, P, 2) predictions, NaN where the pipeline
            had none (e.g. before the alert).
        gt_points (np.ndarray): (T, K, 2) ground truth, NaN where absent.
        gt_visible (np.ndarray): (T, K) bool.
        match (str): ``'index'`` compares prediction p with source p (evaluation
            mode: the tracker was started on the true sources, in order; a visible
            source p without prediction p is a miss); ``'nearest'`` compares each
            prediction with the nearest visible source (deployment mode: the
            detector picks one of them; a frame without any prediction is a miss).
        miss_error (float, optional): Error of a miss. Default ``inf``, which
            :func:`~bleedorigin.evaluation.functional.point_accuracy.point_accuracy`
            counts outside every threshold (give it the frame diagonal there).

    Returns:
        np.ndarray: (T,) mean error over the compared pairs (a miss counts
        ``miss_error``); NaN on frames with no visible source (not scored).
    """
    from bleedorigin.evaluation.functional.point_accuracy import point_errors

    if match not in ('index', 'nearest'):
        raise ValueError(f"frame_track_errors: match must be 'index' or 'nearest', got {match!r}")
    miss = np.inf if miss_error is None else float(miss_error)
    num_frames = gt_points.shape[0]
    errors = np.full(num_frames, np.nan, np.float64)
    for t in range(num_frames):
        visible = np.flatnonzero(gt_visible[t])
        if not len(visible):
            continue
        frame_errors = []
        if match == 'index':
            for k in visible:
                pred = pred_points[t, k] if k < pred_points.shape[1] else None
                if pred is None or not point_exists(pred):
                    frame_errors.append(miss)
                else:
                    frame_errors.append(float(point_errors(pred[None], gt_points[t, [k]])[0]))
        else:
            gts = gt_points[t, visible]
            for pred in pred_points[t]:
                if point_exists(pred):
                    distances = point_errors(np.repeat(pred[None], len(gts), 0), gts)
                    frame_errors.append(float(np.min(distances)))
            if not frame_errors:
                frame_errors.append(miss)
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


def track_refresh_policies(tracker, clip, policies: Sequence, chunk: int = 32
                           ) -> Dict[str, Dict[str, object]]:
    """Evaluation-mode tracking of one clip under several memory-refresh policies
    (section 6.3, Figure 13 analogue).

    Every policy gets a :class:`~bleedorigin.apis.stream_tracker.StreamTracker` on the same
    model, started on the clip's true onset sources at its onset frame and run to its
    end by :func:`~bleedorigin.evaluation.track_runner.run_trackers_on_clip`, the one
    tracking loop of the benchmark and ``TrackMetric`` (the same ``init``/``step`` calls
    as ``BleedOriginNet`` in evaluation mode).

    Args:
        tracker: A tracker model or a ``StreamTracker`` (its model is used).
        clip: A bench clip with an onset and dense ground truth (``ClipRecord``).
        policies (Sequence): Refresh policies, see
            :func:`~bleedorigin.apis.refresh_policy.build_refresh_policy`.
        chunk (int): Frames decoded at once.

    Returns:
        dict: policy -> ``errors`` (T,) per-frame error against the dense ground
        truth (NaN up to the onset frame, which is given, and where no source is
        visible), ``refreshes`` (int) and ``fps`` (tracked frames per second of
        wall time, frame decoding included).
    """
    import time

    from bleedorigin.evaluation.track_runner import run_trackers_on_clip

    from .stream_tracker import as_stream_tracker

    sources = clip.onset_sources()
    if clip.onset_frame is None or not sources:
        raise ValueError(f'{clip.rel_dir}: the policy comparison needs an onset and its sources')
    query = np.array([[s.x, s.y] for s in sources], np.float32)
    # column k of the dense ground truth is the source tracked from query point k
    dense = clip.dense_tracks([s.group_id for s in sources])
    onset, num_frames = clip.onset_frame, clip.num_frames
    results = {}
    for policy in policies:
        stream = as_stream_tracker(tracker, policy if policy is not None else 'none',
                                   origin=f'refresh policy {policy!r}')
        started = time.perf_counter()
        tracked = run_trackers_on_clip({'tracker': stream}, clip, query, onset, num_frames,
                                       chunk)['tracker']
        seconds = time.perf_counter() - started
        points = np.full((num_frames, len(query), 2), np.nan, np.float64)
        points[onset:] = tracked
        errors = frame_track_errors(points, dense['points'], dense['visible'], match='index')
        errors[:onset + 1] = np.nan  # the start frame is given, not predicted
        results[policy] = dict(errors=errors, refreshes=int(stream.refreshes),
                               fps=(num_frames - onset - 1) / seconds if seconds > 0 else None)
    return results
