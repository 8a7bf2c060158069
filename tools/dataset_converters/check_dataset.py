"""Validate a BleedOrigin-Bench data tree and summarise it.

Usage::

    python tools/dataset_converters/check_dataset.py DATA_ROOT [--json] [--strict] [--split S]
        [--decode]

Reads the tree with the project's one bench reader
(:class:`bleedorigin.datasets.bench.BenchIndex`), so it accepts any tree that
follows DATA_FORMAT.md (frames/ jpg or png, video.mp4 clips, null group_id,
extra clip.json keys), and prints clips and frames per split, positive and
negative clips, sites, scenarios, annotated frames and every broken clip with
its reason. Indexing lists frames without decoding them; ``--decode`` also
decodes every frame and reports clips with corrupt image or video data.

``--json`` prints one JSON object instead::

    {"data_root": str, "clips": int, "frames": int, "splits": {"train": int, ...},
     "patients": {"train": int, ...}, "per_split": {...}, "positives": int,
     "negatives": int, "sites": {...}, "scenarios": {...}, "annotated_frames": int,
     "visible_annotations": int, "invisible_annotations": int, "dense_gt_clips": int,
     "storage": {"frames": int, "video": int}, "patients_without_clips": [str],
     "broken": [{"clip": str, "reason": str}]}

``splits`` counts clips per split. ``pseudo_labels`` reports the tracking
pseudo labels (``clips/<P>/<C>/pseudo_labels/*.json``, written by
``tools/gen_pseudo_labels.py``) of the valid clips: ``{"clips": int, "files":
int, "valid": int, "invalid": [{"file": str, "reason": str}],
"temporary_files": int}``; every file is validated as the training and the
generator read it.

Exit status: 0 when every clip and every pseudo-label file is valid and every
patient of splits.json has clips, 1 when some clip is broken (or, with
``--strict``, at the first broken clip), some pseudo-label file is invalid or
a listed patient has no clip, 2 when the tree as a whole is unusable (e.g.
splits.json missing or a patient in two splits).
"""
import argparse
import json
import os
import os.path as osp
import re
import sys
import warnings
from collections import Counter
from typing import List, Optional

from tqdm import tqdm

from bleedorigin.datasets.bench import BenchFormatError, BenchIndex, BrokenClip

STANDARD_SPLITS = ('train', 'val', 'test')
PSEUDO_NAME = re.compile(r'^(\d{6})\.json$')


def check_pseudo_labels(index: BenchIndex) -> dict:
    """Validate every pseudo-label file of the valid clips.

    Args:
        index (BenchIndex): The indexed tree.

    Returns:
        dict: ``clips`` (with a ``pseudo_labels`` folder), ``files`` (JSON
        files in them), ``valid``, ``invalid`` (``[{"file", "reason"}]``) and
        ``temporary_files`` (leftovers of an interrupted atomic write, never
        read; safe to delete).
    """
    from bleedorigin.datasets.pseudo_label_io import PSEUDO_DIR, check_pseudo_label_file

    report = {'clips': 0, 'files': 0, 'valid': 0, 'invalid': [], 'temporary_files': 0}
    for clip in index.clips:
        folder = osp.join(clip.clip_dir, PSEUDO_DIR)
        if not osp.isdir(folder) or osp.islink(folder):
            if osp.islink(folder):
                report['invalid'].append({'file': f'{clip.rel_dir}/{PSEUDO_DIR}',
                                          'reason': f'{clip.rel_dir}/{PSEUDO_DIR}: is a '
                                          'symlink (never followed)'})
            continue
        report['clips'] += 1
        for name in sorted(os.listdir(folder)):
            rel = f'{clip.rel_dir}/{PSEUDO_DIR}/{name}'
            if name.startswith('.tmp-'):
                report['temporary_files'] += 1
                continue
            if not name.endswith('.json'):
                continue
            report['files'] += 1
            match = PSEUDO_NAME.match(name)
            if match is None:
                problem = f'{rel}: file name is not a 6-digit start frame'
            else:
                problem = check_pseudo_label_file(clip, int(match.group(1)))
            if problem:
                report['invalid'].append({'file': rel, 'reason': problem})
            else:
                report['valid'] += 1
    return report


def summarize(index: BenchIndex) -> dict:
    """Count clips, frames, labels and broken clips of an indexed tree.

    Args:
        index (BenchIndex): The indexed data root.

    Returns:
        dict: The summary described in the module docstring.
    """
    split_names = list(STANDARD_SPLITS) + [s for s in index.splits if s not in STANDARD_SPLITS]
    per_split = {
        s: {'clips': 0, 'frames': 0, 'positives': 0, 'negatives': 0, 'annotated_frames': 0,
            'patients': len(index.splits.get(s, []))}
        for s in split_names
    }
    sites, scenarios, storage = Counter(), Counter(), Counter()
    visible = invisible = dense = 0
    # a patient whose clips are all broken is reported through ``broken``, not here
    with_clips = {c.patient_id for c in index.clips} | {b.clip.split('/')[1] for b in index.broken
                                                        if b.clip.count('/') >= 1}
    for clip in index.clips:
        stats = per_split[clip.split]
        stats['clips'] += 1
        stats['frames'] += clip.num_frames
        stats['positives' if clip.is_positive else 'negatives'] += 1
        stats['annotated_frames'] += len(clip.annotations)
        sites[clip.site or 'unknown'] += 1
        scenarios.update(clip.scenarios)
        storage['frames' if clip.video == 'frames' else 'video'] += 1
        dense += int(clip.has_dense_gt)
        for sources in clip.annotations.values():
            if sources:
                visible += 1
            else:
                invisible += 1
    return {
        'data_root': index.data_root,
        'clips': len(index.clips),
        'frames': sum(s['frames'] for s in per_split.values()),
        'splits': {s: per_split[s]['clips'] for s in split_names},
        'patients': {s: per_split[s]['patients'] for s in split_names},
        'per_split': per_split,
        'positives': sum(s['positives'] for s in per_split.values()),
        'negatives': sum(s['negatives'] for s in per_split.values()),
        'sites': dict(sorted(sites.items())),
        'scenarios': dict(sorted(scenarios.items())),
        'annotated_frames': visible + invisible,
        'visible_annotations': visible,
        'invisible_annotations': invisible,
        'dense_gt_clips': dense,
        'storage': {'frames': storage['frames'], 'video': storage['video']},
        # with --split, only that split's patients were indexed
        'patients_without_clips': sorted(
            p for s in split_names if index.split in (None, s)
            for p in index.splits.get(s, []) if p not in with_clips),
        'broken': [{'clip': b.clip, 'reason': b.reason} for b in index.broken],
    }


def decode_check(index: BenchIndex, chunk: int = 64) -> int:
    """Decode every frame of every clip; move clips with unreadable frames to ``broken``.

    Indexing only lists frames (cheap); this catches corrupt image or video
    data too. Progress goes to stderr so that ``--json`` output stays one object.

    Args:
        index (BenchIndex): The indexed tree (modified in place).
        chunk (int): Frames decoded per call, bounding memory. Default: 64.

    Returns:
        int: Number of decoded frames.
    """
    decoded = 0
    kept = []
    bar = tqdm(total=sum(c.num_frames for c in index.clips), desc='decoding frames',
               unit='frame', file=sys.stderr)
    for clip in index.clips:
        done = 0
        try:
            for first in range(0, clip.num_frames, chunk):
                count = len(clip.load_frames(range(first, min(first + chunk, clip.num_frames))))
                done += count
                bar.update(count)
        except BenchFormatError as error:
            if index.strict:
                raise
            index.broken.append(BrokenClip(clip.rel_dir, str(error)))
            bar.update(clip.num_frames - done)
            continue
        finally:
            decoded += done
        kept.append(clip)
    bar.close()
    index.clips = kept
    return decoded


def format_summary(summary: dict) -> str:
    """Human-readable text of :func:`summarize`'s result."""
    lines = [f'BleedOrigin-Bench tree: {summary["data_root"]}',
             f'{"split":<8}{"patients":>9}{"clips":>7}{"frames":>9}{"pos":>6}{"neg":>6}'
             f'{"annotated":>11}']
    for name, stats in summary['per_split'].items():
        lines.append(f'{name:<8}{stats["patients"]:>9}{stats["clips"]:>7}{stats["frames"]:>9}'
                     f'{stats["positives"]:>6}{stats["negatives"]:>6}'
                     f'{stats["annotated_frames"]:>11}')
    lines.append(f'{"total":<8}{sum(summary["patients"].values()):>9}{summary["clips"]:>7}'
                 f'{summary["frames"]:>9}{summary["positives"]:>6}{summary["negatives"]:>6}'
                 f'{summary["annotated_frames"]:>11}')
    lines.append(f'annotated frames: {summary["annotated_frames"]} '
                 f'({summary["visible_annotations"]} with a visible source, '
                 f'{summary["invisible_annotations"]} labelled invisible); '
                 f'dense ground truth in {summary["dense_gt_clips"]} clips; '
                 f'storage: {summary["storage"]["frames"]} frame folders, '
                 f'{summary["storage"]["video"]} videos')
    lines.append('sites: ' + (', '.join(f'{k} {v}' for k, v in summary['sites'].items())
                              or 'none'))
    lines.append('scenarios: ' + (', '.join(f'{k} {v}' for k, v in summary['scenarios'].items())
                                  or 'none'))
    if summary['patients_without_clips']:
        lines.append('patients in splits.json without clips: '
                     + ', '.join(summary['patients_without_clips']))
    pseudo = summary.get('pseudo_labels')
    if pseudo and (pseudo['files'] or pseudo['invalid']):
        lines.append(f'pseudo labels: {pseudo["files"]} files in {pseudo["clips"]} clips, '
                     f'{len(pseudo["invalid"])} invalid'
                     + (f', {pseudo["temporary_files"]} temporary files of interrupted '
                        'writes (never read; safe to delete)' if pseudo['temporary_files']
                        else ''))
        lines.extend(f'  {p["reason"]}' for p in pseudo['invalid'])
    if summary['broken']:
        lines.append(f'broken clips ({len(summary["broken"])}):')
        lines.extend(f'  {b["clip"]}: {b["reason"]}' for b in summary['broken'])
    lines.append(f'{summary["clips"]} valid clips, {len(summary["broken"])} broken')
    return '\n'.join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Validate and summarise a BleedOrigin-Bench tree')
    parser.add_argument('data_root', help='folder with splits.json and clips/')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    parser.add_argument('--strict', action='store_true',
                        help='stop at the first broken clip (exit 1)')
    parser.add_argument('--split', help='check only this split')
    parser.add_argument('--decode', action='store_true',
                        help='also decode every frame (slow; finds corrupt images/videos)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # broken clips are listed in the report instead
            index = BenchIndex(args.data_root, split=args.split, strict=args.strict)
        if args.decode:
            decode_check(index)
    except BenchFormatError as error:
        # Whole-tree problems (splits.json) exit 2; in strict mode a clip error exits 1.
        tree_level = error.path in ('splits.json', 'clips') or not str(error.path).startswith(
            'clips/')
        code = 2 if tree_level else 1
        if args.json:
            print(json.dumps({'data_root': args.data_root, 'clips': 0, 'error': str(error),
                              'broken': [{'clip': str(error.path), 'reason': str(error)}],
                              'splits': {s: 0 for s in STANDARD_SPLITS},
                              'annotated_frames': 0}))
        else:
            print(f'error: {error}', file=sys.stderr)
        return code
    summary = summarize(index)
    summary['pseudo_labels'] = check_pseudo_labels(index)
    print(json.dumps(summary, indent=None) if args.json else format_summary(summary))
    problems = (summary['broken'] or summary['patients_without_clips']
                or summary['pseudo_labels']['invalid'])
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
