import time

import torch

from bleedorigin.utils.profiling import (
    StageTimer,
    count_flops,
    count_parameters,
    format_efficiency_table,
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
