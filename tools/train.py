"""Train a bleedorigin model with mmengine's Runner.

Example:
    python tools/train.py configs/bleedorigin/detect.py
    python tools/train.py configs/bleedorigin/detect.py --resume auto
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config

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
    parser = argparse.ArgumentParser(description='Train a bleedorigin model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint; with no value (or "auto") resume from the '
        'latest checkpoint in the work dir (a fine-tuning config with none there yet starts '
        'from its load_from)')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    return parse_with_launcher_args(parser)


def merge_args(cfg, args):
    """Merge command-line arguments into the config."""
    cfg.launcher = args.launcher
    resolve_work_dir(cfg, args.work_dir, args.config)
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ValueError(f'--amp needs OptimWrapper or AmpOptimWrapper, got {optim_wrapper}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('load_from') and osp.isdir(cfg.load_from):
        # a work dir: the checkpoint that run ended with (best on validation, else last),
        # so a later stage names the stage it starts from, not an iteration
        from bleedorigin.utils.model_zoo import find_checkpoint
        try:
            cfg.load_from = find_checkpoint(cfg.load_from)
        except FileNotFoundError as err:
            raise CheckpointError(cfg.load_from, 'load_from names a work dir without a '
                                  'checkpoint (best_*.pth, last_checkpoint or iter_*.pth); '
                                  'did that training run finish?') from err
    if args.resume == 'auto':
        cfg.resume = True
        # a fine-tuning config's load_from (e.g. detect_negft.py) starts the run while the
        # work dir holds no checkpoint; once it holds one, that one is resumed
        cfg.auto_resume_load_from = cfg.get('load_from')
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def check_checkpoints(cfg):
    """Fail in one line before the data and models are built, not after.

    ``--resume FILE`` must be a full training checkpoint and ``load_from`` must
    load; auto-resume picks an intact checkpoint itself (BleedOriginRunner).
    """
    from bleedorigin.engine.runner import check_resumable

    if cfg.get('load_from'):
        checkpoint = load_checkpoint_safely(cfg.load_from)
        if cfg.get('resume'):
            check_resumable(checkpoint, cfg.load_from)
    if cfg.get('auto_resume_load_from'):
        load_checkpoint_safely(cfg.auto_resume_load_from)


def main():
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    check_checkpoints(cfg)
    set_cpu_threads(cfg)
    setup_cpu_distributed(cfg)
    prepare_data(cfg)
    # Checkpoints load safely (one-line errors), auto-resume skips a truncated
    # latest checkpoint, and checkpoints are written atomically.
    from bleedorigin.engine import BleedOriginRunner

    runner = BleedOriginRunner.from_cfg(cfg)
    runner.train()


if __name__ == '__main__':
    try:
        main()
    except CheckpointError as err:  # load_from / --resume: one line naming the file
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
