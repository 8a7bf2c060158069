"""Small CNN encoder F_p trained from scratch (the default; PE-Spatial is not available)."""
from typing import Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from bleedorigin.registry import MODELS


@MODELS.register_module()
class SmallCNNEncoder(BaseModule):
    """A plain conv-BN-ReLU encoder with stride-2 stages.

    Note:
        B: batch; Ci: input channels; H, W: input size.

    Args:
        in_channels (int): Ci (6 = RGB + difference to a reference frame).
        stage_channels (Sequence[int]): Width of each stride-2 stage; three stages
            give stride 8.
        blocks_per_stage (int): Conv layers per stage (the first one strides).
        with_input (bool): Return the input as the first element of the output tuple
            (``HeatmapPointHead`` needs it for the Red-Mask and Heat-Map module).
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple: ([input (B, Ci, H, W),] F_p (B, C_last, H/8, W/8)).
    """

    def __init__(self, in_channels: int = 6, stage_channels: Sequence[int] = (24, 48, 64),
                 blocks_per_stage: int = 2, with_input: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.with_input = with_input
        layers = []
        channels = in_channels
        for width in stage_channels:
            for block in range(blocks_per_stage):
                layers += [nn.Conv2d(channels, width, 3, 2 if block == 0 else 1, 1, bias=False),
                           nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
                channels = width
        self.layers = nn.Sequential(*layers)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'SmallCNNEncoder: expected (B, {self.in_channels}, H, W), got '
                             f'{tuple(x.shape)}')
        feats = self.layers(x)
        return (x, feats) if self.with_input else (feats,)
