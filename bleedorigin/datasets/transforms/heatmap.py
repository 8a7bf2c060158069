"""Gaussian heatmap targets of the bleeding source through an mmpose codec."""
import numpy as np
from mmcv.transforms import BaseTransform

from bleedorigin.registry import TRANSFORMS, build_keypoint_codec


@TRANSFORMS.register_module()
class GenerateSourceHeatmap(BaseTransform):
    """Encode ``gt_point_input`` and ``pseudo_point_input`` with an mmpose heatmap codec.

    Adds ``gt_heatmap`` and ``pseudo_heatmap`` (1, H, W) float32 (pseudo is None when
    the sample has no pseudo-label).

    Args:
        encoder (dict): Codec config, e.g. ``dict(type='MSRAHeatmap', input_size=(224, 192),
            heatmap_size=(224, 192), sigma=3)``.
    """

    def __init__(self, encoder: dict) -> None:
        self.encoder_cfg = encoder
        self.encoder = build_keypoint_codec(encoder)

    def _encode(self, point) -> np.ndarray:
        keypoints = np.asarray(point, dtype=np.float32).reshape(1, 1, 2)
        encoded = self.encoder.encode(keypoints, np.ones((1, 1), dtype=np.float32))
        return encoded['heatmaps'].astype(np.float32)

    def transform(self, results: dict) -> dict:
        results['gt_heatmap'] = self._encode(results['gt_point_input'])
        pseudo = results.get('pseudo_point_input')
        results['pseudo_heatmap'] = None if pseudo is None else self._encode(pseudo)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(encoder={self.encoder_cfg})'
