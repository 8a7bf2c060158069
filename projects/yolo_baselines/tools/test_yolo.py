"""Evaluate trained YOLO baselines: Tables 3-6 rows on a bench split.

Example (from the repository root)::

    python projects/yolo_baselines/tools/test_yolo.py \
        work_dirs/yolo_baselines/yolo11n_cpu --data data/synthetic --split test \
        --out work_dirs/yolo_baselines/yolo11n_cpu/metrics.json

Runs every frame of every clip of the split once per model (best detection
per frame), derives the onset and source at the confidence thresholds 0.25,
0.10 and 0.01, prints Tables 3/4 (YOLO rows at 0.01) and 5/6, and writes the
flat metrics as JSON.
"""
import argparse
import json
import os
import os.path as osp
import sys

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from bleedorigin.datasets.bench import BenchIndex  # noqa: E402
from bleedorigin.evaluation.tables import render_metric_tables  # noqa: E402
from projects.yolo_baselines.yolo_baselines import (  # noqa: E402
    CONFIDENCE_THRESHOLDS,
    TABLE_THRESHOLD,
    YOLOBleedingDetector,
    collect_detections,
    render_confidence_tables,
    yolo_metrics,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate YOLO baselines')
    parser.add_argument('runs', nargs='+', help='run directories (or local .pt/.pth files)')
    parser.add_argument('--data', default='data/synthetic', help='bench data root')
    parser.add_argument('--split', default='test')
    parser.add_argument('--thresholds', type=float, nargs='+', default=CONFIDENCE_THRESHOLDS)
    parser.add_argument('--table-threshold', type=float, default=TABLE_THRESHOLD)
    parser.add_argument('--out', help='write the flat metrics to this JSON file')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    clips = BenchIndex(args.data, split=args.split).clips
    if not clips:
        raise ValueError(f'{args.data}: split {args.split!r} has no valid clips')
    metrics = {}
    for run in args.runs:
        detector = YOLOBleedingDetector(run, onset_threshold=args.table_threshold)
        detections = collect_detections(detector, clips)
        metrics.update(yolo_metrics(detector.method, clips, detections, args.thresholds,
                                    args.table_threshold))
    print(render_metric_tables(metrics))
    print(render_confidence_tables(metrics, args.thresholds))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)
        print(f'metrics written to {args.out}')
    return metrics


if __name__ == '__main__':
    main()
