"""The benchmark of tools/benchmark.py as a library: every comparison of the paper
on one bench split, in one process, on the same clips.

Runs our detector (onset by streaming every frame, source on the ground-truth
onset frame), our tracker (from the ground-truth onset point to the clip end),
every given YOLO run, the classical trackers, the constant priors and any MLLM
answer files, then writes ``<out>/tables.md`` (Tables 3, 4, 5/6, 7 and 10 plus
the per-scenario and per-site breakdown), ``<out>/results.json`` and
``<out>/breakdown.png``. It composes models (``model_builder``,
``BleedOriginNet``) with evaluation code, so it lives in ``apis``, the top layer.
"""
import math
import os
import os.path as osp
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from bleedorigin.constants import EFFICIENCY_SIZE
from bleedorigin.datasets.bench import BenchIndex
from bleedorigin.evaluation.bench_scoring import (
    onset_metrics,
    run_detector,
    run_tracker,
    source_metrics,
    track_metrics,
)
from bleedorigin.evaluation.breakdown import breakdown_chart, breakdown_rows, breakdown_table
from bleedorigin.evaluation.clips import subsample
from bleedorigin.evaluation.priors import prior_predictions
from bleedorigin.evaluation.tables import OUR_METHOD, render_metric_tables
from bleedorigin.utils.io import atomic_output, write_json_atomic
from bleedorigin.utils.profiling import (
    efficiency_metrics,
    format_efficiency_table,
    measure_efficiency,
)

from .bleedorigin_net import BleedOriginNet
from .model_builder import build_stream_detector, build_stream_tracker

# classical rows of Table 7
BASELINE_TRACKERS = ('zero_motion', 'lucas_kanade', 'fb_lucas_kanade', 'dis_flow')


@dataclass
class YoloBackend:
    """Entry points of the YOLO project (``projects/yolo_baselines``), given by the caller
    so that the package does not import a project."""
    detector_cls: Callable
    collect_detections: Callable
    render_confidence_tables: Callable
    yolo_metrics: Callable
    reference_yolo11n: Callable


@dataclass
class BenchmarkConfig:
    """What :func:`run_benchmark` evaluates (the flags of tools/benchmark.py).

    Args:
        data (str): Bench data root.
        out (str): Output directory.
        split (str): Split to evaluate. Defaults to ``'test'``.
        detect, track (str, optional): Our checkpoints; None skips the model.
        detect_config, track_config (str): Their configs.
        yolo (Sequence[str]): YOLO run directories.
        mllm (Sequence[str]): MLLM answers JSONL files.
        max_clips (int, optional): Evaluate an evenly spaced subsample.
        baselines (Sequence[str]): Classical trackers to run.
        efficiency_frames (int): Frames timed per stage for Table 10 (0 disables).
        efficiency_threads (Sequence[int]): Torch thread counts Table 10 times every
            model at; each row keeps its fastest (each model at its best setting,
            same run). Empty: the current setting only.
        chunk (int): Frames decoded at once.
        command (str): The command line quoted in tables.md.
    """
    data: str
    out: str
    split: str = 'test'
    detect: Optional[str] = None
    detect_config: str = 'configs/bleedorigin/detect.py'
    track: Optional[str] = None
    track_config: str = 'configs/bleedorigin/track.py'
    yolo: Sequence[str] = ()
    mllm: Sequence[str] = ()
    max_clips: Optional[int] = None
    baselines: Sequence[str] = BASELINE_TRACKERS
    efficiency_frames: int = 150
    efficiency_threads: Sequence[int] = ()
    chunk: int = 32
    command: str = 'python tools/benchmark.py'


def run_benchmark(cfg: BenchmarkConfig, yolo_backend: Optional[YoloBackend] = None
                  ) -> Dict[str, float]:
    """Run every comparison of ``cfg`` on its split; write tables.md, results.json, chart.

    Args:
        cfg (BenchmarkConfig): What to evaluate and where to write.
        yolo_backend (YoloBackend, optional): The YOLO project's entry points;
            needed for ``cfg.yolo`` runs and for the YOLO11-n speed row of
            Table 10 (without it that row is left out).

    Returns:
        dict: Flat metrics (also written to ``<out>/results.json``).
    """
    started = time.time()
    os.makedirs(cfg.out, exist_ok=True)
    index = BenchIndex(cfg.data, split=cfg.split)
    clips = subsample(index.clips, cfg.max_clips)
    if not clips:
        raise ValueError(f'{cfg.data}: split {cfg.split!r} has no valid clips')
    train_clips = BenchIndex(cfg.data, split='train').clips if 'train' in index.splits else []
    has_source = [bool(c.onset_sources()) for c in clips]
    source_clips = [c for c, ok in zip(clips, has_source) if ok]
    source_index = {i: j for j, i in enumerate(i for i, ok in enumerate(has_source) if ok)}
    track_index = dict(source_index)
    metrics: Dict[str, float] = OrderedDict()
    onset_preds: Dict[str, list] = OrderedDict()
    source_preds: Dict[str, list] = OrderedDict()
    track_sparse: Dict[str, dict] = OrderedDict()
    notes: List[str] = []
    detector = tracker = None

    if cfg.detect:
        detector = build_stream_detector(cfg.detect_config, cfg.detect)
        onsets, sources = run_detector(detector, clips, cfg.chunk)
        onset_preds[OUR_METHOD], source_preds[OUR_METHOD] = onsets, sources
        metrics.update(onset_metrics(None, onsets, clips))
        metrics.update(source_metrics(None, sources, source_clips))
    else:
        notes.append('our detector not evaluated (no --detect checkpoint)')

    yolo_runs = []
    conf_tables = ''
    if cfg.yolo:
        if yolo_backend is None:
            raise ValueError('YOLO runs given but no yolo_backend: pass the YOLO project '
                             '(see tools/benchmark.py load_yolo_backend)')
        YOLODet, collect, render_conf, yolo_metrics = (
            yolo_backend.detector_cls, yolo_backend.collect_detections,
            yolo_backend.render_confidence_tables, yolo_backend.yolo_metrics)
        yolo_metric_block = {}
        for run_dir in cfg.yolo:
            yolo = YOLODet(run_dir)
            detections = collect(yolo, clips)
            block = yolo_metrics(yolo.method, clips, detections)
            yolo_metric_block.update(block)
            onset_preds[yolo.method] = [yolo.onset_from_confidences(d['confidences'])
                                        for d in detections]
            source_preds[yolo.method] = [
                (float(d['centres'][c.onset_frame][0]), float(d['centres'][c.onset_frame][1]))
                if d['confidences'][c.onset_frame] > yolo.onset_threshold else None
                for c, d, ok in zip(clips, detections, has_source) if ok]
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

    for path in cfg.mllm:
        from bleedorigin.evaluation.mllm.harness import score_answers
        mllm, reasons = score_answers(path, cfg.data, cfg.split)
        metrics.update(mllm)
        for model, why in reasons.items():
            if why:
                notes.append(f'MLLM {model}: misses/notes {dict(why)}')

    track_clips = source_clips
    if cfg.track:
        tracker = build_stream_tracker(cfg.track_config, cfg.track)  # config refresh
        sparse, dense = run_tracker(tracker, 'BleedOrigin-Track', track_clips, cfg.chunk)
        metrics.update(track_metrics(None, sparse, dense))
        track_sparse[OUR_METHOD] = sparse
    else:
        notes.append('our tracker not evaluated (no --track checkpoint)')
    if cfg.baselines:
        from bleedorigin.models.trackers.baselines import BASELINE_TRACKERS as TRACKER_CLASSES
        for name in cfg.baselines:
            baseline = TRACKER_CLASSES[name]()
            sparse, dense = run_tracker(baseline, name, track_clips, cfg.chunk)
            metrics.update(track_metrics(name, sparse, dense))
            track_sparse[name] = sparse

    rows = breakdown_rows(clips, source_index, track_index, onset_preds, source_preds,
                          track_sparse)
    chart = breakdown_chart(rows, osp.join(cfg.out, 'breakdown.png'))

    efficiency_rows = {}
    if cfg.efficiency_frames > 0:
        efficiency_rows = efficiency_on_clip(cfg, clips, detector, tracker, yolo_runs,
                                             yolo_backend)
        metrics.update(efficiency_metrics(efficiency_rows))

    metrics['benchmark/num_clips'] = len(clips)
    metrics['benchmark/seconds'] = time.time() - started
    write_outputs(cfg, metrics, conf_tables, rows, chart, efficiency_rows, notes, clips)
    return metrics


def efficiency_on_clip(cfg: BenchmarkConfig, clips, detector, tracker, yolo_runs,
                       yolo_backend: Optional[YoloBackend] = None) -> Dict[str, dict]:
    """Table 10 on the first positive clip's frames (else the first clip), at 512x384.

    The frames are centred on the ground-truth onset (half before, half after) so
    that the pipeline runs every stage on them: the onset detector before the
    onset, the source branch and tracker start at it, the tracker after it.
    Every YOLO run is timed at its own input size and at 512 px; without a run
    the reference YOLO11-n (random weights, 640 px) gives the speed row.
    """
    import cv2

    clip = next((c for c in clips if c.onset_sources()), clips[0])
    count = min(cfg.efficiency_frames, clip.num_frames)
    onset = clip.onset_frame if clip.onset_frame is not None else clip.num_frames // 2
    start = max(0, min(onset - count // 2, clip.num_frames - count))
    frames = clip.load_frames(range(start, start + count))
    frames = np.stack([cv2.resize(f, EFFICIENCY_SIZE, interpolation=cv2.INTER_AREA)
                       for f in frames])
    scale = np.array([EFFICIENCY_SIZE[0] / clip.width, EFFICIENCY_SIZE[1] / clip.height])
    sources = clip.onset_sources()
    query = (np.array([[s.x, s.y] for s in sources]) * scale if sources else
             np.array([[EFFICIENCY_SIZE[0] / 2, EFFICIENCY_SIZE[1] / 2]])).astype(np.float32)
    yolo = list(yolo_runs)
    if not yolo and yolo_backend is not None:
        yolo = [yolo_backend.reference_yolo11n()]
    pipeline = None
    if detector is not None and tracker is not None:
        # evaluation mode, detector until the injected onset: the deployment workload with
        # every stage running even when the detector would not fire on these frames
        pipeline = BleedOriginNet(detector, tracker, mode='evaluation',
                                  evaluation_detector='until_onset')
    return measure_efficiency(frames, detector, tracker, yolo, pipeline, query,
                              onset_index=min(max(onset - start, 0), count - 1),
                              threads=cfg.efficiency_threads)


def efficiency_notes(efficiency_rows: Dict[str, dict], metrics: Dict[str, float]) -> List[str]:
    """The lines under Table 10: the pipeline's phases and the FPS ratios."""
    lines = []
    pipe = efficiency_rows.get('Whole pipeline: all frames (ours)')
    if pipe and pipe.get('phases'):
        phases = ', '.join(f'{p} {n} frames' for p, n in pipe['phases'].items())
        lines.append(f'Pipeline stream: {phases} (onset phase: detector; tracking phase: '
                     'source at the onset, then tracker).')
    slower = metrics.get('efficiency/pipeline_slower_phase_fps')
    for name in efficiency_rows:
        ratio = metrics.get(f'efficiency/pipeline_fps_over/{name}')
        if ratio is not None:
            lines.append(f'Pipeline FPS (slower phase, {slower:.1f}) / {name} FPS = '
                         f'**{ratio:.2f}**')
    return [('\n'.join(f'- {line}' for line in lines) + '\n')] if lines else []


def write_outputs(cfg, metrics, conf_tables, rows, chart, efficiency_rows, notes, clips):
    blocks = [f'# BleedOrigin benchmark: {cfg.data} split {cfg.split} ({len(clips)} clips)',
              '', f'Command: `{cfg.command}`', '',
              render_metric_tables(metrics)]
    if conf_tables:
        blocks.append(conf_tables)
    if efficiency_rows:
        blocks += [f'**Table 10: efficiency on {EFFICIENCY_SIZE[0]}x{EFFICIENCY_SIZE[1]} frames, '
                   'same frames, same run (CPU; GFLOPs: one multiply-add = one FLOP; input: '
                   'the size the model runs at (YOLO: letterboxed); frames: frames timed; '
                   'peak alloc: peak C-heap allocation of the stage above its starting '
                   'level, torch included, in a separate pass)**', '',
                   format_efficiency_table(efficiency_rows), '']
        blocks += efficiency_notes(efficiency_rows, metrics)
    if rows:
        blocks.append(breakdown_table(rows))
        if chart:
            blocks.append(f'![per-scenario and per-site breakdown]({osp.basename(chart)})\n')
    if notes:
        blocks.append('Notes:\n' + '\n'.join(f'- {n}' for n in notes) + '\n')
    with atomic_output(osp.join(cfg.out, 'tables.md'), suffix='.md') as tmp:
        with open(tmp, 'w') as f:
            f.write('\n'.join(blocks))
    write_json_atomic(osp.join(cfg.out, 'results.json'),
                      {k: (None if isinstance(v, float) and math.isnan(v) else v)
                       for k, v in metrics.items()}, indent=2)
    print('\n'.join(blocks))
    print(f'benchmark: {len(clips)} clips, {metrics["benchmark/seconds"]:.0f} s -> '
          f'{osp.join(cfg.out, "tables.md")}, {osp.join(cfg.out, "results.json")}')
