"""Forward-backward round-trip error of trackers on any video, without labels.

A grid of points is tracked ``--horizon`` frames forward and back on each
input (a video file, a frames folder, or a folder of videos); the distance
between where a point started and where it returned is reported per method,
next to how far the points moved forward (a tracker that never moves returns
perfectly: read the motion column too). Our tracker and the classical
baselines run on the same frames in the same run.

Example (the six real ESD reference clips; test input only):
    python tools/analysis_tools/round_trip.py ../shared/reference/esd_bleedorigin_clips \
        --config configs/bleedorigin/track.py --checkpoint checkpoints/track.pth
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))

from bleedorigin.apis.round_trip import grid_points, round_trip, summarise  # noqa: E402
from bleedorigin.apis.video_source import IMAGE_EXTENSIONS, VideoSource  # noqa: E402

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.mpg', '.mpeg')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Label-free forward-backward round trip')
    parser.add_argument('inputs', nargs='+', help='video files, frame folders or folders of videos')
    parser.add_argument('--config', help='our tracker config (omit: baselines only)')
    parser.add_argument('--checkpoint', help='our tracker weights')
    parser.add_argument('--baselines', nargs='*',
                        default=['lucas_kanade', 'fb_lucas_kanade', 'dis_flow'],
                        help='classical trackers run beside ours')
    parser.add_argument('--horizon', type=int, default=60, help='frames forward (and back)')
    parser.add_argument('--grid', type=int, default=4, help='points per side of the grid')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', help='JSON file for the per-video and pooled figures')
    return parser.parse_args(argv)


def expand_inputs(inputs):
    """Video files and frame folders; a folder holding videos expands to them."""
    out = []
    for path in inputs:
        if not osp.exists(path):
            raise FileNotFoundError(f'{path}: input not found')
        if osp.isdir(path):
            names = sorted(os.listdir(path))
            videos = [osp.join(path, n) for n in names if n.lower().endswith(VIDEO_EXTENSIONS)]
            images = [n for n in names if n.lower().endswith(IMAGE_EXTENSIONS)]
            if videos and not images:
                out.extend(videos)
                continue
        out.append(path)
    return out


def read_frames(path, count):
    frames = [f for f in VideoSource(path, max_frames=count) if f is not None]
    if len(frames) < 2:
        raise ValueError(f'{path}: fewer than 2 decodable frames')
    return frames


def build_methods(args):
    from bleedorigin.models.trackers.baselines import BASELINE_TRACKERS
    methods = {}
    if args.config:
        from bleedorigin.apis import StreamTracker, build_stream_model
        if not args.checkpoint:
            print('[round_trip] no --checkpoint: our tracker runs with random weights')
        model = build_stream_model(args.config, args.checkpoint, 'tracker')
        # a round trip must not re-anchor mid-way: no refresh policy
        methods['ours'] = lambda: StreamTracker(model, refresh_policy=None)
    for name in args.baselines:
        if name not in BASELINE_TRACKERS:
            raise ValueError(f'unknown baseline {name!r}; choose from {sorted(BASELINE_TRACKERS)}')
        methods[name] = BASELINE_TRACKERS[name]
    if not methods:
        raise ValueError('nothing to run: give --config and/or --baselines')
    return methods


def main(argv=None):
    args = parse_args(argv)
    import torch
    torch.set_num_threads(args.threads)
    methods = build_methods(args)
    videos = expand_inputs(args.inputs)
    per_video, pooled = {}, {name: ([], []) for name in methods}
    width = None
    for path in videos:
        frames = read_frames(path, args.horizon + 1)
        h, w = frames[0].shape[:2]
        width = w if width is None else width
        points = grid_points(w, h, args.grid)
        per_video[path] = {}
        for name, make in methods.items():
            result = round_trip(make, frames, points)
            pooled[name][0].append(result['error'] / w)  # pooled in frame widths
            pooled[name][1].append(result['motion'] / w)
            per_video[path][name] = summarise([result['error']], [result['motion']], w)
    print(f'Round trip over {args.horizon} frames forward and back, {args.grid}x{args.grid} '
          f'points, {len(videos)} video(s); errors in % of the frame width')
    print('| method | median | mean | <= 1 % | <= 2 % | forward motion |')
    print('|---|---:|---:|---:|---:|---:|')
    summary = {}
    for name, (errors, motions) in pooled.items():
        s = summarise(errors, motions, 1.0)
        summary[name] = s
        print(f'| {name} | {100 * s["median"]:.2f} | {100 * s["mean"]:.2f} | '
              f'{s["within_1pct"]:.1f} | {s["within_2pct"]:.1f} | {100 * s["motion"]:.2f} |')
    if args.out:
        from bleedorigin.utils.io import write_json_atomic
        write_json_atomic(args.out, dict(summary=summary, per_video=per_video,
                                         horizon=args.horizon, grid=args.grid))
        print(f'wrote {args.out}')
    return summary


if __name__ == '__main__':
    main()
