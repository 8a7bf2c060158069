"""Onset refiner: a fine-resolution second look at the frames around eq. 2's onset.

Eq. 2 (``OnsetHead``) decides on the onset branch's 64 x 48 grid and, measured on the
validation splits, lands 1-6 frames off on clips where the first drop is a few pixels wide
or an instrument leaves the view just before (docs/detect.md, issue 11 twelfth step). The
refiner sees the ``2R + 1`` candidate frames ``theta - R .. theta + R`` in a crop around the
bleeding source at the refiner's resolution (``bleedorigin.models.utils.onset_refine``) and
classifies which of them is the first bleeding frame, or "none" (the onset is not among
them: the coarse onset is kept).

Per candidate frame a small CNN encodes its RGB, its RGB change and its Red-Mask change;
two temporal convolutions compare neighbouring frames; a linear layer gives one logit per
candidate and one "none" logit from the temporally pooled features.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import nn

from bleedorigin.registry import MODELS


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1),
                         nn.GroupNorm(4, cout), nn.ReLU(inplace=True))


@MODELS.register_module()
class OnsetRefiner(BaseModel):
    """Which of ``2R + 1`` candidate frames starts the bleeding (or none).

    Note:
        B: windows; P = 2R + 1 candidates; S: crop size.

    Args:
        radius (int): R, candidates on each side of eq. 2's onset.
        crop (int): S, crop side in refiner pixels.
        in_channels (int): Channels of :func:`refine_input` (7).
        channels (Sequence[int]): Widths of the stride-2 convolution blocks.
        temporal_channels (int): Width of the temporal convolutions.
        dropout (float): Dropout before the classifier.
        test_flip (bool): :meth:`refine` averages the window and its mirror image.
        data_preprocessor (dict, optional): mmengine data preprocessor.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, radius: int = 8, crop: int = 96, in_channels: int = 7,
                 channels: Sequence[int] = (16, 32, 32, 64), temporal_channels: int = 64,
                 dropout: float = 0.1, test_flip: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if radius < 1 or crop < 8:
            raise ValueError(f'OnsetRefiner: need radius >= 1 and crop >= 8, got {radius}, '
                             f'{crop}')
        self.radius = int(radius)
        self.crop = int(crop)
        self.num_positions = 2 * self.radius + 1
        self.test_flip = bool(test_flip)
        blocks, cin = [], in_channels
        for cout in channels:
            blocks.append(_block(cin, cout))
            cin = cout
        self.encoder = nn.Sequential(*blocks)
        self.temporal = nn.Sequential(
            nn.Conv1d(2 * cin, temporal_channels, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv1d(temporal_channels, temporal_channels, 3, padding=1), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.position_fc = nn.Linear(temporal_channels, 1)
        self.none_fc = nn.Linear(temporal_channels, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(B, P, C, S, S) -> (B, P + 1) logits (the last one: "none")."""
        if x.dim() != 5 or x.shape[1] != self.num_positions:
            raise ValueError(f'OnsetRefiner: expected (B, {self.num_positions}, C, S, S) input, '
                             f'got {tuple(x.shape)}')
        b, p = x.shape[:2]
        feats = self.encoder(x.flatten(0, 1))
        feats = torch.cat([feats.amax(dim=(2, 3)), feats.mean(dim=(2, 3))], dim=1)
        hidden = self.temporal(feats.view(b, p, -1).transpose(1, 2)).transpose(1, 2)
        hidden = self.dropout(hidden)
        position = self.position_fc(hidden)[..., 0]
        none = self.none_fc(hidden.amax(dim=1))
        return torch.cat([position, none], dim=1)

    @staticmethod
    def _stack(inputs: Union[torch.Tensor, List[torch.Tensor]]) -> torch.Tensor:
        return inputs if isinstance(inputs, torch.Tensor) else torch.stack(list(inputs))

    def forward(self, inputs, data_samples: Optional[list] = None, mode: str = 'tensor'):
        x = self._stack(inputs)
        if mode == 'tensor':
            return self.logits(x)
        if mode == 'loss':
            target = torch.as_tensor([int(s.metainfo['target']) for s in data_samples],
                                     device=x.device)
            logits = self.logits(x)
            return dict(loss_refine=F.cross_entropy(logits, target),
                        acc_refine=(logits.argmax(1) == target).float().mean().detach())
        if mode == 'predict':
            probs = self.logits(x).softmax(dim=1)
            out = []
            for sample, prob in zip(data_samples, probs):
                res = BaseDataElement(metainfo=dict(sample.metainfo))
                res.pred_target = int(prob.argmax())
                res.pred_prob = float(prob.max())
                out.append(res)
            return out
        raise ValueError(f'OnsetRefiner: unknown mode {mode!r}')

    @torch.no_grad()
    def refine(self, x: torch.Tensor) -> Tuple[Optional[int], float]:
        """One window (P, C, S, S) -> (candidate position in 0 .. 2R or None, its prob).

        With ``test_flip`` the probabilities are the mean over the window and its mirror
        image (every input channel is per pixel, so flipping the input tensor is the
        input of the flipped crops)."""
        batch = torch.stack([x, x.flip(-1)]) if self.test_flip else x[None]
        prob = self.logits(batch).softmax(dim=1).mean(dim=0)
        best = int(prob.argmax())
        return (None if best == self.num_positions else best), float(prob[best])
