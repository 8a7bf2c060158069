"""Onset dataset: whole clips (evaluation) or sampled segments of sliding windows (training)."""
import hashlib
import json
import os
import os.path as osp
from multiprocessing import Pool
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from bleedorigin.registry import DATASETS, FUNCTIONS, TRANSFORMS
from bleedorigin.utils.io import atomic_output

from ..models.utils import ColourAnchor, anchor_turn, onset_frame_input, onset_input_channels
from .bench import BenchIndex, ClipRecord


def cache_name(clip: ClipRecord, tag: str, ext: str) -> str:
    """File name of a per-clip cache entry, unique per clip folder and content tag."""
    # clip.json's mtime: a regenerated clip never reuses a stale cache entry
    stamp = os.stat(osp.join(clip.clip_dir, 'clip.json')).st_mtime_ns
    key = f'{clip.clip_dir}|{clip.num_frames}|{stamp}|{tag}'
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return f'{clip.patient_id}_{clip.clip_id}_{tag}_{digest}.{ext}'


def _decode_small(clip: ClipRecord, indices: Sequence[int], size: Tuple[int, int],
                  red_pool: int = 4, chunk: int = 32, red_colour: bool = False,
                  hue_steps: int = 0) -> np.ndarray:
    """Onset inputs of frames of ``clip``: (len(indices), h, w, C) uint8.

    Every frame is decoded in full by ``ClipRecord.load_frames`` (as the streaming
    detector receives it), turned by ``hue_steps`` (the colour anchor's turn of the
    clip, :class:`ColourAnchor`; as the stream turns it) and goes through
    :func:`onset_frame_input`, the one preprocessing path of the onset branch.
    """
    channels = onset_input_channels(red_pool, red_colour)
    out = np.empty((len(indices), size[1], size[0], channels), dtype=np.uint8)
    for begin in range(0, len(indices), chunk):
        frames = clip.load_frames(indices[begin:begin + chunk])
        for slot, frame in enumerate(frames, begin):
            out[slot] = onset_frame_input(anchor_turn(frame, hue_steps), size, red_pool,
                                          red_colour)
    return out


def _resize_clip(args: Tuple[ClipRecord, Tuple[int, int], int, str, bool, int]) -> str:
    clip, size, red_pool, path, red_colour, hue_steps = args
    if osp.exists(path):
        return path
    out = _decode_small(clip, list(range(clip.num_frames)), size, red_pool,
                        red_colour=red_colour, hue_steps=hue_steps)
    with atomic_output(path, suffix='.npy') as tmp:
        np.save(tmp, out)
    return path


def clip_hue_steps(clip: ClipRecord, anchor: Optional[ColourAnchor]) -> int:
    """The colour anchor's turn of ``clip`` (OpenCV hue steps; 0 without an anchor):
    what :class:`ColourAnchor` decides on the clip's first frame, as a stream does."""
    return 0 if anchor is None else anchor.start(clip.load_frames([0])[0])


def build_lowres_cache(clips: Sequence[ClipRecord], size: Tuple[int, int], cache_dir: str,
                       num_workers: int = 2, red_pool: int = 4,
                       red_colour: bool = False,
                       hue_steps: Optional[Sequence[int]] = None) -> List[str]:
    """Decode every frame of every clip once and store its onset input (``size`` (w, h),
    :func:`onset_frame_input`) as .npy.

    Returns:
        list[str]: Cache file per clip, (T, h, w, C) uint8 each (C = 4: RGB + pooled
        Red-Mask; 7 with ``red_colour`` (+ the RGB at each cell's Red-Mask max); 3 with
        ``red_pool <= 1``). ``hue_steps`` (one per clip, :func:`clip_hue_steps`): the
        colour anchor's turn of each clip, applied before the preprocessing and written
        in the file name (a clip left alone shares the cache of no anchor).
    """
    os.makedirs(cache_dir, exist_ok=True)
    # "onsetin": full decode + onset_frame_input (older "lowres" caches decoded at a
    # reduced JPEG scale and are not reused); "c": with the red colour channels; "h+N":
    # turned by N hue steps (the colour anchor)
    tag = f'onsetin{size[0]}x{size[1]}p{max(int(red_pool), 1)}' + ('c' if red_colour else '')
    steps = [0] * len(clips) if hue_steps is None else [int(turn) for turn in hue_steps]
    if len(steps) != len(clips):
        raise ValueError(f'build_lowres_cache: {len(steps)} hue_steps for {len(clips)} clips')
    jobs = [(clip, tuple(size), int(red_pool),
             osp.join(cache_dir, cache_name(clip, tag + (f'h{turn:+d}' if turn else ''),
                                            'npy')),
             bool(red_colour), turn)
            for clip, turn in zip(clips, steps)]
    todo = [job for job in jobs if not osp.exists(job[3])]
    if todo:
        bar = ProgressBar(len(todo))
        if num_workers > 1:
            with Pool(num_workers) as pool:
                for _ in pool.imap_unordered(_resize_clip, todo):
                    bar.update()
        else:
            for job in todo:
                _resize_clip(job)
                bar.update()
        MMLogger.get_current_instance().info(
            f'low-res cache: {len(todo)} clips decoded to {size[0]}x{size[1]} in {cache_dir}')
    return [job[3] for job in jobs]


def default_cache_dir(data_root: str) -> str:
    """Cache folder of the detection datasets: ``$BLEEDORIGIN_CACHE_DIR/detect`` when the
    variable is set (a read-only or shared data root), else ``<data_root>/.cache/detect``.
    Entry names hold a digest of the clip folder, so data roots never collide."""
    root = os.environ.get('BLEEDORIGIN_CACHE_DIR')
    return osp.join(root, 'detect') if root else osp.join(data_root, '.cache', 'detect')


def build_pipeline(pipeline: Sequence) -> list:
    """Build transform configs in the ``bleedorigin`` scope (mmengine's ``Compose`` would
    search its root registry when no default scope is set, e.g. in scripts and tests)."""
    return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]


@FUNCTIONS.register_module()
def detect_collate(data_batch: Sequence[dict]) -> dict:
    """Collate onset and source samples into plain lists (``inputs``, ``data_samples``).

    mmengine's ``pseudo_collate`` transposes dict inputs key by key, which breaks
    when onset samples (dict inputs) and source samples (tensor inputs) share a batch.
    """
    return dict(inputs=[item['inputs'] for item in data_batch],
                data_samples=[item['data_samples'] for item in data_batch])


def _read_mined_file(path: str, data_root: str, field: str, kind: str, shape: str) -> dict:
    """The ``field`` mapping of a mined JSON file, checked to be mined on ``data_root``."""
    try:
        with open(path) as f:
            content = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f'{path}: cannot read the {kind} file ({err})') from err
    if not isinstance(content, dict) or not isinstance(content.get(field), dict):
        raise ValueError(f'{path}: field "{field}" must map "patient/clip" to {shape}')
    mined_on = content.get('data_root')
    if not isinstance(mined_on, str) or osp.realpath(mined_on) != osp.realpath(data_root):
        raise ValueError(f'{path}: field "data_root" is {mined_on!r}, not this dataset\'s '
                         f'root {osp.realpath(data_root)!r}')
    return content[field]


def load_hard_windows(path: str, data_root: str, clips: Sequence[ClipRecord]) -> dict:
    """Read a mined hard-window file (``tools/analysis_tools/mine_hard_windows.py``).

    Args:
        path (str): The JSON file: ``data_root`` (where it was mined) and ``clips``
            (``"patient/clip"`` -> end frames of the windows the detector was confident on).
        data_root (str): The dataset's root; the file must have been mined on it.
        clips (Sequence[ClipRecord]): The dataset's clips (frames are checked against them).

    Returns:
        dict: ``"patient/clip"`` -> sorted frame list, negative clips of ``clips`` only
        (hard windows are windows on video that never bleeds).

    Raises:
        ValueError: naming the file and the field that is wrong.
    """
    mined = _read_mined_file(path, data_root, 'clips', 'hard-window', 'frame lists')
    lengths = {f'{c.patient_id}/{c.clip_id}': c.num_frames for c in clips
               if c.onset_frame is None}
    hard = {}
    for key, frames in mined.items():
        if key not in lengths:
            continue  # a clip of another split, or a positive clip
        if not isinstance(frames, list) or not all(
                isinstance(t, int) and 0 <= t < lengths[key] for t in frames):
            raise ValueError(f'{path}: field "clips.{key}" must list frames in '
                             f'[0, {lengths[key]})')
        if frames:
            hard[key] = sorted(frames)
    return hard


def load_hard_positives(path: str, data_root: str, clips: Sequence[ClipRecord]) -> set:
    """Read the hard positive clips of a mined file (``mine_hard_windows.py --positives``).

    Args:
        path (str): The JSON file: ``data_root`` (where it was mined) and ``positives``
            (``"patient/clip"`` -> ``{"onset", "predicted", "max_confidence", "hard"}``).
        data_root (str): The dataset's root; the file must have been mined on it.
        clips (Sequence[ClipRecord]): The dataset's clips.

    Returns:
        set: ``"patient/clip"`` keys of the positive clips of ``clips`` marked hard whose
        recorded onset is the clip's (a clip relabelled since mining is not trusted).

    Raises:
        ValueError: naming the file and the field that is wrong.
    """
    mined = _read_mined_file(path, data_root, 'positives', 'hard-positive',
                             'records (mine_hard_windows.py --positives)')
    onsets = {f'{c.patient_id}/{c.clip_id}': c.onset_frame for c in clips
              if c.onset_frame is not None}
    hard = set()
    for key, record in mined.items():
        if key not in onsets:
            continue  # a clip of another split, or a negative clip
        if not isinstance(record, dict) or not isinstance(record.get('hard'), bool):
            raise ValueError(f'{path}: field "positives.{key}.hard" must be true or false')
        if record['hard'] and record.get('onset') == onsets[key]:
            hard.add(key)
    return hard


def median_onset(clips) -> Optional[int]:
    """The constant onset prior fitted on ``clips``: their median onset frame, rounded to
    the nearest frame (``None`` without a positive clip).

    The one fit of the prior: ``BleedOnsetDataset``'s ``prior_onset_frame`` (read by
    ``OnsetMetric``) and the benchmark's ``evaluation.priors`` both call it.
    """
    onsets = [c.onset_frame for c in clips if c.onset_frame is not None]
    return int(round(float(np.median(onsets)))) if onsets else None


def median_train_onset(data_root: str) -> Optional[int]:
    """:func:`median_onset` of the training split of ``data_root``."""
    return median_onset(BenchIndex(data_root, 'train').clips)


@DATASETS.register_module()
class BleedOnsetDataset(BaseDataset):
    """Clips of one split for onset detection, read through ``BenchIndex``.

    Every frame is decoded once and turned into the onset-branch input by
    :func:`bleedorigin.models.utils.onset_frame_input` (the function the streaming
    detector calls), stored in a cache so training never decodes JPEGs again. In test
    mode every clip is one sample (the model slides windows over the whole clip); in
    training mode each clip
    appears ``samples_per_clip`` times and the pipeline (``SampleOnsetSegment``)
    draws a segment of windows from it.

    ``metainfo['prior_onset_frame']`` is the median onset of the training split,
    used by ``OnsetMetric`` for its constant-prior row.

    Args:
        data_root (str): Bench data root.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        input_size (tuple): (w, h) of the cached frames.
        red_pool (int): Resolution factor of the pooled Red-Mask channel (see
            ``onset_frame_input``; must equal the detector's ``onset_red_pool``).
        red_colour (bool): Cache the RGB of each cell's Red-Mask maximum too (7
            channels), for ``SequenceColorJitter`` to recompute the Red-Mask channel of
            a colour-jittered sample; ``PackOnsetInputs`` drops them. Training sets only.
        colour_anchor (dict, optional): :class:`ColourAnchor` settings (``reference``,
            ``dead_zone``, ``max_turn``); must equal the detector's ``colour_anchor``.
        samples_per_clip (int): Training samples per clip and epoch.
        cache_dir (str, optional): Cache folder. Defaults to :func:`default_cache_dir`.
        cache_workers (int): Processes decoding the cache.
        pipeline (list): Transforms.
        test_mode (bool): One sample per clip.
        hard_windows (str, optional): A mined hard-window file of this root
            (:func:`load_hard_windows`); its frames reach the pipeline as ``hard_frames``
            (``SampleOnsetSegment(hard_fraction=...)`` ends windows there).
        hard_window_repeats (int): Extra training samples per epoch for each negative
            clip with mined frames in ``hard_windows`` (a mixed root holds few such clips
            among many: at ``samples_per_clip=1`` they would be drawn once an epoch).
    """

    def __init__(self, data_root: str, split: str, input_size: Tuple[int, int] = (112, 96),
                 samples_per_clip: int = 1, cache_dir: Optional[str] = None,
                 cache_workers: int = 2, pipeline: Sequence = (), test_mode: bool = False,
                 red_pool: int = 4, red_colour: bool = False,
                 colour_anchor: Optional[dict] = None,
                 hard_windows: Optional[str] = None,
                 hard_positives: Optional[str] = None, hard_positive_repeats: int = 0,
                 hard_window_repeats: int = 0, **kwargs) -> None:
        for name, value in (('hard_positive_repeats', hard_positive_repeats),
                            ('hard_window_repeats', hard_window_repeats)):
            if int(value) < 0:
                raise ValueError(f'BleedOnsetDataset: {name} must be >= 0, got {value}')
        self.hard_window_repeats = int(hard_window_repeats)
        self.split = split
        self.hard_windows = hard_windows
        self.hard_positives = hard_positives
        self.hard_positive_repeats = int(hard_positive_repeats)
        self.red_pool = int(red_pool)
        if red_colour and self.red_pool <= 1:
            raise ValueError(f'BleedOnsetDataset({data_root!r}): red_colour needs red_pool > 1, '
                             f'got red_pool={red_pool}')
        self.red_colour = bool(red_colour)
        ColourAnchor.build(colour_anchor)  # a bad setting fails here, naming the key
        self.colour_anchor = None if colour_anchor is None else dict(colour_anchor)
        self.input_size = tuple(input_size)
        self.samples_per_clip = samples_per_clip
        self.cache_dir = cache_dir or default_cache_dir(data_root)
        self.cache_workers = cache_workers
        super().__init__(data_root=data_root, pipeline=build_pipeline(pipeline),
                         test_mode=test_mode,
                         serialize_data=False, **kwargs)

    def load_data_list(self) -> List[dict]:
        index = BenchIndex(self.data_root, self.split)
        if not index.clips:
            raise ValueError(f'{self.data_root}: split {self.split!r} has no readable clips '
                             f'({len(index.broken)} broken)')
        self._metainfo['prior_onset_frame'] = median_train_onset(self.data_root)
        hard = {} if self.hard_windows is None else load_hard_windows(
            self.hard_windows, self.data_root, index.clips)
        hard_pos = set() if self.hard_positives is None else load_hard_positives(
            self.hard_positives, self.data_root, index.clips)
        # the anchor's turn of each clip, decided once: the cache and the refiner's reader
        # (metainfo ``hue_steps``) turn the clip by it
        anchor = ColourAnchor.build(self.colour_anchor)
        steps = [clip_hue_steps(clip, anchor) for clip in index.clips]
        paths = build_lowres_cache(index.clips, self.input_size, self.cache_dir,
                                   self.cache_workers, self.red_pool, self.red_colour, steps)
        data_list = []
        for clip, path, turn in zip(index.clips, paths, steps):
            clip_id = f'{clip.patient_id}/{clip.clip_id}'
            info = dict(clip_id=clip_id, cache_path=path,
                        num_frames=clip.num_frames, onset_frame=clip.onset_frame,
                        ori_shape=(clip.height, clip.width), hard_frames=hard.get(clip_id, []),
                        clip=clip, colour_anchor=self.colour_anchor, hue_steps=turn)
            repeats = 1 if self.test_mode else self.samples_per_clip + (
                self.hard_positive_repeats if clip_id in hard_pos else 0) + (
                self.hard_window_repeats if clip_id in hard else 0)
            data_list += [dict(info) for _ in range(repeats)]
        MMLogger.get_current_instance().info(
            f'BleedOnsetDataset[{self.split}]: {len(index.clips)} clips '
            f'({sum(c.onset_frame is not None for c in index.clips)} positive), '
            f'{len(index.broken)} broken skipped, {len(data_list)} samples'
            + (f', {sum(map(len, hard.values()))} hard frames on {len(hard)} clips'
               + (f' (+{self.hard_window_repeats} samples each)'
                  if self.hard_window_repeats else '')
               if self.hard_windows is not None else '')
            + (f', {len(hard_pos)} hard positive clips (+{self.hard_positive_repeats} samples each)'
               if self.hard_positives is not None else ''))
        return data_list
