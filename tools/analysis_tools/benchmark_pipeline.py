"""End-to-end streaming speed of BleedOrigin-Net with per-stage latency (Table 10 analogue).

The workload is the deployment one: the onset detector runs on every frame
until the onset, the source is located once in the onset frame, then only the
tracker runs (with its memory refresh). The onset is injected at
``--onset`` (default: the middle of the stream) so the split between the two
phases does not depend on whether an untrained detector ever fires.

Frames come from ``--input`` (video file or frames folder) or, by default,
from the first clip of the synthetic test split, resized to ``--size``
(default 512 x 384, the paper's) and looped up to ``--frames``.

Example:
    python tools/analysis_tools/benchmark_pipeline.py --detect work_dirs/detect/best.pth \
        --track work_dirs/track/best.pth --frames 300 --threads 2 \
        --out work_dirs/pipe/benchmark_pipeline.json
"""
import argparse
import json
import os
import os.path as osp
import time

import numpy as np
import torch


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Streaming FPS of the full pipeline')
    parser.add_argument('--input', help='video file or frames folder (default: a synthetic '
                        'test clip from --data-root)')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--detect', help='detector checkpoint (random weights if omitted)')
    parser.add_argument('--track', help='tracker checkpoint (random weights if omitted)')
    parser.add_argument('--detect-config', default='configs/bleedorigin/detect.py')
    parser.add_argument('--track-config', default='configs/bleedorigin/track.py')
    parser.add_argument('--size', type=int, nargs=2, default=(512, 384), metavar=('W', 'H'))
    parser.add_argument('--frames', type=int, default=300, help='frames to stream')
    parser.add_argument('--onset', type=int, help='injected onset frame (default: frames // 2)')
    parser.add_argument('--warmup', type=int, default=5, help='untimed frames first')
    parser.add_argument('--refresh', default='fixed60')
    parser.add_argument('--overlay', action='store_true',
                        help='also time the overlay drawing (as tools/demo.py does)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out', default='work_dirs/pipe/benchmark_pipeline.json')
    return parser.parse_args(argv)


def load_stream(args):
    """(N, H, W, 3) uint8 RGB frames at --size, plus the source description."""
    import cv2

    from bleedorigin.apis import VideoSource

    if args.input:
        source, name = VideoSource(args.input, max_frames=args.frames), args.input
    else:
        from bleedorigin.datasets.bench import BenchIndex

        clips = BenchIndex(args.data_root, split='test').clips
        if not clips:
            raise ValueError(f'{args.data_root}: no test clip; pass --input VIDEO')
        clip = max(clips, key=lambda c: c.num_frames)
        folder = osp.join(clip.clip_dir, 'frames' if clip.video == 'frames' else clip.video)
        source, name = VideoSource(folder, max_frames=args.frames), clip.rel_dir
    frames = [cv2.resize(f, tuple(args.size), interpolation=cv2.INTER_AREA)
              for f in source if f is not None]
    if not frames:
        raise ValueError(f'{name}: no decodable frame')
    return np.stack(frames), name


def percentile_stats(values):
    values = np.asarray(values, np.float64)
    if not len(values):
        return None
    return dict(mean=float(values.mean()), p50=float(np.median(values)),
                p90=float(np.percentile(values, 90)), frames=int(len(values)))


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    from bleedorigin.apis import BleedOriginNet
    from bleedorigin.visualization import draw_bleeding_overlay

    frames, name = load_stream(args)
    total = args.frames
    onset = args.onset if args.onset is not None else total // 2
    if not 0 <= onset < total:
        raise ValueError(f'--onset {onset} outside [0, {total})')
    net = BleedOriginNet.from_config(
        args.detect_config, args.track_config, detect_checkpoint=args.detect,
        track_checkpoint=args.track, mode='evaluation', refresh_policy=args.refresh,
        evaluation_detector='until_onset')
    width, height = args.size
    net.set_ground_truth(onset, [[width / 2.0, height / 2.0]])

    # Warm-up on a separate pass (first calls allocate), then the timed stream.
    net.reset()
    for i in range(min(args.warmup, len(frames))):
        net.step(frames[i])
    net.reset()
    stages = {}
    phase_totals = dict(detection=[], tracking=[])
    overlay_ms = []
    started = time.perf_counter()
    for t in range(total):
        frame = frames[t % len(frames)]
        result = net.step(frame)
        if args.overlay:
            tick = time.perf_counter()
            draw_bleeding_overlay(frame, result)
            overlay_ms.append((time.perf_counter() - tick) * 1e3)
        for stage, value in result.latency_ms.items():
            stages.setdefault(stage, []).append(value)
        phase = 'tracking' if t > onset else 'detection'
        phase_totals[phase].append(result.latency_ms.get('total', 0.0)
                                   + (overlay_ms[-1] if args.overlay else 0.0))
    wall = time.perf_counter() - started
    end_to_end_ms = [a for v in phase_totals.values() for a in v]
    report = dict(
        input=name, size=[width, height], frames=total, onset=onset, threads=args.threads,
        # Other processes on the machine slow every stage; keep the context with the figure.
        load_average=[round(v, 2) for v in os.getloadavg()], cpu_count=os.cpu_count(),
        detect=args.detect, track=args.track, untrained=not (args.detect and args.track),
        fps_end_to_end=total / wall,
        fps_models=1e3 / float(np.mean(end_to_end_ms)),
        fps_detection_phase=1e3 / float(np.mean(phase_totals['detection']))
        if phase_totals['detection'] else None,
        fps_tracking_phase=1e3 / float(np.mean(phase_totals['tracking']))
        if phase_totals['tracking'] else None,
        stage_latency_ms={k: percentile_stats(v) for k, v in stages.items()},
        overlay_ms=percentile_stats(overlay_ms),
        summary=net.summary(),
    )
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(report, f, indent=1)
    print('| stage | mean ms | p50 ms | p90 ms | frames |')
    print('|---|---:|---:|---:|---:|')
    for stage, stats in report['stage_latency_ms'].items():
        print(f'| {stage} | {stats["mean"]:.2f} | {stats["p50"]:.2f} | {stats["p90"]:.2f} | '
              f'{stats["frames"]} |')
    if report['overlay_ms']:
        stats = report['overlay_ms']
        print(f'| overlay | {stats["mean"]:.2f} | {stats["p50"]:.2f} | {stats["p90"]:.2f} | '
              f'{stats["frames"]} |')
    print(f'summary: {total} frames at {width}x{height}, {args.threads} threads: '
          f'{report["fps_end_to_end"]:.1f} FPS end to end (detection phase '
          f'{report["fps_detection_phase"] or 0:.1f}, tracking phase '
          f'{report["fps_tracking_phase"] or 0:.1f})'
          + (' [untrained weights]' if report['untrained'] else '')
          + f', load average {report["load_average"][0]:.1f} on {os.cpu_count()} cores'
          + f' -> {args.out}')
    return report


if __name__ == '__main__':
    from bleedorigin.utils.cli import run_cli

    run_cli(main)
