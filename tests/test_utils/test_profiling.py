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
