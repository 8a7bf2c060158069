"""Streaming efficiency of BleedOrigin-Detect (paper Table 10 columns), per stage.

Feeds frames one at a time through ``StreamDetector.step`` (onset state) and calls
``locate_source`` once per frame budget, then prints FPS, latency, parameters,
FLOPs and peak memory per stage as Markdown (and JSON with ``--out``).

Example:
    python tools/analysis_tools/benchmark_detect.py configs/bleedorigin/detect.py \
        --checkpoint work_dirs/detect/best.pth --width 512 --height 384 --frames 300
"""
import argparse
import json
import os
import os.path as osp

import numpy as np
import torch

from bleedorigin.apis import StreamDetector, build_stream_model
from bleedorigin.utils.profiling import (
    StageTimer,
    count_flops,
    count_parameters,
    format_efficiency_table,
    peak_rss_mb,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Benchmark streaming detection on CPU')
    parser.add_argument('config', help='detector config')
    parser.add_argument('--checkpoint', help='trained weights (random weights if omitted)')
    parser.add_argument('--video', help='RGB video to stream (default: synthetic frames)')
    parser.add_argument('--width', type=int, default=512)
    parser.add_argument('--height', type=int, default=384)
    parser.add_argument('--frames', type=int, default=300, help='frames to stream')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--out', help='write the figures to this JSON file')
    return parser.parse_args()


def synthetic_frames(num, width, height, seed=0):
    """A moving textured scene with a growing red spot (no data needed)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(60, 200, size=(height // 8 + 2, width // 8 + 2, 3), dtype=np.uint8)
    import cv2
    texture = cv2.resize(base, (width + 16, height + 16), interpolation=cv2.INTER_CUBIC)
    for t in range(num):
        dx, dy = int(8 + 6 * np.sin(t / 15)), int(8 + 6 * np.cos(t / 20))
        frame = texture[dy:dy + height, dx:dx + width].copy()
        if t > num // 2:
            cv2.circle(frame, (width // 3, height // 2), 2 + (t - num // 2) // 4, (150, 10, 10), -1)
        yield frame


def video_frames(path, num, width, height):
    import cv2
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise FileNotFoundError(f'{path}: cannot open video')
    count = 0
    while count < num:
        ok, bgr = capture.read()
        if not ok:
            break
        yield cv2.cvtColor(cv2.resize(bgr, (width, height)), cv2.COLOR_BGR2RGB)
        count += 1
    capture.release()


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    # the tools' one loader: a shipped name or a file, weights kept in their own checkpoint
    # (the onset refiner's) allowed to be absent, random weights (with a warning) without one
    model = build_stream_model(args.config, args.checkpoint, 'detector')
    detector = StreamDetector(model)
    frames = (video_frames(args.video, args.frames, args.width, args.height) if args.video
              else synthetic_frames(args.frames, args.width, args.height))
    # pass 1: latency (no allocation tracing); pass 2: peak Python-heap memory per stage
    timer = StageTimer()
    detector.reset()
    state, last = None, None
    frames = list(frames)
    warmup = min(5, len(frames))
    for index, frame in enumerate(frames):
        if index < warmup:
            detector.step(frame)
            continue
        with timer.stage('onset (stream_step)'):
            state = detector.step(frame)
        last = frame
    for _ in range(10):
        with timer.stage('source (locate_source)'):
            detector.locate_source(last)
    memory = StageTimer(track_memory=True)
    detector.reset()
    for frame in frames[:model.window_size + 5]:
        with memory.stage('onset (stream_step)'):
            detector.step(frame)
    with memory.stage('source (locate_source)'):
        detector.locate_source(last)
    for name, peak in memory.peak_bytes.items():
        timer.peak_bytes[name] = peak
    summary = timer.summary()

    # FLOPs of one streamed frame: MDCFM + (1 + M) MDG comparisons + projection, plus one
    # transformer window; source: encoder + head on one frame
    w, h = model.onset_input_size
    comparisons = 1 + (model.mdcfm.memory_size if model.use_memory else 0)
    pair = (torch.zeros(comparisons, 3, h, w), torch.zeros(comparisons, 3, h, w),
            torch.zeros(comparisons, 2, h, w))
    onset_flops = [count_flops(model.mdcfm, (torch.zeros(1, 6, h, w), torch.zeros(1, 2, h, w))),
                   count_flops(model.mdg, (pair,)),
                   count_flops(model.onset_head,
                               (torch.zeros(1, model.window_size,
                                            model.onset_head.fc1.in_features),))]
    sw, sh = model.source_input_size
    image = torch.zeros(1, model.source_head.image_channels, sh, sw)

    class _Source(torch.nn.Module):

        def __init__(self, detector):
            super().__init__()
            self.detector = detector

        def forward(self, x):
            return self.detector.source_heatmap(x)

    source_flops = count_flops(_Source(model), (image,))
    onset_params = sum(count_parameters(m) for m in (model.mdcfm, model.mdg, model.onset_head,
                                                     model.frame_proj))
    source_params = count_parameters(model.encoder) + count_parameters(model.source_head)
    rows = {
        'onset (stream_step)': dict(
            params_m=onset_params / 1e6,
            gflops=None if None in onset_flops else sum(onset_flops) / 1e9,
            **summary['onset (stream_step)']),
        'source (locate_source)': dict(
            params_m=source_params / 1e6,
            gflops=None if source_flops is None else source_flops / 1e9,
            **summary['source (locate_source)']),
    }
    print(f'Streaming detection at {args.width}x{args.height}, {args.threads} threads, '
          f'{summary["onset (stream_step)"]["calls"]} frames '
          f'(last onset state: {state["onset_frame"]})')
    print(format_efficiency_table(rows))
    print(f'process peak RSS: {peak_rss_mb():.0f} MB; streaming FPS (onset state per frame): '
          f'{rows["onset (stream_step)"]["fps"]:.1f}')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(rows=rows, width=args.width, height=args.height,
                           threads=args.threads, peak_rss_mb=peak_rss_mb()), f, indent=2)


if __name__ == '__main__':
    main()
