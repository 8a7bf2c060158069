"""Evaluate a trained bleedorigin model and print paper-shaped tables.

Example:
    python tools/test.py configs/bleedorigin/detect.py work_dirs/detect/best.pth \
        --out work_dirs/detect/metrics.json

Prints Table 3/4 (detection) or Table 7 (tracking) in Markdown, with the
constant-prior and classical-baseline rows that the metrics evaluate on the
same clips, and writes the flat metrics to ``--out`` as JSON.
"""
import argparse
import json
import math
import os
import os.path as osp
import sys

from mmengine.config import Config

from bleedorigin.evaluation import render_metric_tables
from bleedorigin.utils import register_all_modules
from bleedorigin.utils.checkpoint import CheckpointError, load_checkpoint_safely
from bleedorigin.utils.launch import (
    parse_with_launcher_args,
    prepare_data,
    resolve_work_dir,
    set_cpu_threads,
    setup_cpu_distributed,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a bleedorigin model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the directory to save evaluation logs')
    parser.add_argument('--out', help='write the evaluation metrics to this JSON file')
    parser.add_argument('--dump', help='dump the raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='draw predictions of every sample into this dir')
    return parse_with_launcher_args(parser)


def merge_args(cfg, args):
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    resolve_work_dir(cfg, args.work_dir, args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump {args.dump}: the dump file must be a .pkl file')
        dump_metric = dict(type='DumpResults', out_file_path=args.dump)
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = [*evaluator, dump_metric]
        elif isinstance(evaluator, dict) and 'metrics' in evaluator:
            evaluator.metrics = [*evaluator.metrics, dump_metric]
        else:
            cfg.test_evaluator = [evaluator, dump_metric]
    if args.show_dir is not None:
        cfg.default_hooks.visualization = dict(
            type='PointVisualizationHook', enable=True, out_dir=args.show_dir)
    return cfg


def main():
    args = parse_args()
    # Missing, truncated, refused...: one line before datasets and models are
    # built (the Runner checks again that the weights fit the model).
    load_checkpoint_safely(args.checkpoint)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    set_cpu_threads(cfg)
    setup_cpu_distributed(cfg)
    prepare_data(cfg, parts=('test_dataloader', 'test_evaluator'))  # the test split's roots only
    from bleedorigin.engine import BleedOriginRunner

    runner = BleedOriginRunner.from_cfg(cfg)
    runner.allow_missing_weights = False  # evaluating partly random weights is a wrong result
    metrics = runner.test()
    metrics = {k: (float(v) if isinstance(v, (int, float)) else v) for k, v in metrics.items()}
    # NaN (e.g. the bias when every positive clip is missed) is not JSON: write null.
    serialisable = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                    for k, v in metrics.items()}
    print(render_metric_tables(metrics))
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(serialisable, f, indent=2, sort_keys=True, allow_nan=False)
        print(f'metrics written to {args.out}')


if __name__ == '__main__':
    try:
        main()
    except CheckpointError as err:  # missing, truncated, refused, wrong model: one line
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
