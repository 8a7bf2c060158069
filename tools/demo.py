"""Run BleedOrigin-Net on a video and write the clinician's view (paper Figure 14).

Examples:
    python tools/demo.py --builtin                    # "try it": a built-in synthetic clip
    python tools/demo.py VIDEO.mp4 --out work_dirs/demo   # shipped detector and tracker
    python tools/demo.py VIDEO.mp4 --detect work_dirs/detect/best.pth \
        --track work_dirs/track/best.pth --out work_dirs/demo/annotated.mp4 \
        --json work_dirs/demo/annotated.json
    python tools/demo.py 0 --out camera.mp4 --show

INPUT is a video file, a folder of frames (or a BleedOrigin-Bench clip folder)
or a camera index. Without ``--detect``/``--track`` the shipped checkpoints
``detect`` and ``track`` of ``checkpoints/manifest.json`` are used (sha256
checked, see docs/model_zoo.md); ``--random-weights`` runs untrained models
instead (smoke tests and speed only) and says so. ``--out`` is a video file
(.mp4/.avi) or a folder that receives ``annotated.mp4``, ``frames.json`` and
``alert.png``. ``--builtin`` renders one synthetic test clip into the output
folder when ``data/synthetic`` does not hold it.

The overlay shows "Non Bleeding"/"Bleeding" top-left, a red box flashing
around the bleeding source during the first second after the alert, the
tracked source with its confidence, and the frame index. ``--json`` writes
one record per frame plus the summary. Faulty frames (undecodable,
black, another size) are counted and skipped; the run never stops on them.
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
DEFAULT_DETECT_CONFIG = os.path.join(REPO, 'configs/bleedorigin/detect.py')
DEFAULT_TRACK_CONFIG = os.path.join(REPO, 'configs/bleedorigin/track.py')
VIDEO_SUFFIXES = ('.mp4', '.avi')
# --builtin: a positive test clip of the default synthetic benchmark (seed 0), the clip of
# README's screenshot; rendered on the fly (about 150 frames) if data/synthetic lacks it.
BUILTIN_CLIP = 'P29_C03'
BUILTIN_DATA = os.path.join(REPO, 'data', 'synthetic')
BUILTIN_OUT = os.path.join('work_dirs', 'try_it')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Streaming bleeding onset detection, source localisation and tracking')
    parser.add_argument('input', nargs='?',
                        help='video file, frames folder or camera index (not with --builtin)')
    parser.add_argument('--builtin', action='store_true',
                        help=f'run on the built-in synthetic clip {BUILTIN_CLIP} (rendered on '
                        f'the fly if data/synthetic lacks it); --out defaults to {BUILTIN_OUT}')
    parser.add_argument('--detect', help='detector checkpoint file or shipped name (default: '
                        'the shipped "detect")')
    parser.add_argument('--track', help='tracker checkpoint file or shipped name (default: '
                        'the shipped "track")')
    parser.add_argument('--random-weights', action='store_true',
                        help='use random weights for every model without --detect/--track '
                        '(smoke tests and speed only: the outputs are meaningless)')
    parser.add_argument('--detect-config', help='detector config (default: the one the shipped '
                        'detector was trained with, else configs/bleedorigin/detect.py)')
    parser.add_argument('--track-config', help='tracker config (default: the one the shipped '
                        'tracker was trained with, else configs/bleedorigin/track.py)')
    parser.add_argument('--out', help='annotated output video (.mp4 or .avi), or a folder for '
                        'annotated.mp4, frames.json and alert.png')
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
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads (default 1: the pipeline\'s fastest on 2 cores, '
                        'the tracker running its flow refiner in a second thread; Table 10 of '
                        'tools/benchmark.py times both)')
    parser.add_argument('--no-progress', action='store_true')
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f'--threads must be >= 1, got {args.threads}')
    if args.builtin:
        if args.input is not None:
            parser.error('--builtin takes no INPUT')
        args.out = args.out or BUILTIN_OUT
    elif args.input is None:
        parser.error('give an INPUT (video, frames folder or camera index) or --builtin')
    if args.out and not args.out.lower().endswith(VIDEO_SUFFIXES):
        folder = args.out
        args.out = osp.join(folder, 'annotated.mp4')
        args.json = args.json or osp.join(folder, 'frames.json')
        args.screenshot = args.screenshot or osp.join(folder, 'alert.png')
    if args.mode == 'evaluation' and (args.gt_onset is None or args.gt_point is None):
        parser.error('--mode evaluation needs --gt-onset and --gt-point')
    if not (args.out or args.json or args.show or args.screenshot):
        parser.error('nothing to write: give --out, --json, --screenshot and/or --show')
    return args


def model_checkpoints(args) -> tuple:
    """(detect, track) checkpoint arguments: given files, the shipped defaults or, only with
    ``--random-weights``, ``None`` (announced on stdout)."""
    from bleedorigin.utils.model_zoo import (
        DEFAULT_DETECT,
        DEFAULT_TRACK,
        resolve_checkpoint,
        shipped_config,
    )

    if not args.random_weights:
        args.detect, args.track = args.detect or DEFAULT_DETECT, args.track or DEFAULT_TRACK
    # a shipped model is built from the config it was trained with unless one is given
    args.detect_config = (args.detect_config or shipped_config(args.detect)
                          or DEFAULT_DETECT_CONFIG)
    args.track_config = args.track_config or shipped_config(args.track) or DEFAULT_TRACK_CONFIG
    if not args.random_weights:
        # resolve (and sha256-check) both before building anything: one error, at once
        return resolve_checkpoint(args.detect), resolve_checkpoint(args.track)
    random = [name for name, given in (('detector', args.detect), ('tracker', args.track))
              if not given]
    if random:
        print(f'random weights: the {" and ".join(random)} keep their random initialisation '
              '(--random-weights); the outputs are meaningless (smoke tests and speed only)',
              flush=True)
    return args.detect, args.track


def builtin_clip(out_dir: str, data_root: str = BUILTIN_DATA, clip_id: str = BUILTIN_CLIP,
                 preset: str = 'default', seed: int = 0) -> str:
    """Folder of the built-in clip: from ``data_root`` if rendered there, else rendered once
    into ``out_dir/data`` (the same clip: each clip has its own seed)."""
    from bleedorigin.datasets.bench_writer import clip_path
    from bleedorigin.datasets.synthetic.generator import clip_specs, render_clip
    from bleedorigin.datasets.synthetic.presets import get_preset

    preset_obj = get_preset(preset)
    specs = {spec['clip_id']: spec for spec in clip_specs(preset_obj, seed)}
    if clip_id not in specs:
        raise ValueError(f'built-in clip {clip_id} is not in the {preset} preset')
    spec = specs[clip_id]
    existing = clip_path(data_root, spec['patient_id'], clip_id)
    if osp.isfile(osp.join(existing, 'clip.json')):
        return existing
    root = osp.join(out_dir, 'data')
    folder = clip_path(root, spec['patient_id'], clip_id)
    if not osp.isfile(osp.join(folder, 'clip.json')):
        print(f'rendering the built-in synthetic clip {clip_id} ({preset} preset, seed {seed}) '
              f'into {root} ...', flush=True)
        start = time.time()
        render_clip(root, spec, preset_obj, seed)
        print(f'rendered in {time.time() - start:.1f} s', flush=True)
    return folder


def try_it_line(summary: dict, clip_meta: dict, args) -> str:
    """One line for --builtin: detected vs true onset, alert frame, FPS and the outputs."""
    onset, alert = summary.get('onset_frame'), summary.get('alert_frame')
    true_onset = clip_meta.get('onset_frame')
    outputs = ', '.join(p for p in (args.out, args.json, args.screenshot) if p)
    return (f'try it: {clip_meta.get("clip_id")} ({summary["frames"]} frames): onset detected '
            f'at frame {onset if onset is not None else "none"} (true {true_onset}), alert at '
            f'frame {alert if alert is not None else "none"}, {summary["mean_fps"]:.0f} FPS '
            f'(models), {summary.get("wall_fps", 0.0):.0f} FPS (wall) -> {outputs}')


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch  # here, not at the top: --help answers without loading torch

    torch.set_num_threads(args.threads)

    from bleedorigin.apis import BleedOriginNet, VideoSource, format_summary, run_stream

    clip_meta = None
    if args.builtin:  # check the weights before rendering anything
        detect_checkpoint, track_checkpoint = model_checkpoints(args)
        folder = builtin_clip(osp.dirname(args.out) or BUILTIN_OUT)
        with open(osp.join(folder, 'clip.json')) as f:
            clip_meta = json.load(f)
        args.input = folder
        source = VideoSource(args.input, max_frames=args.max_frames)
    else:  # input errors first
        source = VideoSource(args.input, max_frames=args.max_frames)
        detect_checkpoint, track_checkpoint = model_checkpoints(args)
    fps = args.fps or source.fps
    net = BleedOriginNet.from_config(
        args.detect_config, args.track_config, detect_checkpoint=detect_checkpoint,
        track_checkpoint=track_checkpoint, device=args.device, mode=args.mode,
        refresh_policy=args.refresh)
    if args.mode == 'evaluation':
        net.set_ground_truth(args.gt_onset, [args.gt_point])
    total = source.stats.expected_frames
    if args.max_frames is not None and total is not None:
        total = min(total, args.max_frames)
    frames = source
    if not args.no_progress:
        from tqdm import tqdm
        frames = tqdm(source, total=total, desc=osp.basename(str(args.input).rstrip('/')),
                      unit='frame', dynamic_ncols=True)
    try:
        summary = run_stream(net, frames, fps=fps, out_video=args.out, out_json=args.json,
                             show=args.show, total=total, progress=False,
                             source_stats=source.stats, screenshot=args.screenshot)
    finally:
        if frames is not source:
            frames.close()
    summary['input'] = str(args.input)
    summary['checkpoints'] = {'detect': detect_checkpoint, 'track': track_checkpoint}
    if clip_meta is not None:
        summary['true_onset_frame'] = clip_meta.get('onset_frame')
        print(format_summary(summary))
        print(try_it_line(summary, clip_meta, args))
        return summary
    print(json.dumps(summary, indent=1, default=str))
    print(format_summary(summary))
    return summary


if __name__ == '__main__':
    from bleedorigin.utils.cli import run_cli

    run_cli(main)  # input and configuration errors: one line, not a traceback
