"""Figure 13 analogue: per-frame tracking error over a long clip for memory refresh N.

Tracks the bleeding source of one long clip from its GT onset frame and point
with refresh intervals N in {0 (off), 30, 60, 90} (paper 6.3) and plots the
per-frame L2 error against dense ground truth (sparse annotations when the
clip has no dense_gt.json).

Example:
    python tools/analysis_tools/memory_refresh_curve.py configs/bleedorigin/track.py \
        work_dirs/track/iter_600.pth --out work_dirs/track/memory_refresh_curve.png
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config

from bleedorigin.datasets.track_dataset import BleedTrackDataset
from bleedorigin.registry import MODELS
from bleedorigin.utils import load_checkpoint_safely, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Per-frame error vs memory refresh interval')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--data-root', help='bench root (default: the config\'s data_root)')
    parser.add_argument('--split', default='test')
    parser.add_argument('--clip', help='clip_id to plot (default: the longest tracked clip)')
    parser.add_argument('--intervals', type=int, nargs='+', default=[0, 30, 60, 90])
    parser.add_argument('--out', default='work_dirs/track/memory_refresh_curve.png')
    return parser.parse_args()


def main():
    args = parse_args()
    register_all_modules()
    torch.set_num_threads(2)
    cfg = Config.fromfile(args.config)
    tracker = MODELS.build(cfg.model)
    state = load_checkpoint_safely(args.checkpoint)
    tracker.load_state_dict(state.get('state_dict', state))
    tracker.eval()
    data_root = args.data_root or cfg.data_root
    dataset = BleedTrackDataset(data_root, split=args.split, mode='test',
                                input_size=tuple(cfg.model.input_size))
    if not len(dataset):
        raise SystemExit(f'{data_root}: no positive clips in split {args.split!r}')
    if args.clip:
        matches = [i for i, s in enumerate(dataset.samples) if s[0].clip_id == args.clip]
        if not matches:
            raise SystemExit(f'{data_root}: clip {args.clip} not in split {args.split!r}')
        index = matches[0]
    else:
        index = int(np.argmax([end - start for _, start, end in dataset.samples]))
    item = dataset[index]
    sample = item['data_samples']
    frames = item['inputs'][None]
    dense = sample['dense_gt']
    if dense is not None:
        gt, mask = dense['points'], dense['defined']
    else:
        gt, mask = sample['gt_points'], sample['gt_labelled'] & sample['gt_visible']
    scale = np.asarray(sample['scale'], np.float32)
    query = torch.from_numpy(np.asarray(sample['query_points'], np.float32))[None]
    curves = {}
    with torch.no_grad():
        for n in args.intervals:
            pred = tracker.track_clip(frames, query, refresh_interval=n)['points'][0].numpy()
            err = np.linalg.norm(pred / scale - gt, axis=-1)  # (T, K)
            err = np.where(mask, err, np.nan)
            curves[n] = np.nanmean(err, axis=1) if mask.any() else err[:, 0]
            print(f'N={n:3d}: mean error {np.nanmean(curves[n][1:]):.2f} px over '
                  f'{len(err) - 1} frames')

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4))
    for n, curve in curves.items():
        t = np.arange(len(curve))
        ok = ~np.isnan(curve)
        ax.plot(t[ok], curve[ok], label='no refresh' if n == 0 else f'refresh every {n}',
                marker=None if dense is not None else 'o')
    ax.set_xlabel('frames after the onset')
    ax.set_ylabel('L2 error (px, original frame)')
    ax.set_title(f'Memory refresh: {sample["clip_id"]} ({len(frames[0])} frames)')
    ax.grid(alpha=0.3)
    ax.legend()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
