"""Red-Mask (paper 4.1.2): a fixed, parameter-free map of saturated red intensity.

Blood is dark-to-bright *saturated* red, while mucosa is pink (red with a lot of
green and blue). The map is the R intensity weighted by how much R exceeds the
strongest other channel:

    red = R * clip((R - max(G, B)) / (R + eps), 0, 1)        R, G, B in [0, 1]
"""
from typing import Tuple

import numpy as np
import torch
from torch import nn

from bleedorigin.registry import MODELS

_EPS = 1e-6


def red_mask(rgb):
    """Compute the Red-Mask of an RGB image.

    Args:
        rgb (np.ndarray | torch.Tensor): Either a numpy image (..., H, W, 3) uint8 in
            [0, 255] or float in [0, 1], or a tensor (B, 3, H, W) float in [0, 1].

    Returns:
        np.ndarray | torch.Tensor: numpy (..., H, W) float32 in [0, 1], or tensor
        (B, 1, H, W) in [0, 1].
    """
    if isinstance(rgb, torch.Tensor):
        if rgb.dim() != 4 or rgb.shape[1] != 3:
            raise ValueError(f'red_mask: expected a (B, 3, H, W) tensor, got {tuple(rgb.shape)}')
        r, g, b = rgb[:, 0:1], rgb[:, 1:2], rgb[:, 2:3]
        excess = (r - torch.maximum(g, b)) / (r + _EPS)
        return r * excess.clamp(0.0, 1.0)
    rgb = np.asarray(rgb)
    if rgb.shape[-1] != 3:
        raise ValueError(f'red_mask: expected an (..., H, W, 3) image, got {rgb.shape}')
    img = rgb.astype(np.float32)
    if rgb.dtype == np.uint8:
        img /= 255.0
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    excess = np.clip((r - np.maximum(g, b)) / (r + _EPS), 0.0, 1.0)
    return (r * excess).astype(np.float32)


@MODELS.register_module()
class RedMask(nn.Module):
    """Module form of :func:`red_mask` (no parameters, never trained).

    Args (forward):
        rgb (torch.Tensor): (B, 3, H, W) RGB in [0, 1].

    Returns:
        torch.Tensor: (B, 1, H, W) red map in [0, 1].
    """

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        return red_mask(rgb)


def red_difference_argmax(image: torch.Tensor) -> Tuple[float, float]:
    """Classical source baseline: where the Red-Mask grew most since the reference.

    Args:
        image (torch.Tensor): (6, H, W) source input ``[I_t, I_t - I_ref]`` in [0, 1].

    Returns:
        tuple: (x, y) in input pixels of the largest ``Red(I_t) - Red(I_ref)``.
    """
    if image.dim() != 3 or image.shape[0] != 6:
        raise ValueError(f'red_difference_argmax: expected a (6, H, W) tensor, got '
                         f'{tuple(image.shape)}')
    current = image[:3].clamp(0, 1)[None]
    reference = (image[:3] - image[3:6]).clamp(0, 1)[None]
    growth = (red_mask(current) - red_mask(reference))[0, 0]
    flat = int(growth.flatten().argmax())
    width = growth.shape[-1]
    return float(flat % width), float(flat // width)
