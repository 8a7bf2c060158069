"""Heatmap point head for the initial bleeding source (paper eq. 3, loss eq. 5)."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from mmpose.models.heads.base_head import BaseHead
from torch import nn

from bleedorigin.constants import (
    SOURCE_LOSS_HEATMAP_WEIGHT,
    SOURCE_LOSS_POINT_WEIGHT,
    SOURCE_LOSS_PSEUDO_WEIGHT,
)
from bleedorigin.registry import MODELS, build_keypoint_codec

from ..utils import RedMask


class NeighbourhoodAttention(nn.Module):
    """Local transformer-style attention: each pixel attends to its k x k neighbours.

    Args:
        query_channels (int): Channels of the query map (heat-map features).
        key_channels (int): Channels of the key map (red-mask features).
        value_channels (int): Channels of the value map (encoder features).
        embed_dims (int): Attention width d.
        kernel_size (int): Neighbourhood size k (odd).

    Args (forward):
        query (B, Cq, h, w), key (B, Ck, h, w), value (B, Cv, h, w).

    Returns:
        torch.Tensor: (B, 1, h, w) attention heatmap logits of this scale.
    """

    def __init__(self, query_channels: int, key_channels: int, value_channels: int,
                 embed_dims: int = 16, kernel_size: int = 3) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f'kernel_size must be odd, got {kernel_size}')
        self.kernel_size = kernel_size
        self.embed_dims = embed_dims
        self.q_proj = nn.Conv2d(query_channels, embed_dims, 1)
        self.k_proj = nn.Conv2d(key_channels, embed_dims, 1)
        self.v_proj = nn.Conv2d(value_channels, embed_dims, 1)
        # the query is concatenated to the attended values so that full-resolution
        # detail survives the (coarse) encoder values
        self.out_proj = nn.Sequential(
            nn.Conv2d(2 * embed_dims, embed_dims, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(embed_dims, 1, 1))

    def forward(self, query, key, value):
        batch, _, height, width = query.shape
        k2 = self.kernel_size ** 2
        pad = self.kernel_size // 2
        q = self.q_proj(query)  # (B, d, h, w)
        k = F.unfold(self.k_proj(key), self.kernel_size, padding=pad)  # (B, d*k2, h*w)
        v = F.unfold(self.v_proj(value), self.kernel_size, padding=pad)
        k = k.view(batch, self.embed_dims, k2, height, width)
        v = v.view(batch, self.embed_dims, k2, height, width)
        attn = (q.unsqueeze(2) * k).sum(1) / self.embed_dims ** 0.5  # (B, k2, h, w)
        attn = attn.softmax(dim=1)
        attended = (attn.unsqueeze(1) * v).sum(2)  # (B, d, h, w)
        return self.out_proj(torch.cat([attended, q], dim=1))


@MODELS.register_module()
class HeatmapPointHead(BaseHead):
    """Red-Mask + Heat-Map module + multi-scale attention -> bleeding-source heatmap.

    Follows mmpose's ``BaseHead`` contract, so it can be the head of an mmpose
    ``TopdownPoseEstimator``. ``feats`` is the tuple returned by the encoder
    built with ``with_input=True``: ``feats[0]`` is the network input image and
    ``feats[-1]`` the encoder features F_p at stride 8.

    The image carries RGB in [0, 1] in its first three channels; an optional
    second RGB triple holds ``I_t - I_ref`` (the change since an earlier,
    pre-onset reference frame). The fixed Red-Mask of I_t (and of I_ref) gives
    F_r, the Heat-Map module (two 3x3 convs and an upsampling conv) gives F_h at
    the input resolution; at scales {H, H/2, H/4, H/8} F_h is the query, F_r the
    key and F_p the value of a local attention; the four attention heatmaps are
    upsampled to H x W and summed (eq. 3). Decoding (argmax) is done by the
    mmpose codec given as ``decoder``.

    Note:
        B: batch; Ci: input channels (3 or 6); C: encoder channels; H, W: input size.

    Args:
        in_channels (int): C of F_p.
        image_channels (int): Ci. Defaults to 6.
        heatmap_channels (int): Width of the Heat-Map module. Defaults to 16.
        embed_dims (int): Attention width. Defaults to 16.
        num_scales (int): Scales H / 2^s, s < num_scales (paper: 4).
        kernel_size (int): Attention neighbourhood. Defaults to 3.
        loss_heatmap_weight (float): lambda_1 of eq. 5 (paper: 0.5).
        loss_pseudo_weight (float): lambda_2 of eq. 5 (paper: 0.5).
        loss_point_weight (float): delta of eq. 5 (paper: 1.0).
        point_unit (float): Pixels (input) per unit of the Huber term. Defaults to 8.
        softargmax_beta (float): Temperature of the soft-argmax of the Huber term.
        loss_ce_weight (float): Weight of an auxiliary cross-entropy between the pixel
            distribution ``softmax(beta * heatmap)`` and the normalised target heatmap
            (real and pseudo frames); 0 disables it (eq. 5 only).
        decoder (dict): mmpose codec config (e.g. ``MSRAHeatmap``) for targets and argmax.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, in_channels: int = 64, image_channels: int = 6,
                 heatmap_channels: int = 16, embed_dims: int = 16, num_scales: int = 4,
                 kernel_size: int = 3,
                 loss_heatmap_weight: float = SOURCE_LOSS_HEATMAP_WEIGHT,
                 loss_pseudo_weight: float = SOURCE_LOSS_PSEUDO_WEIGHT,
                 loss_point_weight: float = SOURCE_LOSS_POINT_WEIGHT,
                 point_unit: float = 8.0, softargmax_beta: float = 30.0,
                 loss_ce_weight: float = 0.0,
                 decoder: Optional[dict] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if image_channels not in (3, 6):
            raise ValueError(f'HeatmapPointHead: image_channels must be 3 or 6, got '
                             f'{image_channels}')
        self.image_channels = image_channels
        self.num_scales = num_scales
        self.loss_heatmap_weight = loss_heatmap_weight
        self.loss_pseudo_weight = loss_pseudo_weight
        self.loss_point_weight = loss_point_weight
        self.point_unit = point_unit
        self.softargmax_beta = softargmax_beta
        self.loss_ce_weight = loss_ce_weight
        self.decoder = build_keypoint_codec(decoder) if decoder is not None else None
        self.red_mask = RedMask()
        red_channels = 2 if image_channels == 6 else 1
        self.red_embed = nn.Sequential(
            nn.Conv2d(red_channels, heatmap_channels, 3, padding=1), nn.ReLU(inplace=True))
        self.heatmap_module = nn.Sequential(
            nn.Conv2d(image_channels + red_channels, heatmap_channels, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(heatmap_channels, heatmap_channels, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(heatmap_channels, heatmap_channels, 4, stride=2, padding=1),
            nn.ReLU(inplace=True))
        self.attentions = nn.ModuleList(
            NeighbourhoodAttention(heatmap_channels, heatmap_channels, in_channels, embed_dims,
                                   kernel_size) for _ in range(num_scales))
        # the heatmap starts flat at 0 (the background value of its target): a random
        # start sums four scales of noise to a loss ~100x its floor, whose first
        # corrections silence the ReLUs of the head for good (a flat heatmap whose
        # argmax is a corner)
        for attention in self.attentions:
            nn.init.zeros_(attention.out_proj[-1].weight)
            nn.init.zeros_(attention.out_proj[-1].bias)

    def red_features(self, image: torch.Tensor) -> torch.Tensor:
        """Fixed Red-Mask maps: (B, Ci, H, W) -> (B, 1 or 2, H, W) (I_t, I_t - I_ref)."""
        current = self.red_mask(image[:, :3].clamp(0, 1))
        if self.image_channels == 3:
            return current
        reference = self.red_mask((image[:, :3] - image[:, 3:6]).clamp(0, 1))
        return torch.cat([current, current - reference], dim=1)

    def forward(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Heatmap logits.

        Args:
            feats (tuple): (image (B, Ci, H, W), ..., F_p (B, C, H/8, W/8)).

        Returns:
            torch.Tensor: (B, 1, H, W) heatmap (regressed to a gaussian of peak 1).
        """
        image, encoder_feats = feats[0], feats[-1]
        if image.shape[1] != self.image_channels:
            raise ValueError(f'HeatmapPointHead: image has {image.shape[1]} channels, expected '
                             f'{self.image_channels}')
        height, width = image.shape[-2:]
        red = self.red_features(image)
        red_feats = self.red_embed(red)  # F_r (B, hc, H, W)
        heat_feats = self.heatmap_module(torch.cat([image, red], dim=1))  # F_h (B, hc, H, W)
        heatmap = image.new_zeros(image.shape[0], 1, height, width)
        for level, attention in enumerate(self.attentions):
            factor = 2 ** level
            size = (max(height // factor, 1), max(width // factor, 1))
            query = F.adaptive_avg_pool2d(heat_feats, size) if factor > 1 else heat_feats
            key = F.adaptive_avg_pool2d(red_feats, size) if factor > 1 else red_feats
            value = F.interpolate(encoder_feats, size=size, mode='bilinear',
                                  align_corners=False)
            out = attention(query, key, value)
            if factor > 1:
                out = F.interpolate(out, size=(height, width), mode='bilinear',
                                    align_corners=False)
            heatmap = heatmap + out
        return heatmap

    def soft_argmax(self, heatmap: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) -> (B, 2) expected (x, y) in input pixels."""
        batch, _, height, width = heatmap.shape
        prob = (heatmap.flatten(1) * self.softargmax_beta).softmax(dim=1).view(
            batch, height, width)
        xs = torch.arange(width, dtype=heatmap.dtype, device=heatmap.device)
        ys = torch.arange(height, dtype=heatmap.dtype, device=heatmap.device)
        return torch.stack([(prob.sum(1) * xs).sum(1), (prob.sum(2) * ys).sum(1)], dim=1)

    def loss(self, feats: Tuple[torch.Tensor, ...], batch_data_samples: Sequence,
             train_cfg: Optional[dict] = None) -> Dict[str, torch.Tensor]:
        """Eq. 5 over a batch of real and pseudo-labelled samples.

        Every sample carries ``gt_fields.heatmaps`` (1, H, W); real samples also
        ``gt_instances.transformed_keypoints`` (1, 1, 2) in input pixels; samples with
        metainfo ``is_pseudo_label=True`` are the optical-flow pseudo-labels (g + n).

        Returns:
            dict: ``loss_heatmap`` (lambda_1), ``loss_pseudo`` (lambda_2), ``loss_point``
            (delta).
        """
        heatmaps = self.forward(feats)
        targets = torch.stack([d.gt_fields.heatmaps for d in batch_data_samples]).to(heatmaps)
        if targets.shape[-2:] != heatmaps.shape[-2:]:
            targets = F.interpolate(targets, size=heatmaps.shape[-2:], mode='bilinear',
                                    align_corners=False)
        pseudo = torch.tensor([bool(d.metainfo.get('is_pseudo_label', False))
                               for d in batch_data_samples], device=heatmaps.device)
        per_sample = ((heatmaps - targets) ** 2).flatten(1).mean(1)
        zero = heatmaps.sum() * 0.0
        real = ~pseudo
        loss_heatmap = per_sample[real].mean() if real.any() else zero
        loss_pseudo = per_sample[pseudo].mean() if pseudo.any() else zero
        loss_point = zero
        real_idx = [i for i, d in enumerate(batch_data_samples)
                    if not pseudo[i] and 'transformed_keypoints' in d.gt_instances]
        if real_idx:
            gt_points = torch.stack([
                torch.as_tensor(batch_data_samples[i].gt_instances.transformed_keypoints,
                                dtype=heatmaps.dtype).reshape(-1, 2)[0] for i in real_idx])
            pred_points = self.soft_argmax(heatmaps[real_idx])
            loss_point = F.huber_loss(pred_points / self.point_unit,
                                      gt_points.to(heatmaps.device) / self.point_unit)
        # the MSE of a sparse gaussian is tiny; scaling by the map size keeps it
        # on the order of the point term without changing its minimiser
        scale = float(heatmaps.shape[-1] * heatmaps.shape[-2]) ** 0.5
        losses = dict(loss_heatmap=self.loss_heatmap_weight * scale * loss_heatmap,
                      loss_pseudo=self.loss_pseudo_weight * scale * loss_pseudo,
                      loss_point=self.loss_point_weight * loss_point)
        if self.loss_ce_weight > 0:
            # cross-entropy of the pixel distribution softmax(beta * heatmap) against the
            # normalised target: every pixel competes with every other, so the peak is
            # found in tens of iterations where the MSE needs thousands
            logp = (heatmaps.flatten(1) * self.softargmax_beta).log_softmax(dim=1)
            target = targets.flatten(1).clamp(min=0)
            target = target / target.sum(1, keepdim=True).clamp(min=1e-6)
            valid = targets.flatten(1).amax(1) > 0
            ce = -(target * logp).sum(1)
            losses['loss_heatmap_ce'] = self.loss_ce_weight * (
                ce[valid].mean() if valid.any() else zero)
        return losses

    def predict(self, feats: Tuple[torch.Tensor, ...], batch_data_samples: Sequence = None,
                test_cfg: Optional[dict] = None):
        """Argmax of the heatmap through the codec.

        Returns:
            list[InstanceData]: per sample ``keypoints`` (1, 1, 2) in input pixels and
            ``keypoint_scores`` (1, 1); with ``test_cfg['output_heatmaps']`` also the
            heatmaps as a second list.
        """
        heatmaps = self.forward(feats)
        # mmpose codecs report "no keypoint" (-1) when the maximum is <= 0: decode a
        # copy shifted to a positive floor (same argmax) and score with the raw maximum
        flat = heatmaps.detach().flatten(1)
        shifted = heatmaps.detach() - flat.min(dim=1).values.view(-1, 1, 1, 1) + 1e-3
        scores = flat.max(dim=1).values.cpu().numpy()
        if self.decoder is None:
            preds = []
            width = heatmaps.shape[-1]
            for index, heatmap in enumerate(shifted):
                peak = int(heatmap[0].flatten().argmax())
                preds.append(InstanceData(
                    keypoints=np.array([[[peak % width, peak // width]]], dtype=np.float32),
                    keypoint_scores=scores[index].reshape(1, 1)))
        else:
            preds = self.decode(shifted)
            for pred, score in zip(preds, scores):
                pred.keypoint_scores = np.asarray(score, dtype=np.float32).reshape(1, 1)
        if test_cfg and test_cfg.get('output_heatmaps', False):
            from mmengine.structures import PixelData
            return preds, [PixelData(heatmaps=h.detach()) for h in heatmaps]
        return preds
