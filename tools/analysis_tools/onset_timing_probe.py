"""Onset timing probe: the detector on re-timed clips (onsets early in the stream, streams
that end soon after the onset), a label-preserving check that it does not rely on the
built-in generator's onset timing (onsets 30-130 of 150 frames).

Every positive clip of the split is streamed as rendered, then with the leading frames
dropped so that the onset comes ``--lead`` frames after the stream's start, then with the
trailing frames dropped so that the stream ends ``--tail`` frames after the onset
(``bleedorigin.apis.onset_timing``); ``--look`` adds the whole clips with every frame's
look changed (hue, saturation, exposure, blur, JPEG, noise; ``--look all``). Prints Table
3's columns per variant, over every clip and over the clips that still hold one window of
N frames (a shorter stream has no window and cannot fire; eq. 2).

``--yolo WEIGHTS:THRESHOLD:K`` streams the same variants through a YOLO baseline too
(``projects/yolo_baselines``, its onset rule with the alarm gate K; pick the threshold and
K on validation with ``select_yolo_setting.py``), one table per decision: the strongest
baselines on the same clips in the same run.

Example:
    python tools/analysis_tools/onset_timing_probe.py configs/bleedorigin/detect.py \\
        checkpoints/detect.pth --data-root data/synthetic --split val \\
        --look all --yolo checkpoints/yolo11n.pth:0.25:3 checkpoints/yolo12n.pth:0.25:3 \\
        --out work_dirs/onset_timing/val.json
"""
import argparse
import os
import os.path as osp
import sys
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Onset accuracy on re-timed clips')
    parser.add_argument('config', help='detector config')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--split', default='test')
    parser.add_argument('--lead', type=int, nargs='*', default=[5, 15, 25],
                        help='variants whose stream starts this many frames before the onset')
    parser.add_argument('--tail', type=int, nargs='*', default=[10, 20],
                        help='variants whose stream ends this many frames after the onset')
    parser.add_argument('--look', nargs='*', default=[],
                        help='appearance variants by name (bleedorigin.apis.onset_timing.'
                        "APPEARANCE; 'all': every one)")
    parser.add_argument('--max-clips', type=int, help='at most this many positive clips')
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at a time')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--yolo', nargs='*', default=[], metavar='WEIGHTS:THRESHOLD:K',
                        help='YOLO baselines streamed through the same variants: weights '
                        '(zoo file or run dir), confidence threshold, alarm gate K')
    parser.add_argument('--out', help='write the rows and per-clip records to this JSON file')
    return parser.parse_args(argv)


def parse_yolo(spec: str):
    """``WEIGHTS:THRESHOLD:K`` -> (weights, threshold, K)."""
    parts = spec.rsplit(':', 2)  # the weights' path may hold a colon itself
    try:
        weights, threshold, run = parts[0], float(parts[1]), int(parts[2])
    except (IndexError, ValueError):
        raise SystemExit(f'--yolo: expected WEIGHTS:THRESHOLD:K, got {spec!r}') from None
    if not weights or not 0 <= threshold < 1 or run < 1:
        raise SystemExit(f'--yolo {spec!r}: need weights, a threshold in [0, 1) and K >= 1')
    if not osp.exists(weights):
        raise SystemExit(f'--yolo {spec!r}: {weights} not found')
    return weights, threshold, run


def main(argv=None):
    args = parse_args(argv)
    import torch
    from mmengine.utils import ProgressBar

    from bleedorigin.apis import StreamDetector, build_stream_model
    from bleedorigin.apis.onset_timing import (
        format_timing_table,
        probe_onset_timing,
        resolve_looks,
        timing_rows,
    )
    from bleedorigin.datasets.bench import BenchIndex
    from bleedorigin.evaluation.clips import subsample
    from bleedorigin.utils.io import write_json_atomic

    if any(v < 0 for v in args.lead) or any(v < 1 for v in args.tail):
        sys.exit(f'--lead must be >= 0 and --tail >= 1, got {args.lead} and {args.tail}')
    try:
        looks = resolve_looks(args.look)
    except KeyError as err:
        sys.exit(f'--look: {err.args[0]}')
    yolo = [parse_yolo(spec) for spec in args.yolo]
    if not osp.isfile(osp.join(args.data_root, 'splits.json')):
        sys.exit(f'{args.data_root}: not a bench root (splits.json missing)')
    torch.set_num_threads(args.threads)
    clips = [c for c in BenchIndex(args.data_root, args.split).clips if c.onset_frame is not None]
    clips = subsample(clips, args.max_clips)
    if not clips:
        sys.exit(f'{args.data_root} split {args.split}: no clip with an onset')
    model = build_stream_model(args.config, args.checkpoint, 'detector')
    decisions = [('ours', StreamDetector(model), None)]
    if yolo:
        os.environ.setdefault('YOLO_OFFLINE', '1')
        repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
        if repo not in sys.path:
            sys.path.insert(0, repo)
        from projects.yolo_baselines.yolo_baselines import YOLOBleedingDetector
        for weights, threshold, run in yolo:
            detector = YOLOBleedingDetector(weights, onset_threshold=threshold, onset_run=run)
            decisions.append((f'{detector.method} at {threshold:g}, K = {run}', detector,
                              dict(weights=weights, threshold=threshold, run=run)))
    out = dict(config=args.config, checkpoint=args.checkpoint, split=args.split)
    for name, detector, setting in decisions:
        start = time.time()
        bar = ProgressBar(len(clips))
        results = probe_onset_timing(detector, clips, args.lead, args.tail, looks, args.chunk,
                                     progress=bar.update)
        rows = timing_rows(results, model.window_size)
        print(f'\n{name}:')
        print(format_timing_table(rows, model.window_size))
        print(f'{len(clips)} positive clips of {args.data_root} ({args.split}), '
              f'{time.time() - start:.0f} s')
        if setting is None:
            out.update(rows=rows, clips=results)
        else:
            out.setdefault('baselines', {})[name] = dict(setting, rows=rows, clips=results)
        if args.out:  # after every decision: a long run keeps what it finished
            os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
            write_json_atomic(args.out, out, indent=1)
    if args.out:
        print(f'written to {args.out}')
    return out['rows']


if __name__ == '__main__':
    main()
