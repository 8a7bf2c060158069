"""Onset-frame accuracy (paper eq. 9-10) as pure functions.

A positive clip whose detector never fired (no window with S_conf > 0.5) is a
*miss*: it is wrong at every tolerance k, and its frame error is the distance
from the ground-truth onset to the clip end (the alarm never came).
"""
from typing import Dict, Optional, Sequence

import numpy as np

from bleedorigin.constants import ONSET_TOLERANCES as DEFAULT_TOLERANCES


def onset_accuracy(pred_onsets: Sequence[Optional[int]],
                   gt_onsets: Sequence[Optional[int]],
                   num_frames: Sequence[int],
                   tolerances: Sequence[int] = DEFAULT_TOLERANCES) -> Dict[str, float]:
    """Acc±k, mean absolute error, signed bias, miss rate and false-alarm rate.

    Args:
        pred_onsets (Sequence[int | None]): Predicted onset frame per clip (None: no alarm).
        gt_onsets (Sequence[int | None]): Ground-truth onset per clip (None: negative clip).
        num_frames (Sequence[int]): Clip lengths, used for the error of a miss.
        tolerances (Sequence[int]): Frame tolerances k.

    Returns:
        dict: ``acc_<k>`` (percent of positive clips with |t_pred - t_gt| <= k),
        ``err_avg`` (mean absolute frame error over positive clips), ``bias`` (signed
        mean t_pred - t_gt over the detected positive clips), ``miss_rate`` (percent of
        positive clips without an alarm), ``false_alarm_rate`` (percent of negative
        clips with an alarm) and the clip counts ``num_positive``/``num_negative``.
        Rates over an empty set are NaN.
    """
    if not len(pred_onsets) == len(gt_onsets) == len(num_frames):
        raise ValueError('onset_accuracy: pred_onsets, gt_onsets and num_frames differ in length '
                         f'({len(pred_onsets)}, {len(gt_onsets)}, {len(num_frames)})')
    abs_errors, signed, detected = [], [], []
    false_alarms = []
    for pred, gt, length in zip(pred_onsets, gt_onsets, num_frames):
        if gt is None:
            false_alarms.append(pred is not None)
            continue
        if pred is None:
            abs_errors.append(float(max(int(length) - int(gt), 0)))
            detected.append(False)
        else:
            abs_errors.append(float(abs(int(pred) - int(gt))))
            signed.append(float(int(pred) - int(gt)))
            detected.append(True)
    abs_errors = np.asarray(abs_errors)
    detected = np.asarray(detected, dtype=bool)
    nan = float('nan')
    results = {}
    for k in tolerances:
        hits = detected & (abs_errors <= k)
        results[f'acc_{k}'] = float(100.0 * hits.mean()) if hits.size else nan
    results['err_avg'] = float(abs_errors.mean()) if abs_errors.size else nan
    results['bias'] = float(np.mean(signed)) if signed else nan
    results['miss_rate'] = float(100.0 * (~detected).mean()) if detected.size else nan
    results['false_alarm_rate'] = (
        float(100.0 * np.mean(false_alarms)) if false_alarms else nan)
    results['num_positive'] = int(detected.size)
    results['num_negative'] = len(false_alarms)
    return results
