"""Reusable efficiency measurement (paper Table 10): FPS, latency, params, FLOPs, memory."""
import time
import tracemalloc
from collections import OrderedDict
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn


def count_parameters(module: Optional[nn.Module]) -> int:
    """Number of parameters of a module, or of the ``model`` a streaming predictor
    wraps (0 for None)."""
    if module is not None and not hasattr(module, 'parameters'):
        module = getattr(module, 'model', None)
    return 0 if module is None else sum(p.numel() for p in module.parameters())


def count_flops(module: nn.Module, inputs: Sequence) -> Optional[int]:
    """FLOPs of ``module(*inputs)`` counted by mmengine's analysis tools (None if unsupported).

    mmengine counts one fused multiply-add as one FLOP (the fvcore convention).
    """
    try:
        from mmengine.analysis import FlopAnalyzer
        analyzer = FlopAnalyzer(module, tuple(inputs))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return int(analyzer.total())
    except Exception:  # noqa: BLE001 - a model the tracer cannot follow has no FLOP figure
        return None


class StageTimer:
    """Accumulate wall-clock latency and peak Python-heap memory per named stage.

    Example:
        >>> timer = StageTimer()
        >>> with timer.stage('detect'):
        ...     run()
        >>> timer.summary()['detect']['latency_ms']


    Args:
        track_memory (bool): Record the peak Python-heap allocation of each stage with
            tracemalloc. It slows every allocation down, so time and memory are best
            measured in separate passes.
    """

    def __init__(self, track_memory: bool = False) -> None:
        self.track_memory = track_memory
        self.times: Dict[str, list] = {}
        self.peak_bytes: Dict[str, int] = {}

    def stage(self, name: str):
        return _Stage(self, name)

    def summary(self) -> Dict[str, dict]:
        """Per stage: ``latency_ms`` (mean), ``p95_ms``, ``fps``, ``calls``, ``peak_mem_mb``."""
        out = {}
        for name, values in self.times.items():
            arr = np.asarray(values) * 1000.0
            mean = float(arr.mean())
            out[name] = dict(latency_ms=mean, p95_ms=float(np.percentile(arr, 95)),
                             fps=1000.0 / mean if mean > 0 else float('inf'),
                             calls=len(values),
                             peak_mem_mb=self.peak_bytes.get(name, 0) / 2 ** 20)
        return out


class _Stage:

    def __init__(self, timer: StageTimer, name: str) -> None:
        self.timer = timer
        self.name = name

    def __enter__(self):
        self.started_tracing = False
        if self.timer.track_memory:
            self.started_tracing = not tracemalloc.is_tracing()
            if self.started_tracing:
                tracemalloc.start()
            tracemalloc.reset_peak()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        elapsed = time.perf_counter() - self.start
        self.timer.times.setdefault(self.name, []).append(elapsed)
        if self.timer.track_memory:
            _, peak = tracemalloc.get_traced_memory()
            if self.started_tracing:
                tracemalloc.stop()
            self.timer.peak_bytes[self.name] = max(self.timer.peak_bytes.get(self.name, 0),
                                                   peak)


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux ``ru_maxrss`` is in KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_callable(fn: Callable[[], object], repeats: int = 20, warmup: int = 3) -> float:
    """Mean latency in ms of ``fn()`` after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) * 1000.0 / repeats


@torch.no_grad()
def format_efficiency_table(rows: Dict[str, dict]) -> str:
    """Markdown table (Table 10 columns) of per-stage ``params_m``, ``gflops``,
    ``latency_ms``, ``fps``, ``peak_mem_mb``."""
    header = '| stage | params (M) | GFLOPs/frame | latency (ms) | FPS | peak mem (MB) |'
    lines = [header, '| --- | --- | --- | --- | --- | --- |']
    for name, row in rows.items():
        gflops = row.get('gflops')
        lines.append(
            f"| {name} | {row.get('params_m', 0.0):.3f} | "
            f"{'–' if gflops is None else f'{gflops:.3f}'} | {row['latency_ms']:.2f} | "
            f"{row['fps']:.1f} | {row.get('peak_mem_mb', 0.0):.1f} |")
    return '\n'.join(lines)


# Table 10 of the benchmark: the same frames through every model, one run.
def gflops_of_call(fn) -> Optional[float]:
    """GFLOPs of one call, one multiply-add counted as one FLOP (mmengine convention)."""
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            fn()
        return counter.get_total_flops() / 2 / 1e9
    except Exception:  # noqa: BLE001 - an op the counter cannot follow: no FLOP figure
        return None


def efficiency_row(timer, stage: str, params: int, gflops: Optional[float]) -> dict:
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
        gflops = gflops_of_call(lambda: detector.stream_step(frames[-1]))
        rows['Initial bleeding frame detection (ours)'] = efficiency_row(
            timer, 'onset', count_parameters(detector), gflops)
        for frame in frames[: max(len(frames) // 4, 1)]:
            with timer.stage('source'):
                detector.locate_source(frame, reference=frames[0])
        gflops = gflops_of_call(lambda: detector.locate_source(frames[-1], reference=frames[0]))
        rows['Initial bleeding source detection (ours)'] = efficiency_row(
            timer, 'source', count_parameters(detector), gflops)
    if tracker is not None:
        tracker.init(frames[0], query)
        for frame in warm:
            tracker.step(frame)
        tracker.init(frames[0], query)
        for frame in frames[1:]:
            with timer.stage('track'):
                tracker.step(frame)
        gflops = gflops_of_call(lambda: tracker.step(frames[-1]))
        rows['Bleeding source tracking (ours)'] = efficiency_row(
            timer, 'track', count_parameters(tracker), gflops)
    if pipeline is not None:
        pipeline.reset()
        for frame in warm:
            pipeline.step(frame)
        pipeline.reset()
        for frame in frames:
            with timer.stage('pipeline'):
                pipeline.step(frame)
        rows['Whole pipeline, streaming (ours)'] = efficiency_row(
            timer, 'pipeline', count_parameters(pipeline.detector) +
            count_parameters(pipeline.tracker), None)
    if yolo is not None:
        for frame in warm:
            yolo(frame[None])
        for frame in frames:
            with timer.stage('yolo'):
                yolo(frame[None])
        gflops = gflops_of_call(lambda: yolo(frames[-1][None]))
        rows[f'{yolo.method} inference (baseline)'] = efficiency_row(
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
