"""Same detector checkpoint, two paths: does the streaming path give the dataset path's onsets?

Streams every frame of every clip of ``--split`` through
``bleedorigin.evaluation.bench_scoring.run_detector`` (``ClipRecord.load_frames`` +
``StreamDetector.step``, the path of the benchmark, ``BleedOriginNet`` and the demo)
and compares the onset per clip with a ``tools/test.py --dump`` of the same checkpoint
(``BleedOnsetDataset`` + ``predict``). Prints the clips that differ and Table 3's onset
figures from both.

Example:
    python tools/test.py configs/bleedorigin/detect.py CKPT --dump work_dirs/d/test.pkl
    python tools/analysis_tools/onset_path_consistency.py configs/bleedorigin/detect.py \
        CKPT work_dirs/d/test.pkl --out work_dirs/d/paths.json
"""
import argparse
import json
import os
import pickle


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Streaming vs dataset onsets per clip')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('dump', help='tools/test.py --dump of the same checkpoint')
    parser.add_argument('--data-root', default='data/synthetic')
    parser.add_argument('--split', default='test')
    parser.add_argument('--chunk', type=int, default=32)
    parser.add_argument('--out', help='write the comparison to this JSON file')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import torch

    from bleedorigin.apis import build_stream_detector
    from bleedorigin.constants import ONSET_TOLERANCES
    from bleedorigin.datasets.bench import BenchIndex
    from bleedorigin.evaluation.bench_scoring import run_detector
    from bleedorigin.evaluation.functional import onset_accuracy

    torch.set_num_threads(1)
    clips = BenchIndex(args.data_root, args.split).clips
    detector = build_stream_detector(args.config, args.checkpoint)
    stream, _ = run_detector(detector, clips, args.chunk)
    with open(args.dump, 'rb') as f:
        offline = {r['clip_id']: r['pred_onset'] for r in pickle.load(f) if 'pred_onset' in r}
    ids = [f'{c.patient_id}/{c.clip_id}' for c in clips]
    missing = [i for i in ids if i not in offline]
    if missing:
        raise KeyError(f'{args.dump}: no prediction for {len(missing)} clips, e.g. {missing[:3]}')
    gts, lengths = [c.onset_frame for c in clips], [c.num_frames for c in clips]
    result = dict(
        clips=len(clips), same_onset=sum(offline[i] == s for i, s in zip(ids, stream)),
        diffs=[(i, offline[i], s) for i, s in zip(ids, stream) if offline[i] != s],
        stream=onset_accuracy(stream, gts, lengths, ONSET_TOLERANCES),
        offline=onset_accuracy([offline[i] for i in ids], gts, lengths, ONSET_TOLERANCES))
    print(json.dumps(result, indent=1))
    if args.out:
        with open(f'{args.out}.tmp', 'w') as f:
            json.dump(result, f, indent=1)
        os.replace(f'{args.out}.tmp', args.out)
    return result


if __name__ == '__main__':
    main()
