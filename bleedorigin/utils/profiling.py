"""Reusable efficiency measurement (paper Table 10): FPS, latency, params, FLOPs, memory."""
import time
import tracemalloc
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
from torch import nn


def count_parameters(module: Optional[nn.Module]) -> int:
    """Number of parameters of a module (0 for None)."""
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
