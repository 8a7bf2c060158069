"""Run BleedOrigin-Net on a video and write the clinician's view (paper Figure 14).

Examples:
    python tools/demo.py VIDEO.mp4 --detect work_dirs/detect/best.pth \
        --track work_dirs/track/best.pth --out work_dirs/demo/annotated.mp4 \
        --json work_dirs/demo/annotated.json
    python tools/demo.py data/synthetic/clips/P09/C004/frames --detect D.pth --track T.pth \
        --out out.mp4
    python tools/demo.py 0 --detect D.pth --track T.pth --out camera.mp4 --show

INPUT is a video file, a folder of frames (or a BleedOrigin-Bench clip folder)
or a camera index. The overlay shows "Non Bleeding"/"Bleeding" top-left, a red
box flashing around the bleeding source during the first second after the
alert, the tracked source with its confidence, and the frame index. ``--json``
writes one record per frame plus the summary. Faulty frames (undecodable,
black, another size) are counted and skipped; the run never stops on them.
"""
import argparse
import json
import os
import sys

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DETECT_CONFIG = os.path.join(REPO, 'configs/bleedorigin/detect.py')
DEFAULT_TRACK_CONFIG = os.path.join(REPO, 'configs/bleedorigin/track.py')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Streaming bleeding onset detection, source localisation and tracking')
    parser.add_argument('input', help='video file, frames folder or camera index')
    parser.add_argument('--detect', help='detector checkpoint (random weights if omitted: '
                        'smoke tests only)')
    parser.add_argument('--track', help='tracker checkpoint (random weights if omitted)')
    parser.add_argument('--detect-config', default=DEFAULT_DETECT_CONFIG)
    parser.add_argument('--track-config', default=DEFAULT_TRACK_CONFIG)
    parser.add_argument('--out', help='annotated output video (.mp4 or .avi)')
    parser.add_argument('--json', help='per-frame JSON records and the summary')
    parser.add_argument('--show', action='store_true', help='show the overlay in a window')
    parser.add_argument('--screenshot', help='PNG of the annotated frame just after the alert')
    parser.add_argument('--mode', choices=['deployment', 'evaluation'], default='deployment',
                        help='evaluation needs --gt-onset and --gt-point')
    parser.add_argument('--gt-onset', type=int, help='true onset frame (evaluation mode)')
    parser.add_argument('--gt-point', type=float, nargs=2, metavar=('X', 'Y'),
                        help='true source point in the onset frame (evaluation mode)')
    parser.add_argument('--refresh', default='fixed60',
                        help='tracker memory refresh: none, fixed<N> (fixed30/60/90), adaptive')
    parser.add_argument('--max-frames', type=int, help='stop after this many frames')
    parser.add_argument('--fps', type=float, help='override the input frame rate')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, help='torch threads (default: all cores)')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.mode == 'evaluation' and (args.gt_onset is None or args.gt_point is None):
        parser.error('--mode evaluation needs --gt-onset and --gt-point')
    if not (args.out or args.json or args.show or args.screenshot):
        parser.error('nothing to write: give --out, --json, --screenshot and/or --show')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)

    from bleedorigin.apis import BleedOriginNet, VideoSource, format_summary, run_stream

    source = VideoSource(args.input, max_frames=args.max_frames)
    fps = args.fps or source.fps
    net = BleedOriginNet.from_config(
        args.detect_config, args.track_config, detect_checkpoint=args.detect,
        track_checkpoint=args.track, device=args.device, mode=args.mode,
        refresh_policy=args.refresh)
    if args.mode == 'evaluation':
        net.set_ground_truth(args.gt_onset, [args.gt_point])
    total = source.stats.expected_frames
    if args.max_frames is not None and total is not None:
        total = min(total, args.max_frames)
    summary = run_stream(net, source, fps=fps, out_video=args.out, out_json=args.json,
                         show=args.show, total=total, progress=not args.no_progress,
                         source_stats=source.stats, screenshot=args.screenshot)
    summary['input'] = str(args.input)
    print(json.dumps(summary, indent=1, default=str))
    print(format_summary(summary))
    return summary


if __name__ == '__main__':
    try:
        main()
    except (OSError, ValueError) as err:
        # Input and configuration errors: one clear line instead of a traceback.
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
