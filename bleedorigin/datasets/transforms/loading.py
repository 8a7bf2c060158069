"""Loading of clip frames through the bench reader."""
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from bleedorigin.registry import TRANSFORMS

from ..bench import ClipRecord


@TRANSFORMS.register_module()
class LoadClipFrames(BaseTransform):
    """Decode frames of one clip (``frames/`` images or a video file).

    Required keys:

    - clip (ClipRecord): The clip, as indexed by
      :class:`bleedorigin.datasets.bench.BenchIndex`.
    - frame_indices (Sequence[int], optional): Frames to load, in order
      (repeats allowed). Default: the whole clip.

    Added keys:

    - imgs (np.ndarray): (T, H, W, 3) uint8 RGB frames.
    - frame_indices (np.ndarray): (T,) int64.
    - ori_shape (tuple[int, int]): (H, W) of the original frames.
    - img_shape (tuple[int, int]): (H, W) of ``imgs``.
    - scale_factor (tuple[float, float]): (1.0, 1.0); resized by
      :class:`ResizeClip`.
    - homography_matrix (np.ndarray): (3, 3) identity; geometric transforms
      compose into it the map from original to current pixel coordinates,
      so points stay recoverable in original-frame pixels.

    Args:
        frame_indices_key (str): Key of the indices. Default: 'frame_indices'.
        to_float32 (bool): Convert ``imgs`` to float32 (values 0-255).
            Default: False.
    """

    def __init__(self, frame_indices_key: str = 'frame_indices', to_float32: bool = False):
        self.frame_indices_key = frame_indices_key
        self.to_float32 = to_float32

    def transform(self, results: dict) -> dict:
        clip: Optional[ClipRecord] = results.get('clip')
        if not isinstance(clip, ClipRecord):
            raise KeyError(f'LoadClipFrames: results["clip"] must be a ClipRecord, got '
                           f'{type(clip).__name__}')
        indices = results.get(self.frame_indices_key)
        if indices is None:
            indices = np.arange(clip.num_frames)
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        imgs = clip.load_frames(indices.tolist())  # (T, H, W, 3) uint8 RGB
        if self.to_float32:
            imgs = imgs.astype(np.float32)
        results['imgs'] = imgs
        results[self.frame_indices_key] = indices
        results['ori_shape'] = (clip.height, clip.width)
        results['img_shape'] = imgs.shape[1:3]
        results.setdefault('scale_factor', (1.0, 1.0))
        results.setdefault('homography_matrix', np.eye(3, dtype=np.float64))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(frame_indices_key={self.frame_indices_key!r}, '
                f'to_float32={self.to_float32})')
