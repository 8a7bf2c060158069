"""Plot the training curves of YOLO baseline runs into one PNG.

Example (from the repository root)::

    python projects/yolo_baselines/tools/plot_yolo_curves.py \
        YOLOv11-n=work_dirs/yolo_baselines/yolo11n_cpu \
        YOLOv12-n=work_dirs/yolo_baselines/yolo12n_cpu \
        --out projects/yolo_baselines/docs/yolo_training_curves.png

Left: ultralytics validation mAP50 (and mAP50-95) per epoch, from each run's
``results.csv``. Right: onset Acc±8, miss and false-alarm rates and source
Err≤100 on the validation clips at confidence 0.01, from ``bench_val.jsonl``
(written every few epochs by the training callback, see the configs'
``bench_eval``). Works on a run that is still training. Prints (and with
``--summary`` writes) the best epoch and mAP50 of each run. A run trained further
as a new run from its last weights is given as a chain, ``LABEL=RUN1+RUN2``: epochs
number on and a dotted line marks the restart of the schedule.
"""
import argparse
import os.path as osp
import sys
from collections import OrderedDict

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from bleedorigin.utils.io import write_json_atomic  # noqa: E402
from projects.yolo_baselines.yolo_baselines.val_curve import (  # noqa: E402
    plot_training_curves,
    summarise_run,
)


def run_spec(text: str):
    if '=' not in text:
        raise argparse.ArgumentTypeError(f'{text!r}: expected LABEL=RUN_DIR')
    label, run_dir = text.split('=', 1)
    if not label or not run_dir:
        raise argparse.ArgumentTypeError(f'{text!r}: expected LABEL=RUN_DIR')
    return label, run_dir


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot YOLO training curves')
    parser.add_argument('runs', nargs='+', type=run_spec,
                        help='LABEL=RUN_DIR pairs (RUN_DIR may be a chain RUN1+RUN2)')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--title', default='YOLO baselines: validation curves')
    parser.add_argument('--summary', help='also write the per-run summary as JSON')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    runs = OrderedDict(args.runs)
    plot_training_curves(runs, args.out, args.title)
    summary = OrderedDict((label, summarise_run(run_dir)) for label, run_dir in runs.items())
    for label, s in summary.items():
        line = (f'{label}: {s["epochs"]} epochs, best mAP50 {s["best_map50"]:.4f} at epoch '
                f'{s["best_epoch"]}, last {s["last_map50"]:.4f}')
        if 'bench_val' in s:
            m = s['bench_val']['metrics']
            line += (f'; val clips at epoch {s["bench_val"]["epoch"]}: onset Acc±8 '
                     f'{m.get("onset/acc_8", float("nan")):.1f} %, source Err≤100 '
                     f'{m.get("source/err_le_100", float("nan")):.1f} %')
        print(line)
    if args.summary:
        write_json_atomic(args.summary, summary, indent=2, make_dirs=True)
    print(f'curves written to {args.out}')
    return summary


if __name__ == '__main__':
    main()
