"""Small CNN visual encoder of the tracker (stride-4 and stride-8 feature maps)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn

from bleedorigin.registry import MODELS


def _conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


@MODELS.register_module()
class TrackEncoder(nn.Module):
    """CPU-sized replacement of Track-On's ViT backbone.

    The paper's encoder weights cannot be downloaded here, so the tracker uses
    a light CNN trained from scratch on synthetic point tracks: a stride-4 map
    for offset refinement and a stride-8 map (with the stride-4 map pooled in)
    for patch classification and query decoding.

    Note:
        B: batch, C: ``embed_dims``, H, W: input height and width.

    Args:
        in_channels (int): Input channels. Defaults to 3.
        stem_channels (int): Channels of the stride-2 stem. Defaults to 16.
        mid_channels (int): Channels of the stride-4 stage. Defaults to 32.
        embed_dims (int): Channels of both output maps. Defaults to 64.
    """

    def __init__(self, in_channels: int = 3, stem_channels: int = 16, mid_channels: int = 32,
                 embed_dims: int = 64):
        super().__init__()
        self.stem = _conv_bn_relu(in_channels, stem_channels, stride=2)
        self.stage4 = nn.Sequential(
            _conv_bn_relu(stem_channels, mid_channels, stride=2),
            _conv_bn_relu(mid_channels, mid_channels))
        self.stage8 = nn.Sequential(_conv_bn_relu(mid_channels, 64, stride=2),
                                    _conv_bn_relu(64, 64))
        self.out4 = nn.Conv2d(mid_channels, embed_dims, 1)
        self.out8 = nn.Conv2d(64 + embed_dims, embed_dims, 1)
        self.embed_dims = embed_dims

    def forward(self, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Encode normalised images.

        Args:
            images (Tensor): (B, 3, H, W) float, normalised.

        Returns:
            tuple[Tensor, Tensor]: stride-4 map (B, C, H/4, W/4) and stride-8
            map (B, C, H/8, W/8).
        """
        x4 = self.stage4(self.stem(images))
        x8 = self.stage8(x4)
        feat4 = self.out4(x4)
        feat8 = self.out8(torch.cat([x8, F.avg_pool2d(feat4, 2, ceil_mode=True)], dim=1))
        return feat4, feat8
