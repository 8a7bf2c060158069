"""Tracking throughput of the streaming tracker (paper Table 10 row 3 analogue).

Times ``tracker.step(frame)`` (resize, encoder, decoder, heads) for one or
more points at 512x384 input frames, after a warm-up, with its own minimal
timer (time.perf_counter; no profiling module is shared for this). Frames are
the first clip of the data root resized to the requested size when available,
otherwise smooth random frames.

Example:
    python tools/analysis_tools/benchmark_track.py configs/bleedorigin/track.py \
        --checkpoint work_dirs/track/iter_600.pth --threads 2
"""
import argparse
import time

import cv2
import numpy as np
import torch
from mmengine.config import Config

from bleedorigin.apis import StreamTracker
from bleedorigin.registry import MODELS
from bleedorigin.utils import load_checkpoint_safely, register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Streaming tracker throughput')
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='weights (default: random init, same cost)')
    parser.add_argument('--size', type=int, nargs=2, default=[512, 384], metavar=('W', 'H'))
    parser.add_argument('--points', type=int, default=1)
    parser.add_argument('--frames', type=int, default=300)
    parser.add_argument('--warmup', type=int, default=20)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--data-root', help='bench root for real frames')
    return parser.parse_args()


def load_frames(data_root, size, count):
    if data_root:
        from bleedorigin.datasets.bench import BenchIndex
        clips = BenchIndex(data_root).clips
        if clips:
            clip = clips[0]
            frames = clip.load_frames(range(min(clip.num_frames, count)))
            return [cv2.resize(f, tuple(size), interpolation=cv2.INTER_AREA) for f in frames]
    rng = np.random.default_rng(0)
    base = cv2.resize(rng.integers(0, 255, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8),
                      tuple(size), interpolation=cv2.INTER_CUBIC)
    return [np.roll(base, i, axis=1) for i in range(count)]


def main():
    args = parse_args()
    register_all_modules()
    torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    tracker = MODELS.build(cfg.model)
    if args.checkpoint:
        state = load_checkpoint_safely(args.checkpoint)
        tracker.load_state_dict(state.get('state_dict', state), strict=False)
    tracker.eval()
    stream = StreamTracker(tracker, refresh_policy='model')
    frames = load_frames(args.data_root or cfg.get('data_root'), args.size,
                         args.frames + args.warmup + 1)
    w, h = args.size
    points = np.stack([np.linspace(w * 0.3, w * 0.7, args.points),
                       np.full(args.points, h / 2)], axis=1)
    stream.init(frames[0], points)
    n = len(frames)
    for i in range(1, args.warmup + 1):
        stream.step(frames[i % n])
    start = time.perf_counter()
    for i in range(args.frames):
        stream.step(frames[(args.warmup + 1 + i) % n])
    elapsed = time.perf_counter() - start
    params = sum(p.numel() for p in tracker.parameters()) / 1e6
    print(f'tracker step: {args.frames / elapsed:.1f} FPS, {1000 * elapsed / args.frames:.2f} '
          f'ms/frame, {args.points} point(s), {w}x{h} frames, {args.threads} threads, '
          f'{params:.2f} M params, refresh {stream.refresh_policy.name}')


if __name__ == '__main__':
    main()
