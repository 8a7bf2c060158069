"""Data preprocessor of the detector: casts, moves and normalises mixed onset/source batches."""
from typing import List, Union

import torch
from mmengine.model import BaseDataPreprocessor

from bleedorigin.registry import MODELS


@MODELS.register_module()
class BleedDataPreprocessor(BaseDataPreprocessor):
    """Prepare a pseudo-collated batch that mixes onset clips and source frames.

    Onset inputs are dicts ``rgb`` (T, 3|4, h, w) uint8 (RGB [+ pooled Red-Mask]),
    ``hsv`` (T, 3, h, w) float in [0, 1] and ``flow`` (T, 2, h, w) float pixels; ``rgb``
    becomes float in [0, 1] and the original uint8 frames stay available as
    ``rgb_uint8`` (for DIS flow).
    Source inputs are (S, Ci, H, W) float tensors and pass unchanged (already in
    [0, 1] / [-1, 1]). Lists keep their order so ``inputs[i]`` matches
    ``data_samples[i]``.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs: List[Union[dict, torch.Tensor]] = []
        for item in data['inputs']:
            if isinstance(item, dict):
                rgb = item['rgb']
                if rgb.dtype != torch.uint8:
                    raise ValueError(f'BleedDataPreprocessor: onset rgb must be uint8, got '
                                     f'{rgb.dtype}')
                inputs.append(dict(rgb=rgb.float() / 255.0, rgb_uint8=rgb,
                                   hsv=item['hsv'].float(), flow=item['flow'].float()))
            else:
                inputs.append(item.float())
        return dict(inputs=inputs, data_samples=data.get('data_samples'))
