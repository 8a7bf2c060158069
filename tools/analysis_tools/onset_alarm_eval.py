"""False alarms per hour on long negative streams and alert latency on positive clips.

Streams every frame of every clip through the detector (``stream_step``, the
deployment path). On the negative streams an alarm is dismissed and watching
resumes, so each alarm counts; the figure is alarms per hour of non-bleeding video.
On the positive clips of ``--split`` the alert latency is the number of frames from
the true onset to the first alarm (negative: an early alarm).

The long negative streams are the ``negative_streams`` synthetic preset (six
one-minute streams with every distractor; rendered on first use into
``--negative-root``).

Example:
    python tools/analysis_tools/onset_alarm_eval.py configs/bleedorigin/detect.py \
        work_dirs/detect/best.pth --negative-root data/negative_streams \
        --positive-root data/synthetic --split test --out work_dirs/detect/alarms.json
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from mmengine.config import DictAction

from bleedorigin.evaluation.tables import format_figure as fmt


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Onset false alarms per hour and latency')
    parser.add_argument('config', help='detector config')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('--negative-root', default='data/negative_streams',
                        help='bench root of the long negative streams')
    parser.add_argument('--negative-preset', default='negative_streams',
                        help='synthetic preset rendered into --negative-root if missing '
                        '("none": the root must exist)')
    parser.add_argument('--positive-root', default='data/synthetic')
    parser.add_argument('--split', default='test', help='split of the positive clips')
    parser.add_argument('--max-clips', type=int, help='at most this many positive clips')
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at a time')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--workers', type=int, default=1,
                        help='processes rendering the negative streams on first use')
    parser.add_argument('--decoder', choices=['window', 'state'],
                        help="override the detector's onset_decoder (eq. 2 'window' or 'state')")
    parser.add_argument('--confirm', type=int,
                        help="override the detector's alarm gate onset_confirm (K consecutive "
                        'confident windows; 1 is eq. 2 as printed)')
    parser.add_argument('--out', help='write the figures to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys of the detector (e.g. model.mdcfm.alpha=0.3)')
    return parser.parse_args(argv)


def iter_frames(clip, chunk: int):
    from bleedorigin.evaluation.clips import iter_frames as indexed_frames

    return (frame for _, frame in indexed_frames(clip, 0, clip.num_frames, chunk))


def negative_figures(detector, root: str, chunk: int) -> dict:
    from tqdm import tqdm

    from bleedorigin.apis.onset_alarms import stream_alarms, streams_alarm_rate
    from bleedorigin.datasets.bench import BenchIndex

    clips = [c for split in ('train', 'val', 'test') for c in BenchIndex(root, split).clips
             if c.onset_frame is None]
    if not clips:
        raise ValueError(f'{root}: no negative clips')
    per_clip, streams = [], []
    for clip in tqdm(clips, desc='negative streams', unit='stream'):
        out = stream_alarms(detector, iter_frames(clip, chunk))
        streams.append((len(out['alerts']), out['num_frames'], clip.fps))
        per_clip.append(dict(clip=f'{clip.patient_id}/{clip.clip_id}',
                             frames=out['num_frames'], alerts=out['alerts']))
    rate = streams_alarm_rate(streams)
    return dict(streams=len(clips), minutes=rate['minutes'], frames=rate['frames'],
                alarms=rate['alarms'], false_alarms_per_hour=rate['false_alarms_per_hour'],
                per_clip=per_clip)


def positive_figures(detector, root: str, split: str, chunk: int,
                     max_clips=None) -> dict:
    from tqdm import tqdm

    from bleedorigin.apis import latency_statistics
    from bleedorigin.apis.onset_alarms import alert_latencies, stream_alarms
    from bleedorigin.datasets.bench import BenchIndex

    clips = [c for c in BenchIndex(root, split).clips if c.onset_frame is not None]
    clips = clips[:max_clips] if max_clips else clips
    first = []
    for clip in tqdm(clips, desc='positive clips', unit='clip'):
        out = stream_alarms(detector, iter_frames(clip, chunk), rearm=False)
        first.append(out['alerts'][0] if out['alerts'] else None)
    latencies = alert_latencies(first, [c.onset_frame for c in clips])
    stats = latency_statistics(latencies)
    stats['latencies'] = latencies
    return stats


def main(argv=None):
    args = parse_args(argv)
    import torch

    from bleedorigin.apis import StreamDetector, build_stream_model

    torch.set_num_threads(args.threads)
    if not osp.isdir(args.negative_root) or not osp.isfile(
            osp.join(args.negative_root, 'splits.json')):
        if args.negative_preset == 'none':
            sys.exit(f'{args.negative_root}: not a bench root (splits.json missing)')
        from bleedorigin.datasets.synthetic import ensure_synthetic
        ensure_synthetic(data_root=args.negative_root, preset=args.negative_preset, seed=0,
                         workers=args.workers)
    model = build_stream_model(args.config, args.checkpoint, 'detector',
                               cfg_options=dict(args.cfg_options))
    if args.decoder:
        model.onset_decoder = args.decoder  # a model setting (its decoder), not stream state
    if args.confirm is not None:
        if args.confirm < 1:
            sys.exit(f'--confirm must be >= 1, got {args.confirm}')
        model.onset_confirm = args.confirm
    if args.decoder or args.confirm is not None:
        # the overridden rule decides the alarm itself, without the refiner's confirmation
        model.onset_refine_confirm = False
    detector = StreamDetector(model)
    start = time.time()
    result = dict(negative=negative_figures(detector, args.negative_root, args.chunk))
    result['positive'] = positive_figures(detector, args.positive_root, args.split,
                                          args.chunk, args.max_clips)
    result['seconds'] = time.time() - start
    result['cfg_options'] = dict(args.cfg_options)
    neg, pos = result['negative'], result['positive']
    print('| negative streams | minutes | alarms | false alarms / hour |')
    print('|---:|---:|---:|---:|')
    print(f"| {neg['streams']} | {neg['minutes']:.1f} | {neg['alarms']} | "
          f"{neg['false_alarms_per_hour']:.1f} |")
    print()
    print('| positive clips | alerts | misses | early | latency median | latency P90 |')
    print('|---:|---:|---:|---:|---:|---:|')
    print(f"| {pos['clips']} | {pos['alerts']} | {pos['misses']} | {pos['early_alerts']} | "
          f"{fmt(pos['median'])} | {fmt(pos['p90'])} |")
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        tmp = f'{args.out}.tmp'
        with open(tmp, 'w') as f:
            json.dump(result, f, indent=1)
        os.replace(tmp, args.out)
        print(f'written to {args.out}')
    return result


if __name__ == '__main__':
    main()
