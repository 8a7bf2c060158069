"""Ship a trained YOLO baseline beside our checkpoints (``checkpoints/NAME.pth`` + manifest).

Example (from the repository root)::

    python projects/yolo_baselines/tools/publish_yolo.py \
        work_dirs/yolo_baselines/yolo11n_cpu yolo11n \
        --config projects/yolo_baselines/configs/yolo11n_cpu.py \
        --command "python projects/yolo_baselines/tools/train_yolo.py ... --time 0.8"

Takes the run's ``weights/best_state.pth`` (the best validation mAP so far, also
while the run is still training), stores its floating-point tensors as float16
(a YOLO-n file is ~5 MB instead of ~10 MB; the model is rebuilt in float32 when
loaded, with ``weights_only=True``), copies ``results.csv`` and
``bench_val.jsonl`` to ``checkpoints/logs/NAME.*`` and records sha256, size,
epochs, best epoch, validation mAP50, whether the run stopped on its own
(``patience``) and the command in ``checkpoints/manifest.json``. The whole
``checkpoints/`` folder must stay under 20 MB: publishing refuses to exceed it.

A model trained in stages (a new run started from an earlier run's last weights, e.g.
``--name yolo11n_cpu_more --cfg-options model=.../yolo11n_cpu/weights/last.pt``) is
published with ``--previous EARLIER_RUN`` (oldest first, repeatable): epochs and time are
counted over every stage, each stage's logs are copied (``NAME.stage1.results.csv``, ...)
and the weights are the best validation mAP50 of any stage.
"""
import argparse
import datetime
import glob
import os
import os.path as osp
import shutil
import sys

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import torch  # noqa: E402

from bleedorigin.utils.checkpoint import load_checkpoint_safely  # noqa: E402
from bleedorigin.utils.io import atomic_output  # noqa: E402
from bleedorigin.utils.model_zoo import sha256sum, update_manifest, zoo_dir  # noqa: E402
from projects.yolo_baselines.yolo_baselines.val_curve import (  # noqa: E402
    BENCH_VAL_FILE,
    summarise_run,
)

ZOO_SIZE_LIMIT = 20 * 1024 * 1024
STATE_FIELDS = ('state_dict', 'yaml', 'names')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Publish a YOLO baseline into checkpoints/')
    parser.add_argument('run', help='run directory of tools/train_yolo.py')
    parser.add_argument('name', help='model name in the manifest, e.g. yolo11n')
    parser.add_argument('--config', required=True, help='config the run was trained with')
    parser.add_argument('--command', default='', help='the command that trained the model')
    parser.add_argument('--previous', action='append', default=[],
                        help='an earlier stage of the same model (its run directory; oldest '
                        'first, repeatable)')
    parser.add_argument('--zoo', help='model zoo folder (default: <repo>/checkpoints)')
    return parser.parse_args(argv)


def half_state(checkpoint: dict, path: str) -> dict:
    """The zoo's layout ``{'state_dict', 'meta'}``: float tensors in float16, the other
    fields of the state file (model yaml, class names, name, imgsz, epoch) in ``meta``."""
    for field in STATE_FIELDS:
        if field not in checkpoint:
            raise KeyError(f'{path}: field {field!r} missing (not a yolo_baselines state file)')
    meta = {k: v for k, v in checkpoint.items() if k != 'state_dict'}
    meta['dtype'] = 'float16'
    state_dict = {k: (v.half() if v.is_floating_point() else v).contiguous().clone()
                  for k, v in checkpoint['state_dict'].items()}
    return {'state_dict': state_dict, 'meta': meta}


def _zoo_bytes(zoo: str, replaced: str) -> int:
    return sum(osp.getsize(p) for p in glob.glob(osp.join(zoo, '**', '*'), recursive=True)
               if osp.isfile(p) and osp.abspath(p) != osp.abspath(replaced))


def publish(args) -> dict:
    """Publish ``args.run`` as ``args.name``; returns the manifest entry."""
    import json

    stages = list(getattr(args, 'previous', None) or []) + [args.run]
    for stage in stages:
        state_path = osp.join(stage, 'weights', 'best_state.pth')
        if not osp.isfile(state_path):
            raise FileNotFoundError(f'{state_path}: no best_state.pth (train with '
                                    'projects/yolo_baselines/tools/train_yolo.py)')
    # the weights: the stage with the best validation mAP50 (the last one on a tie)
    best_map50 = [summarise_run(d)['best_map50'] for d in stages]
    best = max(reversed(range(len(stages))), key=best_map50.__getitem__)
    state_path = osp.join(stages[best], 'weights', 'best_state.pth')
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'{args.config}: config file not found')
    zoo = zoo_dir(args.zoo)
    os.makedirs(osp.join(zoo, 'logs'), exist_ok=True)
    state = half_state(load_checkpoint_safely(state_path, map_location='cpu'), state_path)
    target = osp.join(zoo, f'{args.name}.pth')
    with atomic_output(target, suffix='.pth') as tmp:
        torch.save(state, tmp)
        size = osp.getsize(tmp)
        total = _zoo_bytes(zoo, target) + size
        if total > ZOO_SIZE_LIMIT:
            raise ValueError(f'{zoo} would hold {total / 2**20:.1f} MB with {args.name} '
                             f'({size / 2**20:.1f} MB): over the 20 MB limit')
    check = load_checkpoint_safely(target, map_location='cpu')  # weights_only=True
    assert set(check['state_dict']) == set(state['state_dict']), target

    summary = summarise_run('+'.join(stages))
    logs = {}
    for index, stage in enumerate(stages, 1):
        tag = '' if len(stages) == 1 else f'stage{index}.'
        for src, suffix in ((osp.join(stage, 'results.csv'), 'results.csv'),
                            (osp.join(stage, BENCH_VAL_FILE), 'bench_val.jsonl')):
            if osp.isfile(src):
                dst = osp.join(zoo, 'logs', f'{args.name}.{tag}{suffix}')
                with atomic_output(dst) as tmp:
                    shutil.copyfile(src, tmp)
                logs[tag + suffix] = osp.relpath(dst, osp.dirname(zoo))
    meta_path = osp.join(args.run, 'run_meta.json')
    run_meta = {}
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            run_meta = json.load(f)
    metrics = {'val/mAP50': summary['best_map50']}
    if 'bench_val' in summary:
        metrics['val_clips/epoch'] = summary['bench_val']['epoch']
        metrics.update({f'val_clips/{k}': v
                        for k, v in summary['bench_val']['metrics'].items()})
    seconds = summary.get('train_seconds')
    entry = {
        'config': osp.relpath(osp.abspath(args.config), REPO_ROOT),
        'file': osp.relpath(target, osp.dirname(zoo)), 'sha256': sha256sum(target),
        'size': osp.getsize(target), 'dtype': 'float16 (rebuilt in float32 when loaded)',
        'imgsz': int(state['meta'].get('imgsz', 640)),
        # numbered over every stage (the state file counts within its stage)
        'epoch': int(state['meta'].get('epoch', 0))
        + ([0] + summary.get('restarts_after_epoch', []))[best],
        'epochs_run': summary['epochs'], 'best_epoch': summary['best_epoch'],
        'stages': len(stages),
        'restarts_after_epoch': summary.get('restarts_after_epoch', []),
        'finished': bool(run_meta.get('finished', False)),
        'stopped_by_patience': bool(run_meta.get('early_stopped', False)),
        'command': args.command,
        'training_time': (f'{seconds / 60:.0f} min ({summary["epochs"]} epochs)'
                          if seconds is not None else 'unknown'),
        'metrics': metrics, 'logs': logs,
        'parameters': int(sum(v.numel() for v in state['state_dict'].values()
                              if v.is_floating_point())),
        'test_command': f'python projects/yolo_baselines/tools/test_yolo.py '
                        f'{osp.relpath(target, osp.dirname(zoo))} --data data/synthetic '
                        '--split test',
        'published': datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec='seconds')}
    manifest = update_manifest(args.name, entry, args.zoo)
    print(f'published {args.name}: {target} ({entry["size"] / 1e6:.2f} MB, epoch '
          f'{entry["epoch"]} of {entry["epochs_run"]}, val mAP50 {metrics["val/mAP50"]:.4f}, '
          f'sha256 {entry["sha256"]}) -> {manifest}; zoo total '
          f'{_zoo_bytes(zoo, "") / 1e6:.2f} MB')
    return entry


def main(argv=None) -> dict:
    return publish(parse_args(argv))


if __name__ == '__main__':
    main()
