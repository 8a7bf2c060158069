"""Onset head (paper eq. 2, loss eq. 4): a temporal transformer over a window of frames."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from bleedorigin.constants import WINDOW_SIZE
from bleedorigin.registry import MODELS

from ..utils import SinusoidalPositionalEncoding


@MODELS.register_module()
class OnsetHead(BaseModule):
    """Predicts (theta, S_conf) for a window of N per-frame features.

    Positional encoding, ``num_layers`` transformer encoder layers with
    ``num_heads`` heads, then two fully connected layers applied to every token
    give two logits per frame: a localisation logit and a confidence logit.
    theta is the (soft-)argmax position of the localisation logits divided by N
    and S_conf is the sigmoid of the confidence logit read at that position
    (softmax-weighted). Reading theta from per-frame logits rather than one pooled
    regression keeps the prediction sharp at the exact frame (Acc±0).

    Note:
        B: windows; N: window size; D: feature size.

    Args:
        in_channels (int): D of the per-frame features.
        window_size (int): N. Defaults to ``WINDOW_SIZE`` (paper: 60).
        num_layers (int): Transformer encoder layers (paper: 4).
        num_heads (int): Attention heads (paper: 8).
        ffn_channels (int): Hidden size of the feed-forward networks.
        dropout (float): Dropout inside the transformer.
        loss_conf_weight (float): Weight of the BCE terms of eq. 4.
        loss_theta_weight (float): Weight of MSE(N * theta, N * theta_gt) of eq. 4
            (frames squared, hence a small default).
        loss_loc_weight (float): Weight of the cross-entropy of the localisation
            logits against the onset position (0 disables it).
        temporal_diff (bool): Project every token together with its difference to the
            previous frame's feature (``[f_i, f_i - f_{i-1}]``, zero for the first)
            before the transformer. The onset is a change between neighbouring frames;
            given explicitly, it does not have to be found by attention first.
        norm_first (bool): Pre-norm transformer layers (more stable at the CPU
            schedule's learning rate than the post-norm default).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, in_channels: int = 64, window_size: int = WINDOW_SIZE, num_layers: int = 4,
                 num_heads: int = 8, ffn_channels: int = 128, dropout: float = 0.1,
                 loss_conf_weight: float = 1.0, loss_theta_weight: float = 0.01,
                 loss_loc_weight: float = 1.0, temporal_diff: bool = False,
                 norm_first: bool = False, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.temporal_diff = temporal_diff
        self.input_proj = nn.Linear(2 * in_channels, in_channels) if temporal_diff else None
        self.window_size = window_size
        self.loss_conf_weight = loss_conf_weight
        self.loss_theta_weight = loss_theta_weight
        self.loss_loc_weight = loss_loc_weight
        self.pos_encoding = SinusoidalPositionalEncoding(in_channels, max_len=window_size)
        layer = nn.TransformerEncoderLayer(
            in_channels, num_heads, ffn_channels, dropout, batch_first=True,
            norm_first=norm_first)
        self.transformer = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, 2)

    def forward(self, window_feats: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-frame logits of a batch of windows.

        Args:
            window_feats (torch.Tensor): (B, N, D).

        Returns:
            tuple: localisation logits (B, N) and confidence logits (B, N).
        """
        if window_feats.shape[1] != self.window_size:
            raise ValueError(f'OnsetHead: window length {window_feats.shape[1]} != window_size '
                             f'{self.window_size}')
        if self.input_proj is not None:
            diff = window_feats - torch.cat([window_feats[:, :1], window_feats[:, :-1]], dim=1)
            window_feats = self.input_proj(torch.cat([window_feats, diff], dim=2))
        tokens = self.transformer(self.pos_encoding(window_feats))
        logits = self.fc2(F.relu(self.fc1(tokens)))
        return logits[..., 0], logits[..., 1]

    def decode(self, loc_logits: torch.Tensor, conf_logits: torch.Tensor,
               soft: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        """(theta, S_conf) of each window.

        Args:
            loc_logits (torch.Tensor): (B, N).
            conf_logits (torch.Tensor): (B, N).
            soft (bool): Soft-argmax (differentiable, training) instead of argmax.

        Returns:
            tuple: theta (B,) in [0, (N-1)/N] and S_conf (B,) in [0, 1].
        """
        weights = loc_logits.softmax(dim=1)
        conf = (weights * conf_logits).sum(dim=1).sigmoid()
        positions = torch.arange(self.window_size, dtype=loc_logits.dtype,
                                 device=loc_logits.device)
        if soft:
            theta = (weights * positions).sum(dim=1) / self.window_size
        else:
            theta = loc_logits.argmax(dim=1).to(loc_logits.dtype) / self.window_size
        return theta, conf

    def loss(self, window_feats: torch.Tensor, onset_positions: torch.Tensor
             ) -> Dict[str, torch.Tensor]:
        """Eq. 4 (+ the localisation cross-entropy).

        Args:
            window_feats (torch.Tensor): (B, N, D).
            onset_positions (torch.Tensor): (B,) long, onset index inside each window,
                -1 for windows that contain no onset.

        Returns:
            dict: ``loss_onset_conf``, ``loss_onset_theta``, ``loss_onset_loc``.
        """
        loc_logits, conf_logits = self(window_feats)
        theta, conf = self.decode(loc_logits, conf_logits, soft=True)
        positive = onset_positions >= 0
        conf = conf.clamp(1e-6, 1 - 1e-6)
        zero = window_feats.sum() * 0.0
        # eq. 4: mean BCE over the negative windows + BCE over the bleeding windows
        loss_conf = zero
        if (~positive).any():
            loss_conf = loss_conf + F.binary_cross_entropy(
                conf[~positive], torch.zeros_like(conf[~positive]))
        loss_theta, loss_loc = zero, zero
        if positive.any():
            target = onset_positions[positive]
            loss_conf = loss_conf + F.binary_cross_entropy(
                conf[positive], torch.ones_like(conf[positive]))
            loss_theta = F.mse_loss(theta[positive] * self.window_size, target.float())
            loss_loc = F.cross_entropy(loc_logits[positive], target)
        return dict(loss_onset_conf=self.loss_conf_weight * loss_conf,
                    loss_onset_theta=self.loss_theta_weight * loss_theta,
                    loss_onset_loc=self.loss_loc_weight * loss_loc)

    @torch.no_grad()
    def predict(self, window_feats: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(theta, S_conf) per window, hard argmax. (B, N, D) -> ((B,), (B,))."""
        return self.decode(*self(window_feats), soft=False)
