"""torchvision backbones as the encoder F_p (stride 8), weights only from a local file."""
from typing import Optional, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from bleedorigin.registry import MODELS

_ARCHS = ('resnet18', 'mobilenet_v3_small')


@MODELS.register_module()
class TorchvisionEncoder(BaseModule):
    """ResNet-18 or MobileNetV3-small truncated at stride 8.

    Nothing is downloaded: the network is built with ``weights=None``; give
    ``init_cfg=dict(type='Pretrained', checkpoint=LOCAL_PATH)`` to load weights.
    Extra input channels (beyond RGB) get a first convolution of their own whose
    output is added to the RGB stem.

    Args:
        arch (str): ``'resnet18'`` or ``'mobilenet_v3_small'``.
        in_channels (int): Ci (3, or 6 with the reference difference).
        with_input (bool): Return the input first (see ``SmallCNNEncoder``).
        init_cfg (dict, optional): Initialisation config.

    Returns (forward):
        tuple: ([input (B, Ci, H, W),] F_p (B, C, H/8, W/8)).
    """

    def __init__(self, arch: str = 'resnet18', in_channels: int = 6, with_input: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        import torchvision
        if arch not in _ARCHS:
            raise ValueError(f'TorchvisionEncoder: arch must be one of {_ARCHS}, got {arch!r}')
        self.arch = arch
        self.in_channels = in_channels
        self.with_input = with_input
        if arch == 'resnet18':
            net = torchvision.models.resnet18(weights=None)
            self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
            self.body = nn.Sequential(net.layer1, net.layer2)
            self.out_channels = 128
            stem_out, stem_stride = 64, 2
        else:
            net = torchvision.models.mobilenet_v3_small(weights=None)
            self.stem = net.features[0]
            self.body = net.features[1:4]
            self.out_channels = 24
            stem_out, stem_stride = 16, 2
        self.extra_stem = None
        if in_channels > 3:
            self.extra_stem = nn.Conv2d(in_channels - 3, stem_out, 3, stem_stride, 1, bias=False)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'TorchvisionEncoder: expected (B, {self.in_channels}, H, W), got '
                             f'{tuple(x.shape)}')
        if self.arch == 'resnet18':
            feats = self.stem[0](x[:, :3])
            if self.extra_stem is not None:
                feats = feats + self.extra_stem(x[:, 3:])
            feats = self.stem[3](self.stem[2](self.stem[1](feats)))
        else:
            feats = self.stem[0](x[:, :3])
            if self.extra_stem is not None:
                feats = feats + self.extra_stem(x[:, 3:])
            feats = self.stem[2](self.stem[1](feats))
        feats = self.body(feats)
        return (x, feats) if self.with_input else (feats,)
