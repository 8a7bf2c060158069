"""One command for every comparison of the paper on a bench split.

Example (from the repository root)::

    python tools/benchmark.py --detect work_dirs/detect/best.pth \
        --track work_dirs/track/best.pth \
        --yolo work_dirs/yolo_baselines/yolo11n_cpu \
        --data data/synthetic --split test --out work_dirs/benchmark

Runs, on the same clips and in one process: our detector (onset by streaming
every frame, source on the ground-truth onset frame), our tracker (from the
ground-truth onset point to the clip end), every given YOLO run (onset and
source at the confidence thresholds 0.25/0.10/0.01), the classical trackers
(zero motion, Lucas-Kanade, DIS flow), the constant priors (median onset frame
and mean source position of the train split), and any MLLM answer files. Every
flag except ``--data``/``--out`` is optional: what is given is evaluated
(``--detect``/``--track`` default to the shipped checkpoints, ``none`` skips them).

Writes ``DIR/tables.md`` (Tables 3, 4, 5/6, 7 and 10 in the paper's shape,
best per column bold, plus the per-scenario and per-site breakdown),
``DIR/results.json`` (flat metrics) and ``DIR/breakdown.png``.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
import time
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import numpy as np

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

os.environ.setdefault('YOLO_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

from bleedorigin.constants import ONSET_TOLERANCES, POINT_THRESHOLDS  # noqa: E402
from bleedorigin.evaluation.functional import (  # noqa: E402
    onset_accuracy,
    point_accuracy,
    point_errors,
)
from bleedorigin.evaluation.mllm import score_source_predictions  # noqa: E402
from bleedorigin.evaluation.tables import OUR_METHOD, render_metric_tables  # noqa: E402
from bleedorigin.utils.model_zoo import checkpoint_arg  # noqa: E402

TOLERANCES = ONSET_TOLERANCES
# classical rows of Table 7
BASELINE_TRACKERS = ('zero_motion', 'lucas_kanade', 'fb_lucas_kanade', 'dis_flow')
EFFICIENCY_SIZE = (512, 384)  # (W, H), paper Table 10
# Main metric of each task in the breakdown (mid tolerance / threshold of the paper's tables).
BREAKDOWN_METRICS = (('onset', 'acc_4', 'onset ±≤4 (%)'), ('source', 'err_le_50',
                                                            'source ≤50px (%)'),
                     ('track', 'err_le_50', 'track ≤50px (%)'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Benchmark BleedOrigin against every baseline')
    parser.add_argument('--detect', default='detect', type=checkpoint_arg,
                        help='detector checkpoint (our model): a file, a shipped name '
                        '(default: the shipped "detect") or "none" to skip it')
    parser.add_argument('--detect-config', default='configs/bleedorigin/detect.py')
    parser.add_argument('--track', default='track', type=checkpoint_arg,
                        help='tracker checkpoint (our model): a file, a shipped name '
                        '(default: the shipped "track") or "none" to skip it')
    parser.add_argument('--track-config', default='configs/bleedorigin/track.py')
    parser.add_argument('--yolo', nargs='*', default=[],
                        help='YOLO run directories of projects/yolo_baselines')
    parser.add_argument('--mllm', nargs='*', default=[], help='MLLM answers JSONL files')
    parser.add_argument('--data', required=True, help='bench data root')
    parser.add_argument('--split', default='test')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--max-clips', type=int, help='evaluate an evenly spaced subsample')
    parser.add_argument('--baselines', nargs='*', default=list(BASELINE_TRACKERS),
                        choices=list(BASELINE_TRACKERS), help='classical trackers to run')
    parser.add_argument('--efficiency-frames', type=int, default=60,
                        help='frames timed per stage for Table 10 (0 disables)')
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at once')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------- data
def subsample(clips: list, max_clips: Optional[int]) -> list:
    if not max_clips or len(clips) <= max_clips:
        return list(clips)
    picks = np.unique(np.linspace(0, len(clips) - 1, max_clips).round().astype(int))
    return [clips[i] for i in picks]


def onset_sources(clip) -> List[tuple]:
    """Ground-truth sources (group_id, x, y) on the onset frame, sorted by group id."""
    if clip.onset_frame is None:
        return []
    return sorted((s.group_id, s.x, s.y) for s in clip.annotations.get(clip.onset_frame) or [])


def iter_frames(clip, start: int, stop: int, chunk: int):
    """Yield (index, frame) for frames [start, stop), decoding ``chunk`` at a time."""
    for first in range(start, stop, chunk):
        indices = list(range(first, min(first + chunk, stop)))
        yield from zip(indices, clip.load_frames(indices))


# ----------------------------------------------------------------------------- priors
def prior_predictions(train_clips: list, clips: list, source_clips: list):
    """Constant priors fitted on the train split: median onset, mean relative source."""
    onsets = [c.onset_frame for c in train_clips if c.onset_frame is not None]
    rel = [(x / c.width, y / c.height) for c in train_clips for _, x, y in onset_sources(c)]
    if not onsets or not rel:
        return None, None
    median = int(round(float(np.median(onsets))))
    mean_x, mean_y = np.mean(rel, axis=0)
    onset = [min(median, c.num_frames - 1) for c in clips]
    source = [(mean_x * c.width, mean_y * c.height) for c in source_clips]
    return onset, source


# ----------------------------------------------------------------------------- detection
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
                            TOLERANCES)
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


# ----------------------------------------------------------------------------- tracking
def track_clip(tracker, clip, chunk: int) -> tuple:
    """Track the GT onset sources to the clip end.

    Returns:
        tuple: group ids (K,) and predictions (T, K, 2) for frames
        onset..num_frames-1 (row 0 = the query).
    """
    sources = onset_sources(clip)
    groups = np.array([g for g, _, _ in sources])
    query = np.array([[x, y] for _, x, y in sources], np.float32)
    start = clip.onset_frame
    preds = np.zeros((clip.num_frames - start, len(query), 2), np.float32)
    preds[0] = query
    for index, frame in iter_frames(clip, start, clip.num_frames, chunk):
        if index == start:
            tracker.init(frame, query)
        else:
            preds[index - start] = np.asarray(tracker.step(frame)[0], np.float32)
    return groups, preds


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
        groups, preds = track_clip(tracker, clip, chunk)
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


# ----------------------------------------------------------------------------- breakdown
def group_indices(clips: list) -> Dict[str, List[int]]:
    """Clip indices per scenario and per site (a clip can have several scenarios)."""
    groups: Dict[str, List[int]] = OrderedDict()
    for key in ('scenarios', 'site'):
        for i, clip in enumerate(clips):
            values = clip.scenarios if key == 'scenarios' else [clip.site]
            for value in values or []:
                if value:
                    groups.setdefault(f'{"scenario" if key == "scenarios" else "site"}: {value}',
                                      []).append(i)
    return OrderedDict(sorted(groups.items()))


def breakdown_rows(clips: list, source_index: Dict[int, int], track_index: Dict[int, int],
                   onset_preds: Dict[str, list], source_preds: Dict[str, list],
                   track_sparse: Dict[str, dict]) -> Dict[str, Dict[str, float]]:
    """Main metric of each task and method on every scenario/site group."""
    rows: Dict[str, Dict[str, float]] = OrderedDict()
    for group, indices in group_indices(clips).items():
        row = {'clips': float(len(indices))}
        sub = [clips[i] for i in indices]
        for method, preds in onset_preds.items():
            if any(c.onset_frame is not None for c in sub):
                m = onset_accuracy([preds[i] for i in indices], [c.onset_frame for c in sub],
                                   [c.num_frames for c in sub], TOLERANCES)
                row[f'onset|{method}'] = m['acc_4']
        src = [source_index[i] for i in indices if i in source_index]
        for method, preds in source_preds.items():
            if src:
                m = source_metrics(None, [preds[j] for j in src],
                                   [clips[i] for i in indices if i in source_index])
                row[f'source|{method}'] = m['source/err_le_50']
        trk = [track_index[i] for i in indices if i in track_index]
        for method, sparse in track_sparse.items():
            m = track_metrics(None, sparse, {}, trk)
            if 'track/err_le_50' in m:
                row[f'track|{method}'] = m['track/err_le_50']
        rows[group] = row
    return rows


def breakdown_table(rows: Dict[str, Dict[str, float]]) -> str:
    keys = []
    for row in rows.values():
        keys += [k for k in row if k != 'clips' and k not in keys]
    labels = {task: label for task, _, label in BREAKDOWN_METRICS}
    columns = [('clips', 'clips', None)] + [
        (k, f"{labels[k.split('|')[0]]} {k.split('|')[1]}", True) for k in keys]
    lines = ['**Per-scenario and per-site breakdown (main metric of each task)**', '',
             '| Group | ' + ' | '.join(c[1] for c in columns) + ' |',
             '|---|' + '---:|' * len(columns)]
    for group, row in rows.items():
        cells = []
        for key, _, _ in columns:
            value = row.get(key)
            cells.append('–' if value is None else
                         (f'{int(value)}' if key == 'clips' else f'{value:.1f}'))
        lines.append(f'| {group} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def breakdown_chart(rows: Dict[str, Dict[str, float]], path: str) -> Optional[str]:
    """Grouped bar chart: one panel per task, one bar per method and group."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not rows:
        return None
    groups = list(rows)
    fig, axes = plt.subplots(len(BREAKDOWN_METRICS), 1,
                             figsize=(max(8, 0.6 * len(groups) + 2), 3.2 * len(BREAKDOWN_METRICS)),
                             squeeze=False)
    for ax, (task, _, label) in zip(axes[:, 0], BREAKDOWN_METRICS):
        keys = sorted({k for row in rows.values() for k in row if k.startswith(task + '|')})
        width = 0.8 / max(len(keys), 1)
        for j, key in enumerate(keys):
            values = [rows[g].get(key, np.nan) for g in groups]
            ax.bar(np.arange(len(groups)) + (j - (len(keys) - 1) / 2) * width, values, width,
                   label=key.split('|')[1])
        ax.set_ylabel(label)
        ax.set_ylim(0, 100)
        ax.set_xticks(np.arange(len(groups)))
        ax.set_xticklabels(groups, rotation=35, ha='right', fontsize=8)
        if keys:
            ax.legend(fontsize=7, loc='upper right')
        else:
            ax.text(0.5, 0.5, 'not evaluated', transform=ax.transAxes, ha='center')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ----------------------------------------------------------------------------- efficiency
def _flops(fn) -> Optional[float]:
    """GFLOPs of one call, one multiply-add counted as one FLOP (mmengine convention)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            fn()
        return counter.get_total_flops() / 2 / 1e9
    except Exception:  # noqa: BLE001 - an op the counter cannot follow: no FLOP figure
        return None


def _efficiency_row(timer, stage: str, params: int, gflops: Optional[float]) -> dict:
    summary = timer.summary()[stage]
    return {'params_m': params / 1e6, 'gflops': gflops, 'latency_ms': summary['latency_ms'],
                'fps': summary['fps'], 'peak_mem_mb': summary['peak_mem_mb']}


def measure_efficiency(frames: np.ndarray, detector=None, tracker=None, yolo=None,
                       pipeline=None, query: Optional[np.ndarray] = None,
                       warmup: int = 2) -> Dict[str, dict]:
    """Table 10 rows measured on the same (T, 384, 512, 3) frames in one run.

    Args:
        frames (np.ndarray): Frames at 512x384.
        detector, tracker: Our streaming models (optional).
        yolo: A :class:`YOLOBleedingDetector` (optional).
        pipeline: A ``BleedOriginNet`` in deployment mode (optional).
        query (np.ndarray): (K, 2) start points of the tracker at 512x384.
        warmup (int): Untimed calls per stage before timing.
    """
    from bleedorigin.utils.profiling import StageTimer, count_parameters

    timer = StageTimer()
    rows: Dict[str, dict] = OrderedDict()
    warm = frames[:warmup]
    if detector is not None:
        detector.reset_stream()
        for frame in warm:  # first calls allocate buffers and caches: not timed
            detector.stream_step(frame)
            detector.locate_source(frame, reference=frames[0])
        detector.reset_stream()
        for frame in frames:
            with timer.stage('onset'):
                detector.stream_step(frame)
        gflops = _flops(lambda: detector.stream_step(frames[-1]))
        rows['Initial bleeding frame detection (ours)'] = _efficiency_row(
            timer, 'onset', count_parameters(detector), gflops)
        for frame in frames[: max(len(frames) // 4, 1)]:
            with timer.stage('source'):
                detector.locate_source(frame, reference=frames[0])
        gflops = _flops(lambda: detector.locate_source(frames[-1], reference=frames[0]))
        rows['Initial bleeding source detection (ours)'] = _efficiency_row(
            timer, 'source', count_parameters(detector), gflops)
    if tracker is not None:
        tracker.init(frames[0], query)
        for frame in warm:
            tracker.step(frame)
        tracker.init(frames[0], query)
        for frame in frames[1:]:
            with timer.stage('track'):
                tracker.step(frame)
        gflops = _flops(lambda: tracker.step(frames[-1]))
        rows['Bleeding source tracking (ours)'] = _efficiency_row(
            timer, 'track', count_parameters(tracker), gflops)
    if pipeline is not None:
        pipeline.reset()
        for frame in warm:
            pipeline.step(frame)
        pipeline.reset()
        for frame in frames:
            with timer.stage('pipeline'):
                pipeline.step(frame)
        rows['Whole pipeline, streaming (ours)'] = _efficiency_row(
            timer, 'pipeline', count_parameters(pipeline.detector) +
            count_parameters(pipeline.tracker), None)
    if yolo is not None:
        for frame in warm:
            yolo(frame[None])
        for frame in frames:
            with timer.stage('yolo'):
                yolo(frame[None])
        gflops = _flops(lambda: yolo(frames[-1][None]))
        rows[f'{yolo.method} inference (baseline)'] = _efficiency_row(
            timer, 'yolo', count_parameters(yolo.yolo), gflops)
    return rows


def efficiency_metrics(rows: Dict[str, dict]) -> Dict[str, float]:
    out = {}
    for name, row in rows.items():
        for key, value in row.items():
            if value is not None:
                out[f'efficiency/{name}/{key}'] = value
    pipe = next((r for n, r in rows.items() if n.startswith('Whole pipeline')), None)
    yolo = next((r for n, r in rows.items() if n.endswith('(baseline)')), None)
    if pipe and yolo:
        out['efficiency/pipeline_fps_over_yolo_fps'] = pipe['fps'] / yolo['fps']
    return out


# ----------------------------------------------------------------------------- model loading
def load_yolo_modules():
    from projects.yolo_baselines.yolo_baselines import (
        YOLOBleedingDetector,
        collect_detections,
        render_confidence_tables,
        yolo_metrics,
    )
    return YOLOBleedingDetector, collect_detections, render_confidence_tables, yolo_metrics


def reference_yolo11n():
    """YOLO11-n built from its yaml (random weights) for the speed row when no run is given."""
    import torch

    from projects.yolo_baselines.yolo_baselines.offline import import_ultralytics
    from projects.yolo_baselines.yolo_baselines.predictor import BestBoxPredictor

    import_ultralytics()
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel('yolo11n.yaml', nc=1, verbose=False).eval()
    for p in model.parameters():
        p.requires_grad_(False)

    class _Speed(torch.nn.Module):
        method = 'YOLOv11-n'

        def __init__(self):
            super().__init__()
            self.yolo = model
            self.predictor = BestBoxPredictor(model, 640)

        def forward(self, frames):
            return self.predictor(frames)

    return _Speed()


# ----------------------------------------------------------------------------- main
def run(args) -> Dict[str, float]:
    from bleedorigin.datasets.bench import BenchIndex

    started = time.time()
    os.makedirs(args.out, exist_ok=True)
    index = BenchIndex(args.data, split=args.split)
    clips = subsample(index.clips, args.max_clips)
    if not clips:
        raise ValueError(f'{args.data}: split {args.split!r} has no valid clips')
    train_clips = BenchIndex(args.data, split='train').clips if 'train' in index.splits else []
    source_clips = [c for c in clips if onset_sources(c)]
    source_index = {i: j for j, i in enumerate(i for i, c in enumerate(clips) if onset_sources(c))}
    track_index = dict(source_index)
    metrics: Dict[str, float] = OrderedDict()
    onset_preds: Dict[str, list] = OrderedDict()
    source_preds: Dict[str, list] = OrderedDict()
    track_sparse: Dict[str, dict] = OrderedDict()
    notes: List[str] = []
    detector = tracker = None

    if args.detect:
        from bleedorigin.apis.model_builder import DETECTOR_METHODS, build_stream_model
        detector = build_stream_model(args.detect_config, args.detect, DETECTOR_METHODS)
        onsets, sources = run_detector(detector, clips, args.chunk)
        onset_preds[OUR_METHOD], source_preds[OUR_METHOD] = onsets, sources
        metrics.update(onset_metrics(None, onsets, clips))
        metrics.update(source_metrics(None, sources, source_clips))
    else:
        notes.append('our detector not evaluated (no --detect checkpoint)')

    yolo_runs = []
    conf_tables = ''
    if args.yolo:
        YOLODet, collect, render_conf, yolo_metrics = load_yolo_modules()
        yolo_metric_block = {}
        for run_dir in args.yolo:
            yolo = YOLODet(run_dir)
            detections = collect(yolo, clips)
            block = yolo_metrics(yolo.method, clips, detections)
            yolo_metric_block.update(block)
            onset_preds[yolo.method] = [yolo.onset_from_confidences(d['confidences'])
                                        for d in detections]
            source_preds[yolo.method] = [
                (float(d['centres'][c.onset_frame][0]), float(d['centres'][c.onset_frame][1]))
                if d['confidences'][c.onset_frame] > yolo.onset_threshold else None
                for c, d in zip(clips, detections) if onset_sources(c)]
            yolo_runs.append(yolo)
        metrics.update(yolo_metric_block)
        conf_tables = render_conf(yolo_metric_block)

    prior_onset, prior_source = prior_predictions(train_clips, clips, source_clips)
    if prior_onset is not None:
        metrics.update(onset_metrics('prior_median', prior_onset, clips))
        metrics.update(source_metrics('prior_mean', prior_source, source_clips))
        onset_preds['prior_median'] = prior_onset
        source_preds['prior_mean'] = prior_source
    else:
        notes.append('no constant prior: the train split has no annotated onset')

    for path in args.mllm:
        from bleedorigin.evaluation.mllm.harness import score_answers
        mllm, reasons = score_answers(path, args.data, args.split)
        metrics.update(mllm)
        for model, why in reasons.items():
            if why:
                notes.append(f'MLLM {model}: misses/notes {dict(why)}')

    track_clips = source_clips
    if args.track:
        from bleedorigin.apis.model_builder import TRACKER_METHODS, build_stream_model
        tracker = build_stream_model(args.track_config, args.track, TRACKER_METHODS)
        sparse, dense = run_tracker(tracker, 'BleedOrigin-Track', track_clips, args.chunk)
        metrics.update(track_metrics(None, sparse, dense))
        track_sparse[OUR_METHOD] = sparse
    else:
        notes.append('our tracker not evaluated (no --track checkpoint)')
    if args.baselines:
        from bleedorigin.models.trackers.baselines import BASELINE_TRACKERS as TRACKER_CLASSES
        for name in args.baselines:
            baseline = TRACKER_CLASSES[name]()
            sparse, dense = run_tracker(baseline, name, track_clips, args.chunk)
            metrics.update(track_metrics(name, sparse, dense))
            track_sparse[name] = sparse

    rows = breakdown_rows(clips, source_index, track_index, onset_preds, source_preds,
                          track_sparse)
    chart = breakdown_chart(rows, osp.join(args.out, 'breakdown.png'))

    efficiency_rows = {}
    if args.efficiency_frames > 0:
        efficiency_rows = efficiency_on_clip(args, clips, detector, tracker, yolo_runs)
        metrics.update(efficiency_metrics(efficiency_rows))

    metrics['benchmark/num_clips'] = len(clips)
    metrics['benchmark/seconds'] = time.time() - started
    write_outputs(args, metrics, conf_tables, rows, chart, efficiency_rows, notes, clips)
    return metrics


def efficiency_on_clip(args, clips, detector, tracker, yolo_runs) -> Dict[str, dict]:
    """Table 10 on the first positive clip's frames (else the first clip), at 512x384."""
    import cv2

    clip = next((c for c in clips if onset_sources(c)), clips[0])
    count = min(args.efficiency_frames, clip.num_frames)
    start = max(0, min(clip.onset_frame or 0, clip.num_frames - count))
    frames = clip.load_frames(range(start, start + count))
    frames = np.stack([cv2.resize(f, EFFICIENCY_SIZE, interpolation=cv2.INTER_AREA)
                       for f in frames])
    scale = np.array([EFFICIENCY_SIZE[0] / clip.width, EFFICIENCY_SIZE[1] / clip.height])
    sources = onset_sources(clip)
    query = (np.array([[x, y] for _, x, y in sources]) * scale if sources else
             np.array([[EFFICIENCY_SIZE[0] / 2, EFFICIENCY_SIZE[1] / 2]])).astype(np.float32)
    yolo = next((y for y in yolo_runs if y.method == 'YOLOv11-n'), None) or reference_yolo11n()
    pipeline = None
    if detector is not None and tracker is not None:
        from bleedorigin.apis.bleedorigin_net import BleedOriginNet
        pipeline = BleedOriginNet(detector, tracker, mode='deployment')
    return measure_efficiency(frames, detector, tracker, yolo, pipeline, query)


def write_outputs(args, metrics, conf_tables, rows, chart, efficiency_rows, notes, clips):
    from bleedorigin.utils.profiling import format_efficiency_table

    blocks = [f'# BleedOrigin benchmark: {args.data} split {args.split} ({len(clips)} clips)',
              '', 'Command: `python tools/benchmark.py ' + ' '.join(sys.argv[1:]) + '`', '',
              render_metric_tables(metrics)]
    if conf_tables:
        blocks.append(conf_tables)
    if efficiency_rows:
        blocks += [f'**Table 10: efficiency at {EFFICIENCY_SIZE[0]}x{EFFICIENCY_SIZE[1]}, '
                   'same frames, same run (CPU; GFLOPs: one multiply-add = one FLOP; peak '
                   'memory: Python-heap peak of the stage)**', '',
                   format_efficiency_table(efficiency_rows), '']
        ratio = metrics.get('efficiency/pipeline_fps_over_yolo_fps')
        if ratio is not None:
            blocks.append(f'Streaming pipeline FPS / YOLO11-n FPS = **{ratio:.2f}**\n')
    if rows:
        blocks.append(breakdown_table(rows))
        if chart:
            blocks.append(f'![per-scenario and per-site breakdown]({osp.basename(chart)})\n')
    if notes:
        blocks.append('Notes:\n' + '\n'.join(f'- {n}' for n in notes) + '\n')
    with open(osp.join(args.out, 'tables.md'), 'w') as f:
        f.write('\n'.join(blocks))
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump({k: (None if isinstance(v, float) and math.isnan(v) else v)
                   for k, v in metrics.items()}, f, indent=2)
    print('\n'.join(blocks))
    print(f'benchmark: {len(clips)} clips, {metrics["benchmark/seconds"]:.0f} s -> '
          f'{osp.join(args.out, "tables.md")}, {osp.join(args.out, "results.json")}')


def main(argv=None) -> Dict[str, float]:
    return run(parse_args(argv))


if __name__ == '__main__':
    main()
