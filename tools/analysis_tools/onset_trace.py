"""A clip's window confidence, frame by frame, for one or several detectors: why an onset
was missed, found late or found early.

Every named clip is streamed through each decision (``StreamDetector``, the deployment
path, as ``tools/benchmark.py`` and ``onset_alarm_eval.py`` stream it) and the trace of
:func:`bleedorigin.apis.onset_alarms.onset_trace` is kept: S_conf and theta of the window
ending at each frame, eq. 2's onset and the onset the detector reports. The tool prints
one row per decision and clip (the highest S_conf and its frame, the first alarm, eq. 2's
and the reported onset, the error, and on a positive clip how many of its bleeding frames
entered the clean-view memory through eq. 1's gate) and plots S_conf against the frame,
one panel per clip, with the threshold of eq. 2, the true onset and each decision's reported onset.

A decision is a checkpoint with the config's decision (``NAME=CKPT``; the positional
checkpoint is ``ours``); ``--video-alone`` adds each checkpoint once more with eq. 2 on the
video alone (no flip view), which shows what the mirror view adds or takes away.

Example (the clip the two-thread seed of the last detector stage misses, docs/detect.md):
    python tools/analysis_tools/onset_trace.py configs/bleedorigin/detect.py \\
        checkpoints/detect.pth --compare seed2=work_dirs/detect_hardpos_seed2/iter_400.pth \\
        --clips data/synthetic:test:P16/P16_C08,P16/P16_C01 --video-alone \\
        --out-dir work_dirs/onset_trace
"""
import argparse
import os
import os.path as osp
import sys
import time

from mmengine.config import DictAction

#: Clips plotted when a --clips entry names none (all of its split, evenly subsampled).
DEFAULT_MAX_CLIPS = 8
#: Suffix of a decision's name on the video alone (--video-alone).
VIDEO_ALONE = '(video alone)'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="A clip's window confidence, frame by frame")
    parser.add_argument('config', help='detector config')
    parser.add_argument('checkpoint', help='detector checkpoint (decision "ours")')
    parser.add_argument('--compare', action='append', default=[], metavar='NAME=CKPT',
                        help='another checkpoint of the same config (repeatable)')
    parser.add_argument('--clips', action='append', default=[], required=True,
                        metavar='ROOT:SPLIT[:ID,...]',
                        help='clips of a bench root; ID is PATIENT/CLIP or CLIP; without '
                             'IDs, up to --max-clips clips of the split (repeatable)')
    parser.add_argument('--max-clips', type=int, default=DEFAULT_MAX_CLIPS,
                        help='clips per split named without IDs (0: all of them)')
    parser.add_argument('--only-wrong', type=int, default=None, metavar='TOL',
                        help='table and plot only the clips on which some decision misses '
                        'the onset, reports it more than TOL frames off, or alarms on a '
                        'negative clip (the JSON keeps every trace)')
    parser.add_argument('--video-alone', action='store_true',
                        help='also trace each checkpoint with eq. 2 on the video alone')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at a time')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys for every decision')
    return parser.parse_args(argv)


def parse_decisions(args) -> list:
    """[(name, checkpoint, cfg_options)] of the positional checkpoint, ``--compare`` and,
    with ``--video-alone``, each of them on the video alone."""
    checkpoints = [('ours', args.checkpoint)]
    for spec in args.compare:
        name, sep, path = spec.partition('=')
        if not sep or not name or not path:
            sys.exit(f'--compare {spec!r}: expected NAME=CKPT')
        if name in dict(checkpoints):
            sys.exit(f'--compare {spec!r}: the name {name!r} is taken')
        checkpoints.append((name, path))
    for name, path in checkpoints:
        if not osp.isfile(path):
            sys.exit(f'{path}: checkpoint file not found (decision {name!r})')
    decisions = [(name, path, dict(args.cfg_options)) for name, path in checkpoints]
    if args.video_alone:
        decisions += [(f'{name} {VIDEO_ALONE}', path,
                       {**args.cfg_options, 'model.onset_views': ()})
                      for name, path in checkpoints]
    return decisions


def select_clips(spec: str, max_clips: int) -> list:
    """The clips of one ``ROOT:SPLIT[:ID,...]`` entry, as (root, split, clip) tuples."""
    from bleedorigin.datasets.bench import BenchIndex
    from bleedorigin.evaluation.clips import subsample

    parts = spec.split(':')
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        sys.exit(f'--clips {spec!r}: expected ROOT:SPLIT or ROOT:SPLIT:ID[,ID...]')
    root, split = parts[0], parts[1]
    if not osp.isfile(osp.join(root, 'splits.json')):
        sys.exit(f'--clips {spec!r}: {root} is not a bench root (splits.json missing)')
    clips = BenchIndex(root, split).clips
    if len(parts) == 2:
        return [(root, split, c) for c in (subsample(clips, max_clips) if max_clips else clips)]
    chosen = []
    for wanted in [w for w in parts[2].split(',') if w]:
        found = [c for c in clips if wanted in (c.clip_id, f'{c.patient_id}/{c.clip_id}')]
        if not found:
            sys.exit(f'--clips {spec!r}: no clip {wanted!r} in the {split} split of {root}')
        chosen += [(root, split, c) for c in found]
    return chosen


def summarise(trace: dict, gt_onset) -> dict:
    """One row of the table: the highest S_conf and its frame, the first alarm, eq. 2's
    and the reported onset (at the end of the clip) and the error of the reported one."""
    windows = [(c, t) for t, c in enumerate(trace['confidence']) if c is not None]
    max_conf, max_frame = max(windows, key=lambda w: w[0]) if windows else (None, None)
    onset = trace['onset'][-1] if trace['onset'] else None
    coarse = trace['coarse_onset'][-1] if trace['coarse_onset'] else None
    # eq. 1 after the true onset: of the bleeding frames I_{t-1} (t - 1 >= onset) whose
    # gate was decided, how many entered the clean-view memory
    gates = trace.get('clean_view') or []
    decided = [] if gt_onset is None else [g for g in gates[gt_onset + 1:] if g is not None]
    return dict(max_conf=max_conf, max_conf_frame=max_frame,
                first_alert=trace['first_alert'], coarse_onset=coarse, onset=onset,
                gt_onset=gt_onset,
                error=None if onset is None or gt_onset is None else onset - gt_onset,
                bleeding_into_memory=sum(decided) if decided else None,
                bleeding_gated=len(decided) if decided else None)


def is_wrong(row: dict, tol: int) -> bool:
    """A missed onset, one reported more than ``tol`` frames off, or a false alarm."""
    if row['gt_onset'] is None:
        return row['onset'] is not None
    return row['onset'] is None or abs(row['error']) > tol


def fmt(value, digits=None) -> str:
    if value is None:
        return '-'
    return f'{value:.{digits}f}' if digits is not None else str(value)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'{args.config}: config file not found')
    if args.max_clips < 0:
        sys.exit(f'--max-clips must be >= 0, got {args.max_clips}')
    if args.only_wrong is not None and args.only_wrong < 0:
        sys.exit(f'--only-wrong must be >= 0, got {args.only_wrong}')
    decisions = parse_decisions(args)
    clips = [item for spec in args.clips for item in select_clips(spec, args.max_clips)]
    import torch
    from tqdm import tqdm

    from bleedorigin.apis import StreamDetector, build_stream_model
    from bleedorigin.apis.onset_alarms import onset_trace
    from bleedorigin.evaluation.clips import iter_frames
    from bleedorigin.utils.io import write_json_atomic

    torch.set_num_threads(args.threads)
    os.makedirs(args.out_dir, exist_ok=True)
    path = osp.join(args.out_dir, 'onset_trace.json')
    result = dict(config=args.config, decisions=[], clips=[], traces={}, rows=[])
    result['clips'] = [dict(key=f'{root}:{split}:{c.patient_id}/{c.clip_id}',
                            onset=c.onset_frame, num_frames=c.num_frames)
                       for root, split, c in clips]
    start = time.time()
    conf_thr = None
    for name, ckpt, cfg_options in decisions:
        model = build_stream_model(args.config, ckpt, 'detector', cfg_options=cfg_options)
        conf_thr = model.conf_thr
        result['decisions'].append(dict(name=name, checkpoint=ckpt, cfg_options=cfg_options,
                                        onset_views=list(model.onset_views),
                                        conf_thr=model.conf_thr))
        detector = StreamDetector(model)
        for (_, _, clip), info in tqdm(list(zip(clips, result['clips'])), desc=name,
                                              unit='clip', disable=args.no_progress):
            frames = (f for _, f in iter_frames(clip, 0, clip.num_frames, args.chunk))
            trace = onset_trace(detector, frames)
            result['traces'][f"{name}|{info['key']}"] = trace
            result['rows'].append(dict(decision=name, clip=info['key'],
                                       **summarise(trace, clip.onset_frame)))
            write_json_atomic(path, result, indent=None)  # a long run keeps every trace
    result['seconds'] = time.time() - start
    shown = {c['key'] for c in result['clips']}
    if args.only_wrong is not None:
        shown = {r['clip'] for r in result['rows'] if is_wrong(r, args.only_wrong)}
    result['shown'] = [c['key'] for c in result['clips'] if c['key'] in shown]
    write_json_atomic(path, result, indent=None)
    lines = ['| decision | clip | true onset | max S_conf (frame) | first alarm | '
             'eq. 2 onset | reported onset | error | bleeding frames into memory |',
             '|---|---|---:|---:|---:|---:|---:|---:|---:|']
    for row in sorted((r for r in result['rows'] if r['clip'] in shown),
                      key=lambda r: result['shown'].index(r['clip'])):
        lines.append(f"| {row['decision']} | {row['clip']} | {fmt(row['gt_onset'])} | "
                     f"{fmt(row['max_conf'], 3)} ({fmt(row['max_conf_frame'])}) | "
                     f"{fmt(row['first_alert'])} | {fmt(row['coarse_onset'])} | "
                     f"{fmt(row['onset'])} | {fmt(row['error'])} | "
                     + (f"{row['bleeding_into_memory']} of {row['bleeding_gated']} |"
                        if row['bleeding_gated'] else '- |'))
    print('\n'.join(lines))
    if args.only_wrong is not None:
        print(f'{len(shown)} of {len(result["clips"])} clips with a miss, an onset more than '
              f'{args.only_wrong} frames off or a false alarm')
    if shown:
        plot(result, conf_thr, osp.join(args.out_dir, 'onset_trace.png'))
    print(f'written to {path} and onset_trace.png ({result["seconds"]:.0f} s)')
    return result


def stack_levels(onsets: list) -> list:
    """Height level of each decision's onset triangle: decisions that report the same
    frame stack up (0, 1, 2, ...) instead of hiding each other; None stays None."""
    seen: dict = {}
    levels = []
    for onset in onsets:
        if onset is None:
            levels.append(None)
            continue
        levels.append(seen.get(onset, 0))
        seen[onset] = levels[-1] + 1
    return levels


def plot(result: dict, conf_thr: float, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    shown = set(result.get('shown', [c['key'] for c in result['clips']]))
    clips = [c for c in result['clips'] if c['key'] in shown]
    legend_rows = (len(result['decisions']) + 2 + 2) // 3
    legend_height = 0.2 * legend_rows + 0.3  # inches under the panels
    fig, axes = plt.subplots(len(clips), 1, squeeze=False,
                             figsize=(8.0, 2.4 * len(clips) + legend_height))
    colors = plt.rcParams['axes.prop_cycle'].by_key()['color']
    # one colour per checkpoint; its video-alone decision dashed in the same colour
    checkpoints = list(dict.fromkeys(d['checkpoint'] for d in result['decisions']))
    for ax, info in zip(axes[:, 0], clips):
        onsets = [(result['traces'][f"{d['name']}|{info['key']}"]['onset'] or [None])[-1]
                  for d in result['decisions']]
        for decision, onset, level in zip(result['decisions'], onsets, stack_levels(onsets)):
            name = decision['name']
            trace = result['traces'][f"{name}|{info['key']}"]
            color = colors[checkpoints.index(decision['checkpoint']) % len(colors)]
            style = '--' if name.endswith(VIDEO_ALONE) else '-'
            frames = [t for t, c in enumerate(trace['confidence']) if c is not None]
            ax.plot(frames, [trace['confidence'][t] for t in frames], style, color=color,
                    lw=1.0, label=name)
            if onset is not None:
                ax.plot([onset], [1.04 + 0.07 * level], 'v', color=color, ms=6,
                        clip_on=False)
        ax.axhline(conf_thr, color='gray', lw=0.8, ls=':', label=f'eq. 2 threshold {conf_thr}')
        if info['onset'] is not None:
            ax.axvline(info['onset'], color='black', lw=0.8, label='true onset')
        ax.set_ylim(0.0, 1.0)
        ax.set_xlim(0, max(info['num_frames'] - 1, 1))
        ax.set_ylabel('S_conf')
        ax.set_title(f"{info['key']} (triangles: reported onset)", fontsize=8)
    axes[-1, 0].set_xlabel('frame (window ending there)')
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc='lower center', ncol=3)
    fig.tight_layout(rect=(0, legend_height / fig.get_figheight(), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == '__main__':
    main()
