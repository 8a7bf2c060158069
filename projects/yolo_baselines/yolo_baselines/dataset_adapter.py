"""BleedOrigin-Bench -> ultralytics detection dataset, written once and cached.

The paper trains YOLO on bleeding frames with a box around the annotated
bleeding source. A source is a point, so each point becomes a square box of
side ``box_size`` pixels (default: ``box_fraction`` of the shorter frame side,
the scale of a bleeding source in a frame). Frames are sampled as the paper
did: the initial bleeding frame and every later annotated frame of each
positive clip are positives; labelled-invisible frames, clean frames before the
onset and frames of negative clips are negatives (empty label files).

The dataset is cached under ``cache_root/<key>/``; the key hashes the data
root, the splits, the sampling parameters and a fingerprint of every clip, so
a changed data root or parameter builds a new dataset and an unchanged one is
reused. It is written into a temporary folder and renamed when complete.

Layout (ultralytics)::

    <key>/data.yaml
    <key>/images/{train,val}/<patient>__<clip>__<frame>.jpg
    <key>/labels/{train,val}/<patient>__<clip>__<frame>.txt   # "0 cx cy w h", normalised
    <key>/manifest.json
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import tempfile
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from bleedorigin.datasets.bench import BenchIndex, ClipRecord, SourcePoint

CLASS_NAMES = ('bleeding_source', )
DEFAULT_BOX_FRACTION = 0.08


@dataclass
class AdapterParams:
    """Sampling and labelling parameters of the adapter (part of the cache key).

    Args:
        box_size (float, optional): Side of the square box around a source, in
            original-frame pixels. Default: ``box_fraction * min(width, height)``.
        box_fraction (float): Box side relative to the shorter frame side, used
            when ``box_size`` is None. Default: 0.08.
        negatives_per_clip (int): Clean frames sampled per clip (before the
            onset, or anywhere in a negative clip). Default: 2.
        max_clips (int, optional): Use at most this many clips per split (an
            evenly spaced subsample, for CPU budgets). Default: all.
        seed (int): Seed of the negative-frame sampling. Default: 0.
        jpeg_quality (int): Quality of the written frames. Default: 95.
    """
    box_size: Optional[float] = None
    box_fraction: float = DEFAULT_BOX_FRACTION
    negatives_per_clip: int = 2
    max_clips: Optional[int] = None
    seed: int = 0
    jpeg_quality: int = 95

    def box_side(self, width: int, height: int) -> float:
        if self.box_size is not None:
            if self.box_size <= 0:
                raise ValueError(f'box_size must be > 0, got {self.box_size}')
            return float(self.box_size)
        if not 0 < self.box_fraction <= 1:
            raise ValueError(f'box_fraction must be in (0, 1], got {self.box_fraction}')
        return self.box_fraction * min(width, height)


def point_to_box(x: float, y: float, side: float, width: int,
                 height: int) -> Tuple[float, float, float, float]:
    """Square box centred on a point, clipped to the image, in YOLO format.

    Returns:
        tuple: ``(cx, cy, w, h)`` normalised to [0, 1] by the image size.
    """
    x0, x1 = max(0.0, x - side / 2), min(float(width), x + side / 2)
    y0, y1 = max(0.0, y - side / 2), min(float(height), y + side / 2)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f'point ({x}, {y}) lies outside the {width}x{height} image')
    return ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width,
            (y1 - y0) / height)


def sample_frames(clip: ClipRecord, negatives_per_clip: int,
                  rng: np.random.Generator) -> List[Tuple[int, List[SourcePoint]]]:
    """Frames of one clip used for YOLO training, with their visible sources.

    Returns:
        list[tuple[int, list[SourcePoint]]]: Frame index and sources (empty for
        a negative frame), sorted by frame index.
    """
    chosen: Dict[int, List[SourcePoint]] = {}
    onset = clip.onset_frame
    for frame, sources in clip.annotations.items():
        if onset is not None and frame >= onset:
            chosen[frame] = list(sources)  # [] = labelled invisible: a negative frame
    clean_end = onset if onset is not None else clip.num_frames
    candidates = [f for f in range(clean_end) if f not in chosen]
    if candidates and negatives_per_clip > 0:
        count = min(negatives_per_clip, len(candidates))
        for frame in rng.choice(candidates, size=count, replace=False):
            chosen[int(frame)] = []
    return sorted(chosen.items())


def subsample_clips(clips: Sequence[ClipRecord], max_clips: Optional[int]) -> List[ClipRecord]:
    """An evenly spaced subsample of at most ``max_clips`` clips (all if None)."""
    clips = list(clips)
    if max_clips is None or len(clips) <= max_clips:
        return clips
    if max_clips <= 0:
        raise ValueError(f'max_clips must be > 0, got {max_clips}')
    picks = np.linspace(0, len(clips) - 1, max_clips).round().astype(int)
    return [clips[i] for i in sorted(set(picks.tolist()))]


def _clip_fingerprint(clip: ClipRecord) -> list:
    clip_json = osp.join(clip.clip_dir, 'clip.json')
    stat = os.stat(clip_json)
    annotations = [(f, [(s.group_id, s.x, s.y) for s in pts])
                   for f, pts in sorted(clip.annotations.items())]
    return [clip.rel_dir, stat.st_size, int(stat.st_mtime), clip.num_frames, clip.onset_frame,
            annotations]


def dataset_key(data_root: str, splits: Dict[str, str], params: AdapterParams,
                indexes: Dict[str, BenchIndex]) -> str:
    """Cache key of a converted dataset (hex digest, 16 characters)."""
    payload = {
        'data_root': osp.realpath(data_root), 'splits': splits, 'params': asdict(params),
        'clips': {name: [_clip_fingerprint(c) for c in index.clips]
               for name, index in sorted(indexes.items())}}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _write_split(clips: Sequence[ClipRecord], out_dir: str, name: str, params: AdapterParams,
                 rng: np.random.Generator) -> Dict[str, int]:
    import cv2
    from tqdm import tqdm

    image_dir = osp.join(out_dir, 'images', name)
    label_dir = osp.join(out_dir, 'labels', name)
    os.makedirs(image_dir)
    os.makedirs(label_dir)
    counts = {'clips': len(clips), 'images': 0, 'positives': 0, 'boxes': 0}
    for clip in tqdm(clips, desc=f'yolo dataset [{name}]', unit='clip'):
        frames = sample_frames(clip, params.negatives_per_clip, rng)
        if not frames:
            continue
        pixels = clip.load_frames([f for f, _ in frames])  # (T, H, W, 3) RGB
        side = params.box_side(clip.width, clip.height)
        for (frame, sources), rgb in zip(frames, pixels):
            stem = f'{clip.patient_id}__{clip.clip_id}__{frame:06d}'
            ok = cv2.imwrite(osp.join(image_dir, stem + '.jpg'),
                             cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                             [cv2.IMWRITE_JPEG_QUALITY, int(params.jpeg_quality)])
            if not ok:
                raise OSError(f'{image_dir}/{stem}.jpg: could not be written')
            lines = []
            for source in sources:
                box = point_to_box(source.x, source.y, side, clip.width, clip.height)
                lines.append('0 ' + ' '.join(f'{v:.6f}' for v in box))
            with open(osp.join(label_dir, stem + '.txt'), 'w') as f:
                f.write('\n'.join(lines) + ('\n' if lines else ''))
            counts['images'] += 1
            counts['positives'] += bool(lines)
            counts['boxes'] += len(lines)
    return counts


def build_yolo_dataset(data_root: str, cache_root: str, params: Optional[AdapterParams] = None,
                       train_split: str = 'train', val_split: str = 'val') -> str:
    """Convert a bench data root into a cached ultralytics dataset.

    Args:
        data_root (str): BleedOrigin-Bench data root.
        cache_root (str): Folder holding converted datasets, one per key.
        params (AdapterParams, optional): Sampling/labelling parameters.
        train_split (str): Bench split used as YOLO ``train``. Default: 'train'.
        val_split (str): Bench split used as YOLO ``val``. Default: 'val'.

    Returns:
        str: Path of the dataset's ``data.yaml``.
    """
    params = params or AdapterParams()
    splits = {'train': train_split, 'val': val_split}
    indexes = {name: BenchIndex(data_root, split=split) for name, split in splits.items()}
    for name, index in indexes.items():
        if not index.clips:
            raise ValueError(f'{data_root}: split {splits[name]!r} has no valid clips '
                             f'({len(index.broken)} broken)')
    key = dataset_key(data_root, splits, params, indexes)
    final_dir = osp.join(osp.abspath(cache_root), key)
    yaml_path = osp.join(final_dir, 'data.yaml')
    if osp.isfile(osp.join(final_dir, 'manifest.json')):
        print(f'yolo dataset: reusing {final_dir}')
        return yaml_path
    os.makedirs(cache_root, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=f'.{key}.', dir=cache_root)
    try:
        rng = np.random.default_rng(params.seed)
        counts = {name: _write_split(subsample_clips(index.clips, params.max_clips), tmp_dir,
                                     name, params, rng)
                  for name, index in indexes.items()}
        with open(osp.join(tmp_dir, 'data.yaml'), 'w') as f:
            f.write(f'path: {final_dir}\ntrain: images/train\nval: images/val\n'
                    f'names:\n  0: {CLASS_NAMES[0]}\n')
        manifest = {'data_root': osp.realpath(data_root), 'splits': splits,
                    'params': asdict(params), 'counts': counts, 'key': key}
        with open(osp.join(tmp_dir, 'manifest.json'), 'w') as f:
            json.dump(manifest, f, indent=2)
        try:
            os.rename(tmp_dir, final_dir)
        except OSError:
            if not osp.isfile(osp.join(final_dir, 'manifest.json')):
                raise
            shutil.rmtree(tmp_dir)  # another process finished the same dataset first
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    summary = ', '.join(f"{n}: {c['images']} images ({c['positives']} with a source)"
                        for n, c in counts.items())
    print(f'yolo dataset written to {final_dir} ({summary})')
    return yaml_path
