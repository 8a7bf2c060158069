"""Multi-Domain Gated attention (MDG, paper 4.1.1 and Fig. 5C)."""
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from bleedorigin.registry import MODELS


def _conv(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    # no normalisation layer: these convs run on hundreds of small frame pairs per
    # step, where batch norm costs as much as the convolution on a CPU
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1),
                         nn.ReLU(inplace=True))


@MODELS.register_module()
class MDGNeck(BaseModule):
    """Fuses the RGB, HSV and optical-flow differences of a frame comparison.

    Each domain difference is embedded to ``F_RGB``, ``F_HSV``, ``F_Flow``
    (C x h/s x w/s each, s = ``stem_stride``); the 3C concatenation ``F_c`` is reweighted by channel
    attention (squeeze-and-excitation), passed through three parallel convolution
    branches of identical architecture, and the branch outputs are fused with
    gates predicted from ``F_c`` (softmax over branches).

    Usable as a neck in any mmengine model config (``type='bleedorigin.MDGNeck'``).

    Note:
        B: comparisons; h, w: input resolution.

    Args:
        in_channels (Sequence[int]): Channels of the RGB, HSV and flow inputs.
            Defaults to (3, 3, 2).
        channels (int): C, width of each domain embedding. Defaults to 16.
        out_channels (int): Width of the fused output. Defaults to 32.
        reduction (int): Channel-attention reduction ratio. Defaults to 4.
        stem_stride (int): Stride of the domain embeddings: 2 (3x3 conv) or more
            (non-overlapping ``stem_stride`` x ``stem_stride`` patches, cheaper at high
            resolution). The output has stride ``2 * stem_stride``.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, in_channels: Sequence[int] = (3, 3, 2), channels: int = 16,
                 out_channels: int = 32, reduction: int = 4, stem_stride: int = 2,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 3:
            raise ValueError(f'MDGNeck: in_channels needs 3 entries (RGB, HSV, flow), '
                             f'got {in_channels}')
        self.in_channels = tuple(in_channels)
        self.out_channels = out_channels
        self.stem_stride = stem_stride
        self.domain_embeds = nn.ModuleList(
            _conv(c, channels, 2) if stem_stride == 2 else nn.Sequential(
                nn.Conv2d(c, channels, stem_stride, stem_stride),
                nn.ReLU(inplace=True)) for c in in_channels)
        fused = 3 * channels
        self.channel_attention = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(fused, max(fused // reduction, 4), 1),
            nn.ReLU(inplace=True), nn.Conv2d(max(fused // reduction, 4), fused, 1), nn.Sigmoid())
        self.branches = nn.ModuleList(
            nn.Sequential(_conv(fused, out_channels, 2), _conv(out_channels, out_channels, 1))
            for _ in range(3))
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(fused, 3))

    def forward(self, inputs: Union[torch.Tensor, Tuple[torch.Tensor, ...]]
                ) -> Tuple[torch.Tensor]:
        """Fuse the three domain differences.

        Args:
            inputs (Tensor | tuple): Either (rgb_diff (B, 3, h, w), hsv_diff (B, 3, h, w),
                flow (B, 2, h, w)) or one (B, 8, h, w) tensor with those channels
                concatenated in that order.

        Returns:
            tuple[torch.Tensor]: One fused map (B, out_channels, h/(2s), w/(2s)) with
            s = ``stem_stride``.
        """
        if isinstance(inputs, torch.Tensor):
            if inputs.dim() != 4 or inputs.shape[1] != sum(self.in_channels):
                raise ValueError(f'MDGNeck: expected (B, {sum(self.in_channels)}, h, w), got '
                                 f'{tuple(inputs.shape)}')
            inputs = torch.split(inputs, list(self.in_channels), dim=1)
        if len(inputs) != 3:
            raise ValueError(f'MDGNeck: expected 3 domain inputs, got {len(inputs)}')
        domain_feats = [embed(x) for embed, x in zip(self.domain_embeds, inputs)]
        fused = torch.cat(domain_feats, dim=1)  # F_c: (B, 3C, h/2, w/2)
        fused = fused * self.channel_attention(fused)
        branch_out = torch.stack([branch(fused) for branch in self.branches], dim=1)
        gates = self.gate(fused).softmax(dim=1)  # (B, 3)
        return ((branch_out * gates[:, :, None, None, None]).sum(dim=1),)
