"""Mine the hard windows of a detector: where it is confident on video that never
bleeds, or (``--positives``) the onsets it misses, finds off the exact frame or is unsure of.

Streams every negative clip (``onset_frame`` null) of ``ROOT:SPLIT[,SPLIT]`` through the
detector (``StreamDetector``, the deployment path, no dismissals) and records every frame
whose newest window has ``S_conf > --threshold``: the end frames of the windows the
detector nearly or actually alarms on. ``BleedOnsetDataset(hard_windows=FILE)`` hands them
to ``SampleOnsetSegment(hard_fraction=...)``, which then places some training windows to
end exactly there (configs/bleedorigin/detect_hardneg.py, issue 11).

With ``--positives`` it streams every positive clip instead and records, per clip, the
onset eq. 2 reports at the clip's end (Table 3's prediction), its first alarm, the highest
``S_conf`` of the windows holding the true onset and whether the clip is *hard*: missed,
reported more than ``--max-error`` frames off, or never more confident than
``--min-confidence``. ``BleedOnsetDataset(hard_positives=FILE, hard_positive_repeats=K)``
then shows each hard clip K more times per epoch (configs/bleedorigin/detect_hardpos.py,
issue 11).

Nothing of the generator is read beyond the labelled onset: the frames come from the
detector's own confidence. The file is written after every clip (atomic), and a rerun
resumes.

Example:
    python tools/analysis_tools/mine_hard_windows.py configs/bleedorigin/detect.py \
        checkpoints/detect.pth data/negative_streams_train_long:train,val \
        --out work_dirs/hard_windows/train_long.json
    python tools/analysis_tools/mine_hard_windows.py configs/bleedorigin/detect.py \
        checkpoints/detect.pth data/synthetic:train --positives \
        --out work_dirs/hard_windows/synthetic_positives.json
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Hard negative windows of a detector')
    parser.add_argument('config', help='detector config')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('root', help='ROOT:SPLIT[,SPLIT] (negative clips of those splits)')
    parser.add_argument('--out', required=True, help='JSON file (resumed if it exists)')
    parser.add_argument('--threshold', type=float, default=0.3,
                        help='record frames whose newest window has S_conf above this')
    parser.add_argument('--positives', action='store_true',
                        help='mine the positive clips: missed, off or unsure onsets')
    parser.add_argument('--max-error', type=int, default=1,
                        help='(--positives) an onset reported further off is hard')
    parser.add_argument('--min-confidence', type=float, default=0.9,
                        help='(--positives) a clip whose onset windows never exceed this '
                             'S_conf is hard')
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at a time')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.onset_views="()" to mine with '
                             'eq. 2 on the video alone (how the shipped chain was mined)')
    return parser.parse_args(argv)


def parse_root(spec: str):
    """``ROOT:SPLIT[,SPLIT]`` -> (root, [splits])."""
    root, sep, splits = spec.rpartition(':')
    if not sep or not root or not splits:
        raise SystemExit(f'mine_hard_windows: root must be ROOT:SPLIT[,SPLIT], got {spec!r}')
    return root, [s for s in splits.split(',') if s]


def confident_frames(detector, frames, threshold: float):
    """Frames (stream indices) whose newest window is confident above ``threshold``."""
    detector.reset_stream()
    hits = []
    for index, frame in enumerate(frames):
        state = detector.stream_step(frame)
        if state.get('theta') is not None and float(state['confidence']) > threshold:
            hits.append(index)
    return hits


def onset_record(detector, frames, onset: int, max_error: int, min_confidence: float) -> dict:
    """Stream a positive clip: the onset eq. 2 reports at the end of the clip (Table 3's
    prediction; later windows may move it), the frame of its first alarm, the highest
    S_conf of the windows that hold the true ``onset`` and whether the clip is hard."""
    detector.reset_stream()
    window = int(detector.window_size)
    predicted, alarm, best = None, None, 0.0
    for index, frame in enumerate(frames):
        state = detector.stream_step(frame)
        predicted = state.get('onset_frame')
        if alarm is None and predicted is not None:
            alarm = index
        # the newest window ends at ``index`` and starts N - 1 frames earlier
        if state.get('theta') is not None and index - window < onset <= index:
            best = max(best, float(state['confidence']))
    predicted = None if predicted is None else int(predicted)
    hard = predicted is None or abs(predicted - onset) > max_error or best < min_confidence
    return dict(onset=int(onset), predicted=predicted, alarm=alarm,
                max_confidence=round(best, 4), hard=bool(hard))


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import torch
    from tqdm import tqdm

    from bleedorigin.apis import StreamDetector, build_stream_model
    from bleedorigin.datasets.bench import BenchIndex
    from bleedorigin.evaluation.clips import iter_frames
    from bleedorigin.utils.io import write_json_atomic

    if not osp.isfile(args.config):
        raise SystemExit(f'mine_hard_windows: {args.config}: config file not found')
    root, splits = parse_root(args.root)
    torch.set_num_threads(args.threads)
    wanted = 'positive' if args.positives else 'negative'
    clips = [c for s in splits for c in BenchIndex(root, s).clips
             if (c.onset_frame is not None) == args.positives]
    if not clips:
        raise SystemExit(f'mine_hard_windows: {args.root} holds no {wanted} clip')
    field = 'positives' if args.positives else 'clips'
    settings = (dict(max_error=args.max_error, min_confidence=args.min_confidence)
                if args.positives else dict(threshold=args.threshold))
    result = dict(config=args.config, checkpoint=args.checkpoint,
                  cfg_options={k: list(v) if isinstance(v, tuple) else v
                               for k, v in args.cfg_options.items()},
                  data_root=osp.realpath(root), splits=splits, **settings, **{field: {}})
    if osp.exists(args.out):
        with open(args.out) as f:
            old = json.load(f)
        if all(old.get(k, {} if k == 'cfg_options' else None) == result[k]
               for k in ('checkpoint', 'cfg_options', 'data_root', *settings)):
            result[field] = old.get(field, {})
    detector = StreamDetector(build_stream_model(args.config, args.checkpoint, 'detector',
                                                 cfg_options=args.cfg_options))
    todo = [c for c in clips if f'{c.patient_id}/{c.clip_id}' not in result[field]]
    for clip in tqdm(todo, desc='mining', unit='clip'):
        frames = (frame for _, frame in iter_frames(clip, 0, clip.num_frames, args.chunk))
        key = f'{clip.patient_id}/{clip.clip_id}'
        if args.positives:
            result[field][key] = onset_record(detector, frames, clip.onset_frame,
                                              args.max_error, args.min_confidence)
        else:
            result[field][key] = confident_frames(detector, frames, args.threshold)
        write_json_atomic(args.out, result, make_dirs=True)
    if args.positives:
        hard = sum(r['hard'] for r in result[field].values())
        print(f'{len(result[field])} positive clips, {hard} hard (missed, more than '
              f'{args.max_error} frames off or S_conf < {args.min_confidence}) -> {args.out}')
        return
    total = sum(len(v) for v in result['clips'].values())
    print(f'{len(result["clips"])} negative clips, {total} frames with S_conf > '
          f'{args.threshold} -> {args.out}')


if __name__ == '__main__':
    main()
