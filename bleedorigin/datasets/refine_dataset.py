"""Training and validation windows of the onset refiner (``OnsetRefiner``).

A sample is what the refiner sees at inference: the ``2R + 2`` frames around a coarse
onset ``theta = g + o`` (``g`` the labelled onset, ``o`` the coarse error), cropped around
the bleeding source. The labels read are the onset frame and the source point of the
onset frame (``ClipRecord.onset_sources``), nothing of the generator. The coarse error
``o`` is drawn in ``[-R, R]`` (target: candidate ``R - o``) or, with ``none_prob``, just
outside it (target: "none"); the crop centre is the labelled source moved by up to
``jitter`` pixels (the source branch's error on a frame R frames after the onset, see
docs/detect.md), and the window is flipped and colour-scaled as a whole.

Frames pass through :func:`~bleedorigin.models.utils.onset_refine.refine_frame` (the
function the detector calls) once and are cached as a square region around the source.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement
from mmengine.utils import ProgressBar

from bleedorigin.registry import DATASETS
from bleedorigin.utils.io import atomic_output

from ..models.utils.onset_refine import refine_crops, refine_frame, refine_input, to_refine_coords
from .bench import BenchIndex, ClipRecord
from .onset_dataset import cache_name, default_cache_dir

#: Largest coarse error (beyond R) of a "none" sample.
NONE_MARGIN = 4


@DATASETS.register_module()
class OnsetRefineDataset(BaseDataset):
    """Positive clips of one split as refiner windows.

    Args:
        data_root (str): Bench data root.
        split (str): Split name.
        input_size (tuple): (w, h) of :func:`refine_frame` (the model's
            ``onset_refine_size``).
        radius (int): R of the refiner.
        crop (int): Crop side S (refiner pixels).
        jitter (float): Largest shift of the crop centre from the labelled source
            (refiner pixels, training only).
        none_prob (float): Share of training windows whose onset lies outside the
            candidates (target "none").
        samples_per_clip (int): Training windows per clip and epoch.
        test_offsets (Sequence[int], optional): Coarse errors of the test-mode windows
            (one window each, centred on the labelled source). Defaults to -R, -R/2, -2,
            -1, 0, 1, 2, R/2, R.
        colour (float): Largest per-channel gain change (training only).
        scale (tuple): Range of the crop's zoom: the crop covers ``s * crop`` refiner
            pixels, resized to ``crop`` (training only; (1, 1): no zoom).
        degrade_prob (float): Share of training windows down- and upsampled by a factor
            drawn from ``degrade_factor`` (a coarser or smaller video).
        noise_prob (float): Share of training windows with Gaussian noise of a standard
            deviation drawn up to ``noise_std``.
        cache_dir (str, optional): Cache folder (default: the detection datasets').
    """

    def __init__(self, data_root: str, split: str, input_size: Tuple[int, int] = (384, 320),
                 radius: int = 8, crop: int = 96, jitter: float = 24.0, none_prob: float = 0.1,
                 samples_per_clip: int = 8, test_offsets: Optional[Sequence[int]] = None,
                 colour: float = 0.15, scale: Tuple[float, float] = (1.0, 1.0),
                 degrade_prob: float = 0.0, degrade_factor: Tuple[float, float] = (1.5, 4.0),
                 noise_prob: float = 0.0, noise_std: float = 6.0,
                 cache_dir: Optional[str] = None, test_mode: bool = False, **kwargs) -> None:
        if test_offsets is None:
            test_offsets = sorted({o for o in (-radius, -(radius // 2), -2, -1, 0, 1, 2,
                                               radius // 2, radius) if abs(o) <= radius})
        if any(abs(int(o)) > radius for o in test_offsets):
            raise ValueError(f'OnsetRefineDataset: test_offsets {list(test_offsets)} must lie '
                             f'in [-{radius}, {radius}]')
        self.split = split
        self.input_size = tuple(int(v) for v in input_size)
        self.radius = int(radius)
        self.crop = int(crop)
        self.jitter = float(jitter)
        self.none_prob = float(none_prob)
        self.samples_per_clip = int(samples_per_clip)
        self.test_offsets = [int(o) for o in test_offsets]
        self.colour = float(colour)
        self.scale = (float(scale[0]), float(scale[1]))
        if not 0 < self.scale[0] <= self.scale[1]:
            raise ValueError(f'OnsetRefineDataset: scale must be 0 < low <= high, got {scale}')
        self.degrade_prob = float(degrade_prob)
        self.degrade_factor = (float(degrade_factor[0]), float(degrade_factor[1]))
        self.noise_prob = float(noise_prob)
        self.noise_std = float(noise_std)
        self.cache_dir = cache_dir or default_cache_dir(data_root)
        self._cache = {}
        super().__init__(data_root=data_root, test_mode=test_mode, serialize_data=False,
                         **kwargs)

    # ------------------------------------------------------------------ caching
    @property
    def span(self) -> int:
        """Frames cached on each side of the onset."""
        return 2 * self.radius + NONE_MARGIN + 1

    @property
    def region(self) -> int:
        """Side of the cached square (the crop plus the jitter on both sides)."""
        return int(np.ceil(self.crop * self.scale[1])) + 2 * int(np.ceil(self.jitter))

    def _cache_clip(self, clip: ClipRecord, center: Tuple[float, float], path: str) -> None:
        onset = int(clip.onset_frame)
        indices = [min(max(t, 0), clip.num_frames - 1)
                   for t in range(onset - self.span, onset + self.span + 1)]
        frames = [refine_frame(f, self.input_size) for f in clip.load_frames(indices)]
        region = refine_crops(frames, center, self.region)
        with atomic_output(path, suffix='.npy') as tmp:
            np.save(tmp, region)

    def load_data_list(self) -> List[dict]:
        index = BenchIndex(self.data_root, self.split)
        clips = [c for c in index.clips if c.onset_frame is not None and c.onset_sources()]
        if not clips:
            raise ValueError(f'{self.data_root}: split {self.split!r} has no positive clip with '
                             f'a labelled source ({len(index.broken)} broken)')
        tag = (f'refine{self.input_size[0]}x{self.input_size[1]}s{self.span}'
               f'r{self.region}')
        os.makedirs(self.cache_dir, exist_ok=True)
        bar = ProgressBar(len(clips))
        data_list = []
        for clip in clips:
            source = clip.onset_sources()[0]
            center = to_refine_coords((source.x, source.y), (clip.width, clip.height),
                                      self.input_size)
            path = osp.join(self.cache_dir, cache_name(clip, tag, 'npy'))
            if not osp.exists(path):
                self._cache_clip(clip, center, path)
            bar.update()
            info = dict(clip_id=f'{clip.patient_id}/{clip.clip_id}', cache_path=path,
                        onset_frame=int(clip.onset_frame))
            if self.test_mode:
                data_list += [dict(info, offset=o) for o in self.test_offsets]
            else:
                data_list += [dict(info) for _ in range(self.samples_per_clip)]
        MMLogger.get_current_instance().info(
            f'OnsetRefineDataset[{self.split}]: {len(clips)} positive clips, '
            f'{len(index.broken)} broken skipped, {len(data_list)} samples')
        return data_list

    def _region(self, path: str) -> np.ndarray:
        if path not in self._cache:
            self._cache[path] = np.load(path)
        return self._cache[path]

    # ------------------------------------------------------------------ samples
    def _augmented_crops(self, window: list, center: np.ndarray, rng) -> np.ndarray:
        """Training crops of one window: zoom, a coarser video, noise, flips and colour
        gains, each the same for every frame."""
        side = self.crop
        if self.scale != (1.0, 1.0):
            # another zoom: the crop covers scale x its area of tissue
            side = max(int(round(self.crop * rng.uniform(*self.scale))), 8)
        crops = refine_crops(window, center, side)
        if side != self.crop:
            crops = np.stack([cv2.resize(c, (self.crop, self.crop), interpolation=cv2.INTER_AREA
                                         if side > self.crop else cv2.INTER_LINEAR)
                              for c in crops])
        if rng.rand() < self.degrade_prob:
            # a coarser camera or video: down- and upsampled
            small = max(int(round(self.crop / rng.uniform(*self.degrade_factor))), 4)
            crops = np.stack([cv2.resize(cv2.resize(c, (small, small),
                                                    interpolation=cv2.INTER_AREA),
                                         (self.crop, self.crop),
                                         interpolation=cv2.INTER_LINEAR) for c in crops])
        if rng.rand() < self.noise_prob:
            noise = rng.normal(0, rng.uniform(0, self.noise_std), size=crops.shape)
            crops = np.clip(crops + noise, 0, 255).astype(np.uint8)
        if rng.rand() < 0.5:
            crops = crops[:, :, ::-1]
        if rng.rand() < 0.5:
            crops = crops[:, ::-1]
        gain = 1 + rng.uniform(-self.colour, self.colour, size=3)
        return np.clip(crops.astype(np.float32) * gain, 0, 255).astype(np.uint8)

    def prepare_data(self, idx: int) -> dict:
        info = self.get_data_info(idx)
        region = self._region(info['cache_path'])
        radius, rng = self.radius, np.random
        if self.test_mode:
            offset, shift = info['offset'], np.zeros(2)
        else:
            if rng.rand() < self.none_prob:
                offset = int(rng.choice([-1, 1]) * rng.randint(radius + 1,
                                                               radius + NONE_MARGIN + 1))
            else:
                offset = int(rng.randint(-radius, radius + 1))
            angle, dist = rng.uniform(0, 2 * np.pi), self.jitter * np.sqrt(rng.rand())
            shift = np.array([np.cos(angle), np.sin(angle)]) * dist
        # region frame k holds frame onset - span + k; the window of theta = onset + offset
        frames = np.arange(offset - radius - 1, offset + radius + 1) + self.span
        window = list(region[np.clip(frames, 0, len(region) - 1)])
        center = np.array([self.region / 2, self.region / 2]) + shift
        crops = (refine_crops(window, center, self.crop) if self.test_mode
                 else self._augmented_crops(window, center, rng))
        target = radius - offset if abs(offset) <= radius else 2 * radius + 1
        sample = BaseDataElement(metainfo=dict(clip_id=info['clip_id'], offset=offset,
                                               radius=radius, target=int(target)))
        return dict(inputs=refine_input(crops), data_samples=sample)
