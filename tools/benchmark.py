"""One command for every comparison of the paper on a bench split.

Example (from the repository root)::

    python tools/benchmark.py --detect work_dirs/detect/best.pth \
        --track work_dirs/track/best.pth \
        --data data/synthetic --split test --out work_dirs/benchmark

Runs, on the same clips and in one process: our detector (onset by streaming
every frame, source on the ground-truth onset frame), our tracker (from the
ground-truth onset point to the clip end), every given YOLO run (by default the
shipped YOLO11-n and YOLO12-n; onset and source at the confidence thresholds
0.25/0.10/0.01), the classical trackers
(zero motion, Lucas-Kanade, DIS flow), the constant priors (median onset frame
and mean source position of the train split), and any MLLM answer files. Every
flag except ``--data``/``--out`` is optional: what is given is evaluated
(``--detect``/``--track`` default to the shipped checkpoints, ``none`` skips them).

Table 10 times every model at each of ``--efficiency-threads`` torch thread counts
(default: all cores, then 1) and keeps each row's fastest, so that every model runs
at its best setting in the same run; the table says which count each row used.

Writes ``DIR/tables.md`` (Tables 3, 4, 5/6, 7 and 10 in the paper's shape,
best per column bold, plus the per-scenario and per-site breakdown),
``DIR/results.json`` (flat metrics) and ``DIR/breakdown.png``.

The work is done by :func:`bleedorigin.apis.benchmark.run_benchmark`; this
script parses the flags and hands it the YOLO project's entry points.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

os.environ.setdefault('YOLO_OFFLINE', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')

import torch  # noqa: E402

from bleedorigin.apis.benchmark import (  # noqa: E402
    BASELINE_TRACKERS,
    BenchmarkConfig,
    YoloBackend,
    run_benchmark,
)
from bleedorigin.utils.model_zoo import (  # noqa: E402
    checkpoint_arg,
    load_manifest,
    resolve_checkpoint,
)

# shipped YOLO baselines (projects/yolo_baselines/tools/publish_yolo.py) run by default
DEFAULT_YOLO = ('yolo11n', 'yolo12n')


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
    parser.add_argument('--yolo', nargs='*', default=None,
                        help='YOLO baselines: run directories of projects/yolo_baselines, '
                        'state files or shipped names (default: the shipped '
                        f'{"/".join(DEFAULT_YOLO)} when in checkpoints/manifest.json; '
                        '"none" for none)')
    parser.add_argument('--mllm', nargs='*', default=[], help='MLLM answers JSONL files')
    parser.add_argument('--data', required=True, help='bench data root')
    parser.add_argument('--split', default='test')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--max-clips', type=int, help='evaluate an evenly spaced subsample')
    parser.add_argument('--baselines', nargs='*', default=list(BASELINE_TRACKERS),
                        choices=list(BASELINE_TRACKERS), help='classical trackers to run')
    parser.add_argument('--efficiency-frames', type=int, default=150,
                        help='frames timed per stage for Table 10 (0 disables; 150: one whole '
                        'clip, the steadier ratio over two sessions of idle runs, '
                        'docs/benchmark.md)')
    parser.add_argument('--efficiency-threads', type=int, nargs='*', default=None,
                        help='torch thread counts Table 10 times every model at, each row '
                        'keeping its fastest (default: all cores and 1; our tracker runs its '
                        'flow refiner in a second thread, so one torch thread is its best on '
                        '2 cores, YOLO\'s is all of them)')
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at once')
    args = parser.parse_args(argv)
    if args.efficiency_threads is None:
        args.efficiency_threads = list(dict.fromkeys([torch.get_num_threads(), 1]))
    if any(n < 1 for n in args.efficiency_threads):
        parser.error(f'--efficiency-threads: thread counts must be >= 1, got '
                     f'{args.efficiency_threads}')
    return args


def load_yolo_backend() -> YoloBackend:
    """The YOLO project's entry points (imported here: the package never imports a project)."""
    from projects.yolo_baselines.yolo_baselines import (
        YOLOBleedingDetector,
        collect_detections,
        render_confidence_tables,
        yolo_metrics,
    )
    from projects.yolo_baselines.yolo_baselines.speed import reference_yolo11n
    return YoloBackend(YOLOBleedingDetector, collect_detections, render_confidence_tables,
                       yolo_metrics, reference_yolo11n)


def yolo_weights(values) -> List[str]:
    """``--yolo`` values -> paths: the shipped baselines when not given, [] for ``none``,
    shipped names resolved (and sha256-checked) through the model zoo."""
    if values is None:
        shipped = load_manifest()
        values = [name for name in DEFAULT_YOLO if name in shipped]
    values = [v for v in values if checkpoint_arg(v) is not None]
    return [resolve_checkpoint(v) for v in values]


def main(argv=None) -> Dict[str, float]:
    args = parse_args(argv)
    cfg = BenchmarkConfig(
        data=args.data, out=args.out, split=args.split, detect=args.detect,
        detect_config=args.detect_config, track=args.track, track_config=args.track_config,
        yolo=yolo_weights(args.yolo), mllm=args.mllm, max_clips=args.max_clips,
        baselines=args.baselines,
        efficiency_frames=args.efficiency_frames,
        efficiency_threads=args.efficiency_threads, chunk=args.chunk,
        command='python tools/benchmark.py ' + ' '.join(sys.argv[1:]))
    return run_benchmark(cfg, load_yolo_backend())


if __name__ == '__main__':
    main()
