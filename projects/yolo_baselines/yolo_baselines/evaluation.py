"""Score YOLO detectors on bench clips with the shared metric functions.

Onset accuracy goes through :func:`bleedorigin.evaluation.functional.onset_accuracy`
and source accuracy through :func:`bleedorigin.evaluation.mllm.score_source_predictions`
(built on ``point_errors``/``point_accuracy``), the code that scores our detector.

Flat keys:

- ``onset/<method>/<metric>`` and ``source/<method>/<metric>`` at the table
  threshold (Tables 3 and 4, paper: 0.01);
- ``yolo_onset/<method>/c<thr>_acc_<k>`` and ``yolo_source/<method>/c<thr>_<metric>``
  for every confidence threshold (Tables 5 and 6);
- ``yolo_gate/<method>@k<K>/c<thr>_<metric>`` for every alarm gate K > 1 (the onset is
  the first frame of K consecutive frames above the threshold) and threshold (Table 5b).
"""
from typing import Dict, List, Sequence

import numpy as np

from bleedorigin.constants import ONSET_TOLERANCES
from bleedorigin.evaluation.functional import onset_accuracy
from bleedorigin.evaluation.mllm import score_source_predictions
from bleedorigin.evaluation.tables import POINT_COLUMNS, render_table

from .onset import (
    CONFIDENCE_THRESHOLDS,
    GATE_RUNS,
    TABLE_THRESHOLD,
    first_frame_above,
    source_at_frame,
)

CONF_TOLERANCES = (*ONSET_TOLERANCES, 16)  # Table 5 adds ±16


def collect_detections(detector, clips: Sequence) -> List[Dict[str, np.ndarray]]:
    """Per-clip best-detection confidences and centres, with a progress bar."""
    from tqdm import tqdm

    return [detector.predict_clip(clip)
            for clip in tqdm(clips, desc=f'{detector.method} inference', unit='clip')]


def threshold_key(threshold: float) -> str:
    return f'c{threshold:g}'


def yolo_metrics(method: str, clips: Sequence, detections: Sequence[Dict[str, np.ndarray]],
                 thresholds: Sequence[float] = CONFIDENCE_THRESHOLDS,
                 table_threshold: float = TABLE_THRESHOLD,
                 runs: Sequence[int] = GATE_RUNS) -> Dict[str, float]:
    """Onset and source metrics of one YOLO variant at every threshold.

    Args:
        method (str): Row name (``YOLOv11-n``); must not contain '/'.
        clips (Sequence[ClipRecord]): Evaluated clips (positive and negative).
        detections (Sequence[dict]): :func:`collect_detections` output, same order.
        thresholds (Sequence[float]): Confidence thresholds of Tables 5/6.
        table_threshold (float): Threshold reported in Tables 3/4.
        runs (Sequence[int]): Alarm gates K of Table 5b (K = 1 is Table 5).

    Returns:
        dict: Flat metric keys (see module docstring).
    """
    if '/' in method:
        raise ValueError(f'method name {method!r} must not contain "/"')
    if len(clips) != len(detections):
        raise ValueError(f'{len(clips)} clips but {len(detections)} detections')
    thresholds = list(dict.fromkeys([*thresholds, table_threshold]))
    gt_onsets = [c.onset_frame for c in clips]
    lengths = [c.num_frames for c in clips]
    source_clips = [i for i, c in enumerate(clips)
                    if c.onset_frame is not None and c.annotations.get(c.onset_frame)]
    metrics: Dict[str, float] = {}
    for threshold in thresholds:
        preds = [first_frame_above(d['confidences'], threshold) for d in detections]
        onset = onset_accuracy(preds, gt_onsets, lengths, tolerances=CONF_TOLERANCES)
        sources = []
        for i in source_clips:
            t = clips[i].onset_frame
            sources.append(source_at_frame(detections[i]['confidences'][t],
                                           detections[i]['centres'][t], threshold))
        source = score_source_predictions(
            sources, [[(s.x, s.y) for s in clips[i].annotations[clips[i].onset_frame]]
                      for i in source_clips],
            [(clips[i].width, clips[i].height) for i in source_clips]) if source_clips else {}
        tag = threshold_key(threshold)
        for name, value in onset.items():
            metrics[f'yolo_onset/{method}/{tag}_{name}'] = value
        for run in runs:
            if int(run) == 1:
                continue
            gated = onset_accuracy([first_frame_above(d['confidences'], threshold, run)
                                    for d in detections], gt_onsets, lengths,
                                   tolerances=CONF_TOLERANCES)
            for name, value in gated.items():
                metrics[f'yolo_gate/{method}@k{int(run)}/{tag}_{name}'] = value
        for name, value in source.items():
            metrics[f'yolo_source/{method}/{tag}_{name}'] = value
        if threshold == table_threshold:
            for name, value in onset.items():
                if name != 'acc_16':
                    metrics[f'onset/{method}/{name}'] = value
            for name, value in source.items():
                metrics[f'source/{method}/{name}'] = value
    return metrics


def render_confidence_tables(metrics: Dict[str, float],
                             thresholds: Sequence[float] = CONFIDENCE_THRESHOLDS) -> str:
    """Tables 5 and 6 (YOLO under confidence thresholds) from flat metrics."""
    blocks = []
    specs = [
        ('yolo_onset', 'Table 5: frame-level accuracy (%) of YOLO under confidence thresholds',
         [(f'acc_{k}', f'±≤{k}', True) for k in CONF_TOLERANCES]),
        ('yolo_source', 'Table 6: pixel-level accuracy (%) of YOLO under confidence thresholds',
         list(POINT_COLUMNS) + [('miss_rate', 'miss % ↓', False)]),
    ]
    for task, title, base_columns in specs:
        rows: Dict[str, Dict[str, float]] = {}
        for key, value in metrics.items():
            parts = key.split('/')
            if len(parts) == 3 and parts[0] == task:
                rows.setdefault(parts[1], {})[parts[2]] = value
        if not rows:
            continue
        columns = [(f'{threshold_key(t)}_{k}', f'{t:g}: {h}', hib)
                   for t in thresholds for k, h, hib in base_columns]
        blocks.append(render_table(title, rows, columns))
    gate_rows: Dict[str, Dict[str, float]] = {}
    for key, value in metrics.items():
        parts = key.split('/')
        if len(parts) == 3 and parts[0] in ('yolo_onset', 'yolo_gate'):
            row = parts[1] if parts[0] == 'yolo_gate' else f'{parts[1]}@k1'
            gate_rows.setdefault(row, {})[parts[2]] = value
    if any('@k1' not in row for row in gate_rows):
        columns = [(f'{threshold_key(t)}_{k}', f'{t:g}: {h}', hib) for t in thresholds
                   for k, h, hib in (('acc_0', '±≤0', True), ('acc_8', '±≤8', True),
                                     ('miss_rate', 'miss % ↓', False),
                                     ('false_alarm_rate', 'FA % ↓', False))]
        blocks.append(render_table(
            'Table 5b: YOLO onset with the alarm gate (first frame of K consecutive frames '
            'above the threshold; @k1 is Table 5)', dict(sorted(gate_rows.items())), columns))
    return '\n'.join(blocks)
