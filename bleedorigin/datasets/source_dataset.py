"""Source dataset: the ground-truth onset frame of every positive clip (Algorithm 1,
evaluation mode), its pre-onset reference frame and an optical-flow pseudo-label frame."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from bleedorigin.registry import DATASETS
from bleedorigin.utils.io import atomic_output

from ..models.utils import align_to, propagate_point
from .bench import BenchIndex, ClipRecord
from .onset_dataset import build_pipeline, cache_name, default_cache_dir, median_train_onset


def build_source_cache(clip: ClipRecord, point: Tuple[float, float], size: Tuple[int, int],
                       reference_offset: int, pseudo_offset: int, path: str,
                       align_reference: bool = False) -> str:
    """Store the onset frame, reference frame and pseudo-label frame of one clip.

    The pseudo-label point is the ground-truth point carried by DIS optical flow
    from the onset frame g to g + ``pseudo_offset`` (paper 4.1.2, n = 10).

    With ``align_reference`` the reference is warped onto the onset frame
    (``reference``) and onto the pseudo-label frame (``reference_pseudo``) with a
    global similarity fitted to optical flow (:func:`align_to`), so the difference
    image shows what changed in the tissue rather than how the endoscope moved.

    Returns:
        str: Path of an .npz with ``current``, ``reference``, ``reference_pseudo``,
        ``pseudo`` (H, W, 3) uint8 at ``size`` and ``pseudo_point`` (2,) in original
        pixels (NaN without pseudo frame).
    """
    if osp.exists(path):
        return path
    onset = int(clip.onset_frame)
    last = min(onset + pseudo_offset, clip.num_frames - 1)
    reference = max(onset - reference_offset, 0)
    frames = clip.load_frames([reference] + list(range(onset, last + 1)))
    small = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    sx, sy = size[0] / clip.width, size[1] / clip.height
    pseudo_point = np.array([np.nan, np.nan])
    if last > onset:
        x, y = propagate_point(list(small[1:]), (point[0] * sx, point[1] * sy))
        pseudo_point = np.array([x / sx, y / sy])
    reference, reference_pseudo = small[0], small[0]
    if align_reference:
        reference = align_to(small[0], small[1])
        reference_pseudo = align_to(small[0], small[-1])
    with atomic_output(path, suffix='.npz') as tmp:
        np.savez(tmp, current=small[1], reference=reference, reference_pseudo=reference_pseudo,
                 pseudo=small[-1], pseudo_point=pseudo_point)
    return path


@DATASETS.register_module()
class BleedSourceDataset(BaseDataset):
    """Initial bleeding source samples, one per positive clip with a visible source.

    Args:
        data_root (str): Bench data root.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        input_size (tuple): (W, H) of the cached frames (the source-branch input).
        reference_offset (int): Frames between the reference frame and the onset.
        pseudo_offset (int): n of the optical-flow pseudo-label (paper: 10).
        align_reference (bool): Warp the reference frame onto the onset frame (camera
            motion compensation, see :func:`build_source_cache`).
        samples_per_clip (int): Training repeats per clip and epoch.
        cache_dir (str, optional): Defaults to ``default_cache_dir(data_root)``
            (``$BLEEDORIGIN_CACHE_DIR/detect`` or ``<data_root>/.cache/detect``).
        pipeline (list): Transforms.
        test_mode (bool): No repeats.
    """

    def __init__(self, data_root: str, split: str, input_size: Tuple[int, int] = (224, 192),
                 reference_offset: int = 15, pseudo_offset: int = 10,
                 align_reference: bool = False, samples_per_clip: int = 1,
                 cache_dir: Optional[str] = None,
                 pipeline: Sequence = (), test_mode: bool = False, **kwargs) -> None:
        self.split = split
        self.input_size = tuple(input_size)
        self.reference_offset = reference_offset
        self.pseudo_offset = pseudo_offset
        self.align_reference = align_reference
        self.samples_per_clip = samples_per_clip
        self.cache_dir = cache_dir or default_cache_dir(data_root)
        super().__init__(data_root=data_root, pipeline=build_pipeline(pipeline),
                         test_mode=test_mode,
                         serialize_data=False, **kwargs)

    def load_data_list(self) -> List[dict]:
        index = BenchIndex(self.data_root, self.split)
        self._metainfo['prior_onset_frame'] = median_train_onset(self.data_root)
        os.makedirs(self.cache_dir, exist_ok=True)
        # "_aligned2": references aligned with the seeded RANSAC of align_to (2026-11-30)
        tag = (f'source{self.input_size[0]}x{self.input_size[1]}_r{self.reference_offset}'
               f'_n{self.pseudo_offset}{"_aligned2" if self.align_reference else ""}')
        data_list, skipped = [], 0
        positives = [c for c in index.clips if c.onset_frame is not None]
        bar = ProgressBar(len(positives)) if positives else None
        for clip in positives:
            sources = clip.onset_sources()
            if bar is not None:
                bar.update()
            if not sources:
                skipped += 1  # no annotation or an invisible source at the onset frame
                continue
            # the heatmap target is the lowest group id; PointMetric scores the nearest
            point = (sources[0].x, sources[0].y)
            path = build_source_cache(
                clip, point, self.input_size, self.reference_offset, self.pseudo_offset,
                osp.join(self.cache_dir, cache_name(clip, tag, 'npz')), self.align_reference)
            info = dict(clip_id=f'{clip.patient_id}/{clip.clip_id}', cache_path=path,
                        gt_point=[float(point[0]), float(point[1])],
                        gt_sources=[[float(p.x), float(p.y)] for p in sources],
                        onset_frame=clip.onset_frame, ori_shape=(clip.height, clip.width))
            repeats = 1 if self.test_mode else self.samples_per_clip
            data_list += [dict(info) for _ in range(repeats)]
        if not data_list:
            raise ValueError(f'{self.data_root}: split {self.split!r} has no positive clip '
                             f'with a visible source at its onset frame')
        MMLogger.get_current_instance().info(
            f'BleedSourceDataset[{self.split}]: {len(data_list)} samples, {skipped} positive '
            f'clips without a visible source at the onset skipped')
        return data_list
