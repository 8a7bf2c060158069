"""Reusable efficiency measurement (paper Table 10): FPS, latency, params, FLOPs, memory."""
import ctypes
import ctypes.util
import threading
import time
import tracemalloc
from collections import OrderedDict
from contextlib import contextmanager
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


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks',
        'fordblks', 'keepcost')]


def _load_mallinfo2():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        fn = libc.mallinfo2
    except (OSError, AttributeError):  # not glibc >= 2.33: no heap figure
        return None
    fn.restype = _MallInfo2
    fn.argtypes = []
    return fn


_MALLINFO2 = _load_mallinfo2()


def heap_in_use_bytes() -> Optional[int]:
    """Bytes the C heap has handed out and not freed (glibc ``mallinfo2``: chunks in use
    plus mmap-ed blocks), which includes torch and numpy tensors; None without glibc."""
    if _MALLINFO2 is None:
        return None
    info = _MALLINFO2()
    return int(info.uordblks + info.hblkhd)


class HeapPeak:
    """Peak C-heap allocation of a block above its level at entry, torch included.

    A thread samples :func:`heap_in_use_bytes` every ``interval`` seconds (torch
    releases the GIL inside its kernels, so the sampler runs during them); the
    peak is ``max(samples) - level at entry`` in bytes, or None without glibc.
    Sampling slows the block a little: time and memory are measured in separate passes.

    Example:
        >>> with HeapPeak() as peak:
        ...     model(x)
        >>> peak.peak_bytes
    """

    def __init__(self, interval: float = 0.0005) -> None:
        self.interval = float(interval)
        self.peak_bytes: Optional[int] = None
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._max = max(self._max, heap_in_use_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> 'HeapPeak':
        self._base = heap_in_use_bytes()
        if self._base is None:
            return self
        self._max = self._base
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._base is None:
            return
        self._stop.set()
        self._thread.join()
        self._max = max(self._max, heap_in_use_bytes())
        self.peak_bytes = max(0, self._max - self._base)


def heap_peak_mb(fn: Callable[[], object], interval: float = 0.0005) -> Optional[float]:
    """Peak C-heap allocation of ``fn()`` above the level before it, in MiB (None without
    glibc); see :class:`HeapPeak`."""
    with HeapPeak(interval) as peak:
        fn()
    return None if peak.peak_bytes is None else peak.peak_bytes / 2 ** 20


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


def format_efficiency_table(rows: Dict[str, dict]) -> str:
    """Markdown table (Table 10 columns) of per-stage ``params_m``, ``gflops``,
    ``latency_ms``, ``fps``, ``peak_mem_mb`` and, when given, ``input``, ``frames`` and
    (when any row has it) the torch ``threads`` it was timed with."""
    with_threads = any(row.get('threads') is not None for row in rows.values())
    header = ('| stage | params (M) | GFLOPs/frame | latency (ms) | FPS | peak alloc (MB) | '
              'input | frames |' + (' torch threads |' if with_threads else ''))
    lines = [header, '| --- | --- | --- | --- | --- | --- | --- | --- |' +
             (' --- |' if with_threads else '')]

    def dash(value, fmt):
        return '–' if value is None else format(value, fmt)

    for name, row in rows.items():
        lines.append(
            f"| {name} | {row.get('params_m', 0.0):.3f} | {dash(row.get('gflops'), '.3f')} | "
            f"{row['latency_ms']:.2f} | {row['fps']:.1f} | "
            f"{dash(row.get('peak_mem_mb'), '.1f')} | {row.get('input') or '–'} | "
            f"{dash(row.get('frames'), 'd')} |" +
            (f" {dash(row.get('threads'), 'd')} |" if with_threads else ''))
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


def efficiency_row(timer, stage: str, params: int, gflops: Optional[float],
                   peak_mem_mb: Optional[float] = None, input_size: Optional[str] = None
                   ) -> dict:
    """One Table 10 row from a :class:`StageTimer` stage (``frames`` = timed calls)."""
    summary = timer.summary()[stage]
    return {'params_m': params / 1e6, 'gflops': gflops, 'latency_ms': summary['latency_ms'],
            'fps': summary['fps'], 'peak_mem_mb': peak_mem_mb, 'input': input_size,
            'frames': summary['calls']}


def _frame_size(frames: np.ndarray) -> str:
    return f'{frames.shape[2]}x{frames.shape[1]}'


def _letterboxed_size(frames: np.ndarray, imgsz: int, stride: int = 32) -> str:
    height, width = frames.shape[1:3]
    r = imgsz / max(height, width)
    return (f'{int(np.ceil(round(width * r) / stride) * stride)}x'
            f'{int(np.ceil(round(height * r) / stride) * stride)}')


@torch.no_grad()
def _measure_pipeline(timer: StageTimer, rows: Dict[str, dict], frames: np.ndarray, pipeline,
                      query: np.ndarray, onset_index: int, warm: np.ndarray,
                      params: int) -> None:
    """The streaming pipeline with every stage running: detection before ``onset_index``,
    source + tracker start at it, tracking after; each phase timed on its own frames."""
    def start():
        pipeline.reset()
        if pipeline.mode == 'evaluation':
            pipeline.set_ground_truth(onset_index, query)

    start()
    for frame in warm:
        pipeline.step(frame)
    start()
    phases = []
    for frame in frames:
        began = time.perf_counter()
        result = pipeline.step(frame)
        elapsed = time.perf_counter() - began
        ran = result.latency_ms
        phase = ('tracking phase' if 'track' in ran or 'locate' in ran else
                 'onset phase' if 'detect' in ran else 'idle')
        timer.times.setdefault(f'pipeline {phase}', []).append(elapsed)
        timer.times.setdefault('pipeline all', []).append(elapsed)
        phases.append(phase)

    def run_all():
        start()
        for frame in frames:
            pipeline.step(frame)

    memory = heap_peak_mb(run_all)
    size = _frame_size(frames)
    for phase in ('onset phase', 'tracking phase'):
        if f'pipeline {phase}' in timer.times:
            rows[f'Whole pipeline: {phase} (ours)'] = efficiency_row(
                timer, f'pipeline {phase}', params, None, memory, size)
    rows['Whole pipeline: all frames (ours)'] = efficiency_row(
        timer, 'pipeline all', params, None, memory, size)
    rows['Whole pipeline: all frames (ours)']['phases'] = {
        p: phases.count(p) for p in dict.fromkeys(phases)}


@contextmanager
def torch_threads(threads: Optional[int]):
    """Run the block with ``threads`` torch CPU threads (None: unchanged), then restore."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        if threads is not None:
            torch.set_num_threads(before)


def measure_efficiency(frames: np.ndarray, detector=None, tracker=None, yolo=None,
                       pipeline=None, query: Optional[np.ndarray] = None,
                       warmup: int = 2, onset_index: Optional[int] = None,
                       yolo_sizes: Sequence[int] = (512, ),
                       memory_frames: int = 4,
                       threads: Optional[Sequence[int]] = None) -> Dict[str, dict]:
    """Table 10 rows measured on the same (T, 384, 512, 3) frames in one run.

    Latency is timed without memory sampling; the peak C-heap allocation of each
    stage (torch included, see :class:`HeapPeak`) is measured in a second pass over
    ``memory_frames`` frames (the whole stream for the pipeline). Every row records
    its input size and how many frames were timed.

    Args:
        frames (np.ndarray): Frames at 512x384.
        detector, tracker: Our streaming models (optional).
        yolo: A :class:`YOLOBleedingDetector` or a sequence of them (optional);
            each is timed at its own input size (``predictor.imgsz``, the
            training size) and at every size of ``yolo_sizes``.
        pipeline: A ``BleedOriginNet`` (optional). In evaluation mode with
            ``evaluation_detector='until_onset'`` the onset at ``onset_index``
            is injected so every stage runs (detection before, tracking after);
            the onset and tracking phases are timed on the frames they ran on.
        query (np.ndarray): (K, 2) start points of the tracker at 512x384.
        warmup (int): Untimed calls per stage before timing.
        onset_index (int, optional): Index in ``frames`` of the onset (pipeline
            and tracker start). Default: the middle frame.
        yolo_sizes (Sequence[int]): Extra YOLO input sizes (long side). Default: 512.
        memory_frames (int): Frames of the memory pass of each stage.
        threads (Sequence[int], optional): Torch CPU thread counts to time every
            stage at, so that each model is measured at its best setting in the
            same run: a row keeps its fastest count (recorded as ``threads``);
            the pipeline's rows all come from the count whose slower phase is
            fastest. None: the current setting only.
    """
    counts = (list(dict.fromkeys(int(n) for n in threads)) if threads
              else [torch.get_num_threads()])
    if any(n < 1 for n in counts):
        raise ValueError(f'threads must be positive thread counts, got {list(threads)}')
    runs = []
    for count in counts:
        with torch_threads(count):
            rows = _measure_efficiency_at(frames, detector, tracker, yolo, pipeline, query,
                                          warmup, onset_index, yolo_sizes, memory_frames)
        for row in rows.values():
            row['threads'] = count
        runs.append(rows)

    def slower_phase(run):
        return min((r['fps'] for n, r in run.items() if n.startswith('Whole pipeline')),
                   default=0.0)

    piped = max(runs, key=slower_phase)  # the pipeline's rows all come from one count
    return OrderedDict(
        (name, piped[name] if name.startswith('Whole pipeline')
         else max((run[name] for run in runs), key=lambda r: r['fps']))
        for name in runs[0])  # the table's order: our stages, pipeline, baselines


def _measure_efficiency_at(frames, detector, tracker, yolo, pipeline, query, warmup,
                           onset_index, yolo_sizes, memory_frames) -> Dict[str, dict]:
    """:func:`measure_efficiency` at the current torch thread count."""
    timer = StageTimer()
    rows: Dict[str, dict] = OrderedDict()
    warm = frames[:warmup]
    size = _frame_size(frames)
    onset_index = len(frames) // 2 if onset_index is None else int(onset_index)
    if not 0 <= onset_index < len(frames):
        raise ValueError(f'onset_index {onset_index} outside the {len(frames)} frames')
    mem_frames = frames[:max(1, memory_frames)]
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
        detector.reset_stream()
        memory = heap_peak_mb(lambda: [detector.stream_step(f) for f in mem_frames])
        rows['Initial bleeding frame detection (ours)'] = efficiency_row(
            timer, 'onset', count_parameters(detector), gflops, memory, size)
        for frame in frames[: max(len(frames) // 4, 1)]:
            with timer.stage('source'):
                detector.locate_source(frame, reference=frames[0])
        gflops = gflops_of_call(lambda: detector.locate_source(frames[-1], reference=frames[0]))
        memory = heap_peak_mb(lambda: detector.locate_source(frames[-1], reference=frames[0]))
        rows['Initial bleeding source detection (ours)'] = efficiency_row(
            timer, 'source', count_parameters(detector), gflops, memory, size)
    if tracker is not None:
        tracker.init(frames[0], query)
        for frame in warm:
            tracker.step(frame)
        tracker.init(frames[0], query)
        for frame in frames[1:]:
            with timer.stage('track'):
                tracker.step(frame)
        gflops = gflops_of_call(lambda: tracker.step(frames[-1]))
        tracker.init(frames[0], query)
        memory = heap_peak_mb(lambda: [tracker.step(f) for f in mem_frames])
        rows['Bleeding source tracking (ours)'] = efficiency_row(
            timer, 'track', count_parameters(tracker), gflops, memory, size)
    if pipeline is not None:
        _measure_pipeline(timer, rows, frames, pipeline, query, onset_index, warm,
                          count_parameters(pipeline.detector) +
                          count_parameters(pipeline.tracker))
    models = [] if yolo is None else list(yolo) if isinstance(yolo, (list, tuple)) else [yolo]
    for model in models:
        own = int(model.predictor.imgsz)
        for imgsz in dict.fromkeys([own, *[int(s) for s in yolo_sizes]]):
            model.predictor.imgsz = imgsz
            try:
                stage = f'yolo {model.method} {imgsz}'
                for frame in warm:
                    model(frame[None])
                for frame in frames:
                    with timer.stage(stage):
                        model(frame[None])
                gflops = gflops_of_call(lambda m=model: m(frames[-1][None]))
                memory = heap_peak_mb(lambda m=model: [m(f[None]) for f in mem_frames])
                tag = ', own input size' if imgsz == own else ''
                rows[f'{model.method} at {imgsz} px{tag} (baseline)'] = efficiency_row(
                    timer, stage, count_parameters(model.yolo), gflops, memory,
                    _letterboxed_size(frames, imgsz))
            finally:
                model.predictor.imgsz = own
    return rows


def efficiency_metrics(rows: Dict[str, dict]) -> Dict[str, float]:
    """Flat ``efficiency/<row>/<key>`` numbers plus the pipeline-over-YOLO FPS ratios.

    The pipeline's FPS in a ratio is that of its slower phase (onset or tracking), so
    the ratio holds whichever stage a frame goes through; one ratio per YOLO row
    (``efficiency/pipeline_fps_over/<row>``), and ``efficiency/pipeline_fps_over_yolo_fps``
    against the first YOLO row at 512 px (like for like) or else the first YOLO row.
    """
    out = {}
    for name, row in rows.items():
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[f'efficiency/{name}/{key}'] = value
    phases = [r['fps'] for n, r in rows.items()
              if n.startswith('Whole pipeline:') and 'phase' in n]
    if not phases:
        phases = [r['fps'] for n, r in rows.items() if n.startswith('Whole pipeline')]
    yolo_rows = [(n, r) for n, r in rows.items() if n.endswith('(baseline)')]
    if phases:
        out['efficiency/pipeline_slower_phase_fps'] = min(phases)
    if phases and yolo_rows:
        slower = min(phases)
        for name, row in yolo_rows:
            out[f'efficiency/pipeline_fps_over/{name}'] = slower / row['fps']
        like = next((r for n, r in yolo_rows if ' at 512 px' in n), yolo_rows[0][1])
        out['efficiency/pipeline_fps_over_yolo_fps'] = slower / like['fps']
    return out
