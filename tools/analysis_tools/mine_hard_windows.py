"""Mine the hard negative windows of a detector: where it is confident on video that
never bleeds.

Streams every negative clip (``onset_frame`` null) of ``ROOT:SPLIT[,SPLIT]`` through the
detector (``StreamDetector``, the deployment path, no dismissals) and records every frame
whose newest window has ``S_conf > --threshold``: the end frames of the windows the
detector nearly or actually alarms on. ``BleedOnsetDataset(hard_windows=FILE)`` hands them
to ``SampleOnsetSegment(hard_fraction=...)``, which then places some training windows to
end exactly there (configs/bleedorigin/detect_hardneg.py, issue 11).

Nothing of the generator is read: the frames come from the detector's own confidence.
The file is written after every clip (atomic), and a rerun resumes.

Example:
    python tools/analysis_tools/mine_hard_windows.py configs/bleedorigin/detect.py \
        checkpoints/detect.pth data/negative_streams_train_long:train,val \
        --out work_dirs/hard_windows/train_long.json
"""
import argparse
import json
import os.path as osp
import sys


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Hard negative windows of a detector')
    parser.add_argument('config', help='detector config')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('root', help='ROOT:SPLIT[,SPLIT] (negative clips of those splits)')
    parser.add_argument('--out', required=True, help='JSON file (resumed if it exists)')
    parser.add_argument('--threshold', type=float, default=0.3,
                        help='record frames whose newest window has S_conf above this')
    parser.add_argument('--chunk', type=int, default=32, help='frames decoded at a time')
    parser.add_argument('--threads', type=int, default=1)
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


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import torch
    from tqdm import tqdm

    from bleedorigin.apis import StreamDetector, build_stream_model
    from bleedorigin.datasets.bench import BenchIndex
    from bleedorigin.evaluation.clips import iter_frames
    from bleedorigin.utils.io import write_json_atomic

    root, splits = parse_root(args.root)
    torch.set_num_threads(args.threads)
    clips = [c for s in splits for c in BenchIndex(root, s).clips if c.onset_frame is None]
    if not clips:
        raise SystemExit(f'mine_hard_windows: {args.root} holds no negative clip')
    result = dict(config=args.config, checkpoint=args.checkpoint,
                  data_root=osp.realpath(root), splits=splits, threshold=args.threshold,
                  clips={})
    if osp.exists(args.out):
        with open(args.out) as f:
            old = json.load(f)
        if (old.get('checkpoint'), old.get('threshold'), old.get('data_root')) == (
                args.checkpoint, args.threshold, result['data_root']):
            result['clips'] = old.get('clips', {})
    detector = StreamDetector(build_stream_model(args.config, args.checkpoint, 'detector'))
    todo = [c for c in clips if f'{c.patient_id}/{c.clip_id}' not in result['clips']]
    for clip in tqdm(todo, desc='mining', unit='clip'):
        frames = (frame for _, frame in iter_frames(clip, 0, clip.num_frames, args.chunk))
        result['clips'][f'{clip.patient_id}/{clip.clip_id}'] = confident_frames(
            detector, frames, args.threshold)
        write_json_atomic(args.out, result, make_dirs=True)
    total = sum(len(v) for v in result['clips'].values())
    print(f'{len(result["clips"])} negative clips, {total} frames with S_conf > '
          f'{args.threshold} -> {args.out}')


if __name__ == '__main__':
    main()
