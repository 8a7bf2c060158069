"""Onset alarms as a clinician counts them: false alarms per hour of non-bleeding video and
the alert latency (frames from the true onset to the alarm) on positive clips.

The detector's ``stream_step`` keeps its onset once eq. 2 has fired; here an alarm is
the frame at which that first happens. On a long negative stream the alarm is then
dismissed (``reset_stream``) and watching resumes, as a clinician would after checking
the field, so every further alarm counts again.
"""
from typing import Iterable, List, Optional, Sequence

import numpy as np


def stream_alarms(detector, frames: Iterable[np.ndarray], rearm: bool = True) -> dict:
    """Stream frames through ``detector.stream_step`` and record every alarm.

    Args:
        detector: Object with ``reset_stream()`` and ``stream_step(frame) -> dict``
            holding ``onset_frame`` (None until eq. 2 fires).
        frames (Iterable[np.ndarray]): (H, W, 3) uint8 RGB frames.
        rearm (bool): After an alarm, reset the detector and keep watching (long
            negative streams); False stops counting after the first alarm.

    Returns:
        dict: ``alerts`` (stream frame index of each alarm), ``onsets`` (the onset
        frame each alarm reported, in stream frames) and ``num_frames``.
    """
    detector.reset_stream()
    alerts: List[int] = []
    onsets: List[int] = []
    offset, count, armed = 0, 0, True
    for index, frame in enumerate(frames):
        count = index + 1
        if not armed:
            continue
        state = detector.stream_step(frame)
        if state.get('onset_frame') is not None:
            alerts.append(index)
            onsets.append(offset + int(state['onset_frame']))
            if rearm:
                detector.reset_stream()
                offset = index + 1
            else:
                armed = False
    return dict(alerts=alerts, onsets=onsets, num_frames=count)


def false_alarms_per_hour(num_alarms: int, num_frames: int, fps: float) -> float:
    """Alarms per hour of video of ``num_frames`` frames at ``fps``."""
    if num_frames <= 0 or fps <= 0:
        raise ValueError(f'false_alarms_per_hour: need positive num_frames and fps, got '
                         f'{num_frames} and {fps}')
    return float(num_alarms) * 3600.0 * float(fps) / float(num_frames)


def alert_latencies(first_alerts: Sequence[Optional[int]],
                    gt_onsets: Sequence[int]) -> List[Optional[int]]:
    """Frames from the true onset to the first alarm of each positive clip (None: no
    alarm; negative: the alarm came before the onset)."""
    if len(first_alerts) != len(gt_onsets):
        raise ValueError(f'alert_latencies: {len(first_alerts)} alerts for {len(gt_onsets)} '
                         'onsets')
    return [None if a is None else int(a) - int(g) for a, g in zip(first_alerts, gt_onsets)]
