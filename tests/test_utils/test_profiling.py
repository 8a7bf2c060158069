import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from bleedorigin.utils.profiling import (
    StageTimer,
    count_flops,
    count_parameters,
    format_efficiency_table,
    measure_efficiency,
    torch_threads,
)


def test_stage_timer_latency_and_memory():
    timer = StageTimer(track_memory=True)
    for _ in range(3):
        with timer.stage('sleep'):
            time.sleep(0.01)
            _ = [0] * 100000  # ~0.8 MB list
    summary = timer.summary()['sleep']
    assert summary['calls'] == 3
    assert 9 <= summary['latency_ms'] < 200
    assert summary['fps'] == 1000.0 / summary['latency_ms']
    assert summary['peak_mem_mb'] > 0.5
    table = format_efficiency_table({'sleep': dict(params_m=0.0, gflops=None, **summary)})
    assert table.splitlines()[2].startswith('| sleep | 0.000 | – |')


def test_parameter_and_flop_counts():
    conv = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False)
    assert count_parameters(conv) == 3 * 4 * 9
    assert count_parameters(None) == 0
    # one multiply-add per weight and output pixel
    assert count_flops(conv, (torch.zeros(1, 3, 8, 8),)) == 3 * 4 * 9 * 64


def test_heap_peak_sees_torch_allocations():
    import pytest

    from bleedorigin.utils.profiling import HeapPeak, heap_in_use_bytes, heap_peak_mb

    if heap_in_use_bytes() is None:
        pytest.skip('no glibc mallinfo2: the column is left empty')

    def allocate():
        x = torch.ones(10 * 2 ** 20)  # 40 MiB of float32, freed on return
        time.sleep(0.01)  # let the sampler see it
        return float(x[0])

    mb = heap_peak_mb(allocate)
    assert 39 <= mb < 60
    with HeapPeak() as peak:
        time.sleep(0.005)
    assert peak.peak_bytes < 2 ** 20  # nothing allocated: (almost) zero, not the heap size


def test_efficiency_table_input_and_frames_columns():
    row = dict(params_m=2.6, gflops=0.5, latency_ms=10.0, fps=100.0, peak_mem_mb=None,
               input='320x256', frames=60)
    table = format_efficiency_table({'YOLOv11-n at 320 px (baseline)': row})
    assert table.splitlines()[0].endswith('| peak alloc (MB) | input | frames |')
    assert table.splitlines()[2] == ('| YOLOv11-n at 320 px (baseline) | 2.600 | 0.500 | 10.00 '
                                     '| 100.0 | – | 320x256 | 60 |')


def test_efficiency_table_threads_column_when_rows_have_it():
    row = dict(params_m=0.5, gflops=None, latency_ms=5.0, fps=200.0, peak_mem_mb=1.0,
               input='512x384', frames=10, threads=1)
    lines = format_efficiency_table({'Bleeding source tracking (ours)': row}).splitlines()
    assert lines[0].endswith('| input | frames | torch threads |')
    assert lines[1].count('---') == 9
    assert lines[2].endswith('| 512x384 | 10 | 1 |')


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(KeyError), torch_threads(1):
        raise KeyError('inside')
    assert torch.get_num_threads() == before


# Fakes whose per-frame time depends on the torch thread count: the selection is what
# is tested (gaps of several milliseconds), not a speed.
def _sleep_ms(by_threads):
    time.sleep(by_threads[torch.get_num_threads()] / 1e3)


class _FakeTracker:
    model = torch.nn.Linear(2, 2)

    def init(self, frame, points):
        pass

    def step(self, frame):
        _sleep_ms({1: 1.0, 2: 8.0})  # best at one thread


class _FakeYolo:
    method = 'FakeYOLO'
    yolo = torch.nn.Linear(2, 2)

    def __init__(self):
        self.predictor = SimpleNamespace(imgsz=32)

    def __call__(self, frames):
        _sleep_ms({1: 8.0, 2: 1.0})  # best at two threads


class _FakePipeline:
    """Onset phase best at 1 thread, tracking phase best at 2; the slower phase is
    faster at 2 threads (4 ms against 9 ms), so the pipeline rows come from 2."""
    mode = 'streaming'
    detector = None
    tracker = torch.nn.Linear(2, 2)

    def reset(self):
        self.index = 0

    def step(self, frame):
        onset = self.index < 3
        self.index += 1
        _sleep_ms({1: 1.0, 2: 4.0} if onset else {1: 9.0, 2: 3.0})
        return SimpleNamespace(latency_ms={'detect': 0.0} if onset else {'track': 0.0})


def test_measure_efficiency_keeps_each_rows_fastest_thread_count():
    frames = np.zeros((6, 8, 8, 3), np.uint8)
    before = torch.get_num_threads()
    rows = measure_efficiency(frames, tracker=_FakeTracker(), yolo=[_FakeYolo()],
                              pipeline=_FakePipeline(), query=np.zeros((1, 2)),
                              yolo_sizes=(), memory_frames=1, threads=(2, 1))
    assert torch.get_num_threads() == before
    assert rows['Bleeding source tracking (ours)']['threads'] == 1
    assert rows['Bleeding source tracking (ours)']['latency_ms'] < 5.0
    assert rows['FakeYOLO at 32 px, own input size (baseline)']['threads'] == 2
    pipeline_rows = [r for n, r in rows.items() if n.startswith('Whole pipeline')]
    assert len(pipeline_rows) == 3 and {r['threads'] for r in pipeline_rows} == {2}
    # the onset phase row is the 2-thread one although 1 thread ran that phase faster
    assert rows['Whole pipeline: onset phase (ours)']['latency_ms'] > 3.0
    assert list(rows)[:2] == ['Bleeding source tracking (ours)',
                              'Whole pipeline: onset phase (ours)']
    with pytest.raises(ValueError, match='positive thread counts'):
        measure_efficiency(frames, tracker=_FakeTracker(), query=np.zeros((1, 2)), threads=(0,))
