"""Train a YOLO11/YOLO12 baseline on a BleedOrigin-Bench data root, offline.

Example (from the repository root)::

    python projects/yolo_baselines/tools/train_yolo.py \
        projects/yolo_baselines/configs/yolo11n_cpu.py
    # after an interruption: the same command with --resume

Converts the bench data to an ultralytics dataset (cached), trains from the
model yaml (or a local .pt given as ``--cfg-options model=...``), and writes
the run to ``<work_dir>/<config name>/`` (``run_meta.json``,
``weights/best_state.pth``). Nothing is downloaded.
"""
import argparse
import os.path as osp
import sys

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

from mmengine.config import Config, DictAction  # noqa: E402

from projects.yolo_baselines.yolo_baselines import (  # noqa: E402
    AdapterParams,
    build_yolo_dataset,
    train_yolo,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a YOLO baseline (offline)')
    parser.add_argument('config', help='projects/yolo_baselines/configs/*.py')
    parser.add_argument('--work-dir', help='parent folder of the run (default: from config)')
    parser.add_argument('--name', help='run folder name (default: config file name)')
    parser.add_argument('--data', help='bench data root (default: config data_root)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run from its weights/last.pt (ultralytics resume)')
    parser.add_argument('--time', type=float,
                        help='wall-clock budget of this session in hours (ultralytics time)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. train.epochs=1 adapter.max_clips=4')
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    data_root = args.data or cfg.data_root
    if not args.data and cfg.get('synthetic_data'):
        from bleedorigin.datasets.synthetic import ensure_synthetic
        ensure_synthetic(**cfg.synthetic_data)
    params = AdapterParams(**cfg.adapter)
    data_yaml = build_yolo_dataset(data_root, cfg.cache_root, params, cfg.train_split,
                                   cfg.val_split)
    name = args.name or osp.splitext(osp.basename(args.config))[0]
    train_args = dict(cfg.train)
    if args.time is not None:
        train_args['time'] = args.time
    bench_eval = cfg.get('bench_eval')
    if bench_eval:
        bench_eval = dict(bench_eval)
        bench_eval.setdefault('data_root', data_root)
    return train_yolo(cfg.model, data_yaml, args.work_dir or cfg.work_dir, name,
                      resume=args.resume, bench_eval=bench_eval, **train_args)


if __name__ == '__main__':
    main()
