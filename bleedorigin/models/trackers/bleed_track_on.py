"""BleedOrigin-Track: an online, Track-On-derived point tracker for CPU.

Paper section 4.2 (Track-On [2] backbone, red attention 4.2.2, loss eq. 8)
and section 6.3 (memory refresh). Track-On's design, kept here at a CPU size:
a point query initialised by sampling frame features at the query point; a
query decoder (self-attention among queries, attention to a spatial memory
of features at past predictions and to a context memory of past decoded
queries, both FIFO); patch classification over a local window of the
stride-8 map followed by offset refinement on the stride-4 map; visibility and
confidence per point per frame.
"""
import copy
import warnings
from collections import deque
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn

from bleedorigin.constants import REFRESH_INTERVAL, TRACK_LOSS_GT_WEIGHT, TRACK_LOSS_PSEUDO_WEIGHT
from bleedorigin.registry import MODELS
from bleedorigin.utils.side_thread import side_pool, use_side_thread

from .query_decoder import MLP, QueryDecoderLayer, sample_grid, sample_points
from .stream_loop import track_online

# eq. 8: alpha_1 (gt) = 0.6, alpha_2 (pseudo) = 0.4; the rest are auxiliary terms
DEFAULT_LOSS_WEIGHTS = dict(gt=TRACK_LOSS_GT_WEIGHT, pseudo=TRACK_LOSS_PSEUDO_WEIGHT, patch_cls=0.2,
                            visibility=0.05, confidence=0.05)
PIXEL_MEAN = (0.45, 0.45, 0.45)
PIXEL_STD = (0.225, 0.225, 0.225)


class TrackState:
    """Bounded streaming state of the tracker for one video.

    Memories are FIFO deques whose length never exceeds their ``maxlen``;
    each entry is (K, C) features and a (K,) validity mask (a point added
    mid-stream has invalid slots for frames before it existed).
    """

    def __init__(self, spatial_size: int, context_size: int):
        self.spatial_memory: deque = deque(maxlen=spatial_size)
        self.context_memory: deque = deque(maxlen=context_size)
        self.query_init: Optional[torch.Tensor] = None  # (1, K, C + Ckv)
        self.points: Optional[torch.Tensor] = None  # (K, 2) input pixels
        self.visibility: Optional[torch.Tensor] = None  # (K,)
        self.confidence: Optional[torch.Tensor] = None  # (K,)
        self.last_feats: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
        self.last_frame: Optional[torch.Tensor] = None  # (1, 3, H, W) for MDG
        self.scale: Tuple[float, float] = (1.0, 1.0)  # input px per original px (x, y)
        self.frame_index = -1
        self.frames_since_init = 0
        self.refiner = None  # this video's copy of the model's refiner (coarse-to-fine)

    def __len__(self) -> int:
        return 0 if self.points is None else int(self.points.shape[0])


@MODELS.register_module()
class BleedTrackOn(BaseModel):
    """Online bleeding-source tracker with red attention and memory refresh.

    Note:
        B: clips, T: frames, K: point queries (one per bleeding source /
        ``group_id``, plus pseudo-label points in training), C: channels,
        H, W: network input size (``input_size``), P: local window samples.

    Args:
        encoder (dict, optional): Visual encoder config (stride-4 and
            stride-8 maps); defaults to ``TrackEncoder``.
        red_mask (dict | str, optional): Red-Mask module config (default: the
            fixed, parameter-free ``RedMask``); its map, pooled to stride 8 and embedded,
            is concatenated to the visual features as key/value (4.2.2).
            None disables red attention.
        mdg (dict, optional): ``MDGNeck`` config (helper DETECT's block) run on
            the RGB/HSV/flow differences of consecutive frames and added to the
            stride-8 features (Table 9 "MDG module"); None disables it.
        embed_dims (int): C. Defaults to 64.
        red_dims (int): Channels of the embedded red features. Defaults to 16.
        mdg_channels (int): Output channels of the MDG block. Defaults to 32.
        num_heads (int): Attention heads. Defaults to 4.
        num_layers (int): Query decoder layers. Defaults to 2.
        window_radius (int): Local search window radius in stride-8 cells
            (window of (2r+1)^2 candidate patches). Defaults to 5.
        spatial_memory_size (int): FIFO length of the spatial memory.
        context_memory_size (int): FIFO length of the context memory.
        refresh_interval (int): Memory refresh every N frames (section 6.3);
            0 disables. Defaults to ``REFRESH_INTERVAL`` (paper: 60).
        input_size (tuple[int, int]): Network input (W, H). Defaults to
            (256, 192).
        loss_weights (dict, optional): Overrides of ``DEFAULT_LOSS_WEIGHTS``:
            ``gt`` (alpha_1 = 0.6) and ``pseudo`` (alpha_2 = 0.4) of eq. 8, plus
            auxiliary ``patch_cls``, ``visibility`` and ``confidence`` weights.
        huber_delta (float): Huber transition in input pixels.
        confidence_radius (float): A prediction within this many input
            pixels of the target counts as confident (confidence target).
        bptt_length (int): Memories are detached every this many frames in
            training (truncated back-propagation through time).
        motion_prior_sigma (float): Initial std (stride-8 cells) of the learned
            Gaussian prior on the per-frame displacement. Defaults to 1.5.
        teacher_forcing (float): Training-only probability of centring a
            query's search window on its jittered previous target.
        teacher_noise (float): Std (input px) of that jitter.
        refiner (dict, optional): Coarse-to-fine stage (e.g.
            ``AnchoredFlowRefiner``): a flow motion prior and a first-template
            anchor at a working resolution above ``input_size``. With it, the
            search window of each frame is centred on the refined proposal and
            inference (``predict`` and the streaming API) runs the online step.
            None: the network alone (the paper's tracker).
        network_fallback (bool): With a refiner, use the network's point where
            the refiner lost the point (reliability 0) and the network is
            confident. Defaults to True.
        fallback_confidence (float): Network confidence needed for that.
        refiner_thread (bool | str): Run the refiner's step (OpenCV Lucas-Kanade, which
            releases the GIL) in a worker thread while the network extracts the
            frame's features; the two read nothing of each other, so the points
            are the same as in order. Pays on two cores when torch runs one
            thread (``torch.set_num_threads(1)``: 7.6 -> 6.0 ms a frame at
            512x384, docs/benchmark.md "Session 24"); with more torch threads
            than free cores it neither gains nor loses. ``'auto'``: only when torch
            runs fewer threads than the process has cores (the detector's rule,
            :func:`~bleedorigin.utils.side_thread.use_side_thread`). Defaults to True.
        data_preprocessor (dict, optional): mmengine data preprocessor.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 encoder: Optional[dict] = None,
                 red_mask: Optional[dict] = 'RedMask',
                 mdg: Optional[dict] = None,
                 embed_dims: int = 64,
                 red_dims: int = 16,
                 mdg_channels: int = 32,
                 num_heads: int = 4,
                 num_layers: int = 2,
                 window_radius: int = 5,
                 spatial_memory_size: int = 12,
                 context_memory_size: int = 12,
                 refresh_interval: int = REFRESH_INTERVAL,
                 input_size: Tuple[int, int] = (256, 192),
                 loss_weights: Optional[dict] = None,
                 huber_delta: float = 4.0,
                 confidence_radius: float = 3.0,
                 bptt_length: int = 32,
                 motion_prior_sigma: float = 1.5,
                 teacher_forcing: float = 0.5,
                 teacher_noise: float = 3.0,
                 refiner: Optional[dict] = None,
                 network_fallback: bool = True,
                 fallback_confidence: float = 0.5,
                 refiner_thread: Union[bool, str] = True,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if refresh_interval < 0:
            raise ValueError(f'refresh_interval must be >= 0, got {refresh_interval}')
        self.encoder = MODELS.build(encoder or dict(type='TrackEncoder'))
        if isinstance(red_mask, str):
            red_mask = dict(type=red_mask)
        self.red_mask = MODELS.build(red_mask) if red_mask is not None else None
        self.mdg = MODELS.build(mdg) if mdg is not None else None
        c = embed_dims
        kv_dims = c + (red_dims if self.red_mask is not None else 0)
        if self.mdg is not None:
            self.mdg_proj = nn.Conv2d(mdg_channels, c, 1)
            nn.init.zeros_(self.mdg_proj.weight)  # starts as the identity on feat8
            nn.init.zeros_(self.mdg_proj.bias)
        if self.red_mask is not None:
            self.red_embed = nn.Sequential(nn.Conv2d(1, red_dims, 3, padding=1), nn.ReLU())
        self.kv_dims = kv_dims
        self.stride4, self.stride8 = 4, 8
        self.input_size = tuple(input_size)
        self.window_radius = window_radius
        self.spatial_memory_size = spatial_memory_size
        self.context_memory_size = context_memory_size
        self.refresh_interval = refresh_interval
        self.loss_weights = dict(DEFAULT_LOSS_WEIGHTS, **(loss_weights or {}))
        self.huber_delta = huber_delta
        self.confidence_radius = confidence_radius
        self.bptt_length = bptt_length
        self.teacher_forcing = teacher_forcing
        self.teacher_noise = teacher_noise
        self.refiner = MODELS.build(refiner) if refiner is not None else None
        self.network_fallback = network_fallback
        self.fallback_confidence = fallback_confidence
        use_side_thread(refiner_thread)  # a bad setting fails here
        self.refiner_thread = refiner_thread

        self.query_proj = MLP(c + kv_dims, c * 2, c)
        self.spatial_proj = MLP(c + kv_dims, c * 2, c)
        self.null_memory = nn.Parameter(torch.zeros(1, c))
        self.memory_type = nn.Parameter(torch.zeros(2, c))
        self.memory_age = nn.Parameter(torch.zeros(max(spatial_memory_size,
                                                       context_memory_size), c))
        side = 2 * window_radius + 1
        self.window_pos = nn.Parameter(torch.zeros(side * side, kv_dims))
        nn.init.normal_(self.memory_type, std=0.02)
        nn.init.normal_(self.memory_age, std=0.02)
        nn.init.normal_(self.window_pos, std=0.02)
        self.decoder = nn.ModuleList(
            QueryDecoderLayer(c, num_heads, kv_dims) for _ in range(num_layers))
        self.decoder_norm = nn.LayerNorm(c)
        self.cls_query = nn.Linear(c, c)
        self.cls_key = nn.Linear(kv_dims, c)
        offsets = torch.arange(-window_radius, window_radius + 1, dtype=torch.float32)
        gy, gx = torch.meshgrid(offsets, offsets, indexing='ij')
        self.register_buffer('window_offsets', torch.stack([gx, gy], -1).view(-1, 2),
                             persistent=False)  # (P, 2) in cells
        refine = torch.arange(-2, 3, dtype=torch.float32) * 2.0
        ry, rx = torch.meshgrid(refine, refine, indexing='ij')
        self.register_buffer('refine_offsets', torch.stack([rx, ry], -1).view(-1, 2),
                             persistent=False)  # (25, 2) input pixels
        self.offset_head = MLP(c + 25 * c, c * 2, 2)
        nn.init.zeros_(self.offset_head.fc2.weight)  # start from the coarse point
        nn.init.zeros_(self.offset_head.fc2.bias)
        self.template_scale = nn.Parameter(torch.tensor(10.0))
        self.motion_prior_log_sigma = nn.Parameter(torch.tensor(float(np.log(motion_prior_sigma))))
        self.status_head = MLP(c * 2, c, 2)  # visibility, confidence logits
        self.register_buffer('pixel_mean', torch.tensor(PIXEL_MEAN).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('pixel_std', torch.tensor(PIXEL_STD).view(1, 3, 1, 1),
                             persistent=False)
        self._stream: Optional[TrackState] = None

    # ------------------------------------------------------------------ features
    def extract_feats(self, images: torch.Tensor, prev_images: Optional[torch.Tensor] = None
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Frame features.

        Args:
            images (Tensor): (N, 3, H, W) uint8 or float in [0, 255], RGB.
            prev_images (Tensor, optional): (N, 3, H, W) the frame before each
                image (for MDG); defaults to the images themselves (no motion).

        Returns:
            tuple: stride-4 map (N, C, H/4, W/4) and stride-8 key/value map
            (N, Ckv, H/8, W/8) with the red-attention channels appended.
        """
        rgb = images.float() / 255.0
        feat4, feat8 = self.encoder((rgb - self.pixel_mean) / self.pixel_std)
        if self.mdg is not None:
            prev = images if prev_images is None else prev_images
            motion = self._mdg_features(images, prev)
            motion = F.interpolate(motion, size=feat8.shape[-2:], mode='bilinear',
                                   align_corners=False)
            feat8 = feat8 + self.mdg_proj(motion)
        if self.red_mask is not None:
            red = self._red_map(rgb)
            red = F.adaptive_avg_pool2d(red, feat8.shape[-2:])
            feat8 = torch.cat([feat8, self.red_embed(red)], dim=1)
        return feat4, feat8

    def _red_map(self, rgb: torch.Tensor) -> torch.Tensor:
        red = self.red_mask(rgb)
        if isinstance(red, (tuple, list)):
            red = red[0]
        if red.dim() == 3:
            red = red[:, None]
        return red[:, :1].float()

    def _mdg_features(self, images: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """MDG block (Table 9) on RGB / HSV / DIS-flow differences of consecutive frames.

        Computed at half the input size, so MDG's 1/4 output lies on the
        stride-8 grid of the tracker.

        Returns:
            Tensor: (N, mdg_channels, H/8, W/8).
        """
        from bleedorigin.models.utils.flow import dis_flow, rgb_to_hsv01
        h, w = images.shape[-2] // 2, images.shape[-1] // 2
        cur = F.interpolate(images.float(), size=(h, w), mode='area')
        old = F.interpolate(prev.float(), size=(h, w), mode='area')
        cur_np = cur.round().clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()
        old_np = old.round().clamp(0, 255).byte().permute(0, 2, 3, 1).cpu().numpy()
        hsv = torch.from_numpy(rgb_to_hsv01(cur_np) - rgb_to_hsv01(old_np)).permute(0, 3, 1, 2)
        flow = torch.from_numpy(np.stack([dis_flow(a, b) for a, b in zip(old_np, cur_np)]))
        flow = flow.permute(0, 3, 1, 2) / 4.0
        rgb_diff = (cur - old) / 255.0
        out = self.mdg((rgb_diff, hsv.to(rgb_diff), flow.to(rgb_diff)))
        return out[0] if isinstance(out, (tuple, list)) else out

    # ------------------------------------------------------------ core step
    def _init_queries(self, feat4: torch.Tensor, feat8: torch.Tensor,
                      points: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Query and first spatial-memory entry from features at the points.

        Args:
            feat4 (Tensor): (B, C, h4, w4). feat8 (Tensor): (B, Ckv, h8, w8).
            points (Tensor): (B, K, 2) input pixels.

        Returns:
            tuple[Tensor, Tensor]: query state (B, K, C + Ckv) = the decoder
            query and the appearance template (key/value features at the
            point, for the template-correlation prior of patch
            classification), and the spatial entry (B, K, C).
        """
        template = sample_points(feat8, points, self.stride8)
        local = torch.cat([sample_points(feat4, points, self.stride4), template], dim=-1)
        return torch.cat([self.query_proj(local), template], -1), self.spatial_proj(local)

    def _memory_tokens(self, spatial: List[Tuple[torch.Tensor, torch.Tensor]],
                       context: List[Tuple[torch.Tensor, torch.Tensor]], batch: int,
                       num_points: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Stack FIFO memories (oldest first) into (B, K, M, C) tokens and mask."""
        c = self.null_memory.shape[-1]
        tokens = [self.null_memory.expand(batch, num_points, c)[:, :, None]]
        masks = [torch.ones(batch, num_points, 1, dtype=torch.bool,
                            device=self.null_memory.device)]
        for type_index, memory in enumerate((spatial, context)):
            n = len(memory)
            for slot, (entry, valid) in enumerate(memory):
                age = n - 1 - slot
                tokens.append((entry + self.memory_type[type_index] + self.memory_age[age])[
                    :, :, None])
                masks.append(valid[:, :, None])
        return torch.cat(tokens, dim=2), torch.cat(masks, dim=2)

    def _track_step(self, feat4: torch.Tensor, feat8: torch.Tensor, query_init: torch.Tensor,
                    prev_points: torch.Tensor, spatial: list, context: list
                    ) -> Dict[str, torch.Tensor]:
        """Track K queries into one frame.

        Args:
            feat4 (Tensor): (B, C, h4, w4). feat8 (Tensor): (B, Ckv, h8, w8).
            query_init (Tensor): (B, K, C + Ckv) query and template.
            prev_points (Tensor): (B, K, 2) previous positions, input pixels.
            spatial, context (list): FIFO memories of ((B, K, C), (B, K) bool).

        Returns:
            dict: ``points`` (B, K, 2), ``patch_logits`` (B, K, P),
            ``window_centres`` (B, K, P, 2), ``visibility_logit`` and
            ``confidence_logit`` (B, K), ``query`` (B, K, C) decoded query,
            ``spatial_entry`` (B, K, C).
        """
        c = self.null_memory.shape[-1]
        query_init, template = query_init[..., :c], query_init[..., c:]
        b, k, _ = query_init.shape
        prev_points = prev_points.detach()
        centres = prev_points[:, :, None, :] + self.window_offsets * self.stride8  # (B,K,P,2)
        window = sample_grid(feat8, centres, self.stride8)  # (B, K, P, Ckv)
        local_tokens = window + self.window_pos
        memory, memory_mask = self._memory_tokens(spatial, context, b, k)
        query = query_init
        for layer in self.decoder:
            query = layer(query, memory, memory_mask, local_tokens)
        query = self.decoder_norm(query)

        # patch classification over the window, then a 3x3 soft-argmax around the best patch
        logits = torch.einsum('bkc,bkpc->bkp', self.cls_query(query),
                              self.cls_key(window)) / query.shape[-1] ** 0.5
        # appearance prior: cosine similarity of the window to the query's template
        similarity = torch.einsum('bkc,bkpc->bkp', F.normalize(template, dim=-1),
                                  F.normalize(window, dim=-1))
        logits = logits + self.template_scale * similarity
        # motion prior: a Gaussian log-prior on the displacement (in cells), so an
        # ambiguous window (source hidden under blood or water) keeps the point still
        sigma = self.motion_prior_log_sigma.exp()
        logits = logits - 0.5 * (self.window_offsets ** 2).sum(-1) / sigma ** 2
        best = logits.argmax(dim=-1, keepdim=True)  # (B, K, 1)
        offsets = self.window_offsets  # (P, 2)
        near = (offsets[None, None] - offsets[best]).abs().amax(-1) <= 1  # (B, K, P)
        weights = logits.masked_fill(~near, float('-inf')).softmax(dim=-1)
        coarse = (weights[..., None] * centres).sum(dim=2)  # (B, K, 2)

        # offset refinement from stride-4 features around the coarse point
        refine_pts = coarse[:, :, None, :] + self.refine_offsets
        refine_feat = sample_grid(feat4, refine_pts, self.stride4).flatten(2)  # (B, K, 25C)
        offset = torch.tanh(self.offset_head(torch.cat([query, refine_feat], -1)))
        points = coarse + offset * self.stride8 / 2
        point_feat = sample_points(feat4, points, self.stride4)
        status = self.status_head(torch.cat([query, point_feat], -1))
        spatial_local = torch.cat([point_feat, sample_points(feat8, points, self.stride8)], -1)
        return dict(points=points, patch_logits=logits, window_centres=centres,
                    visibility_logit=status[..., 0], confidence_logit=status[..., 1],
                    query=query, spatial_entry=self.spatial_proj(spatial_local))

    def _push_memory(self, spatial: list, context: list, out: dict, valid: torch.Tensor,
                     detach: bool) -> None:
        """Append this frame's entries to the FIFO memories (bounded)."""
        entry_s, entry_c = out['spatial_entry'], out['query']
        if detach:
            entry_s, entry_c = entry_s.detach(), entry_c.detach()
        spatial.append((entry_s, valid))
        context.append((entry_c, valid))
        if len(spatial) > self.spatial_memory_size:
            spatial.pop(0)
        if len(context) > self.context_memory_size:
            context.pop(0)

    # --------------------------------------------------------- clip tracking
    def track_clip(self, frames: torch.Tensor, query_points: torch.Tensor,
                   refresh_interval: Optional[int] = None, detach_memory: bool = True,
                   chunk: int = 32, teacher_points: Optional[torch.Tensor] = None,
                   teacher_mask: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Track queries from frame 0 through a whole clip (teacher-free).

        Args:
            frames (Tensor): (B, T, 3, H, W) uint8 RGB at ``input_size``.
            query_points (Tensor): (B, K, 2) positions at frame 0, input px.
            refresh_interval (int, optional): Overrides ``refresh_interval``.
            detach_memory (bool): Detach memory entries (inference) or keep
                gradients for ``bptt_length`` frames (training).
            chunk (int): Frames encoded per encoder call.
            teacher_points (Tensor, optional): (B, T, K, 2) targets; in
                training, with probability ``teacher_forcing`` per query and
                frame the search window is centred on the (jittered) target
                of the previous frame instead of the prediction, so patch
                classification is supervised on every frame early in training.
            teacher_mask (Tensor, optional): (B, T, K) bool, where targets exist.

        Returns:
            dict of (B, T, K, ...) tensors: ``points``, ``visibility_logit``,
            ``confidence_logit``, ``patch_logits``, ``window_centres``; frame 0
            holds the query itself.
        """
        refresh = self.refresh_interval if refresh_interval is None else refresh_interval
        b, t = frames.shape[:2]
        k = query_points.shape[1]
        outputs: Dict[str, list] = {key: [] for key in (
            'points', 'visibility_logit', 'confidence_logit', 'patch_logits', 'window_centres')}
        spatial: list = []
        context: list = []
        valid = torch.ones(b, k, dtype=torch.bool, device=query_points.device)
        query_init = points = None
        for start in range(0, t, chunk):
            flat = frames[:, start:start + chunk].flatten(0, 1)
            prev = None
            if self.mdg is not None:  # frame before each frame (frame 0: itself)
                idx = torch.arange(start, min(start + chunk, t)).sub(1).clamp(min=0)
                prev = frames[:, idx].flatten(0, 1)
            feat4, feat8 = self.extract_feats(flat, prev)
            n = flat.shape[0] // b
            feat4 = feat4.view(b, n, *feat4.shape[1:])
            feat8 = feat8.view(b, n, *feat8.shape[1:])
            for i in range(n):
                f4, f8 = feat4[:, i], feat8[:, i]
                index = start + i
                if index == 0:
                    query_init, entry = self._init_queries(f4, f8, query_points)
                    points = query_points
                    spatial.append((entry, valid))
                    self._append_first(outputs, points)
                    continue
                if not detach_memory and index % self.bptt_length == 0:
                    spatial = [(e.detach(), v) for e, v in spatial]
                    context = [(e.detach(), v) for e, v in context]
                prev = points
                if teacher_points is not None and self.teacher_forcing > 0:
                    use = teacher_mask[:, index - 1] & (
                        torch.rand(b, k, device=points.device) < self.teacher_forcing)
                    jitter = torch.randn_like(points) * self.teacher_noise
                    prev = torch.where(use[..., None], teacher_points[:, index - 1] + jitter,
                                       points)
                out = self._track_step(f4, f8, query_init, prev, spatial, context)
                self._push_memory(spatial, context, out, valid, detach_memory)
                points = out['points']
                for key in outputs:
                    outputs[key].append(out[key])
                if refresh and index % refresh == 0:
                    query_init, entry = self._init_queries(f4, f8, points.detach())
                    spatial, context = [(entry, valid)], []
        return {key: torch.stack(value, dim=1) for key, value in outputs.items()}

    def _append_first(self, outputs: dict, points: torch.Tensor) -> None:
        b, k = points.shape[:2]
        p = self.window_offsets.shape[0]
        outputs['points'].append(points)
        big = points.new_full((b, k), 10.0)
        outputs['visibility_logit'].append(big)
        outputs['confidence_logit'].append(big)
        outputs['patch_logits'].append(points.new_zeros(b, k, p))
        outputs['window_centres'].append(points[:, :, None].expand(b, k, p, 2))

    # ---------------------------------------------------------- mmengine API
    def forward(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]],
                data_samples: Optional[List[dict]] = None, mode: str = 'tensor'):
        """mmengine entry point.

        Args:
            inputs (Tensor | list[Tensor]): (B, T, 3, H, W) or B tensors of
                (T, 3, H, W), uint8 RGB at ``input_size``.
            data_samples (list[dict]): per clip ``query_points`` (K, 2),
                ``target_points`` (T, K, 2), ``target_visible`` (T, K),
                ``target_valid`` (T, K), ``is_pseudo`` (K,), and for predict
                ``scale`` (sx, sy) input px per original px.
            mode (str): ``loss``, ``predict`` or ``tensor``.
        """
        frames = torch.stack(list(inputs)) if not torch.is_tensor(inputs) else inputs
        if frames.dim() != 5:
            raise ValueError(f'inputs must be (B, T, 3, H, W), got {tuple(frames.shape)}')
        frames = frames.to(self.pixel_mean.device)
        if mode == 'loss':
            return self.loss(frames, data_samples)
        query = self._stack_field(data_samples, 'query_points', frames.shape[0])
        if mode == 'tensor':
            return self.track_clip(frames, query)
        if mode == 'predict':
            return self.predict(frames, data_samples)
        raise ValueError(f'mode must be loss, predict or tensor, got {mode!r}')

    def _stack_field(self, data_samples, key, batch):
        if data_samples is None or len(data_samples) != batch:
            raise ValueError(f'need one data sample with {key!r} per clip')
        values = [torch.as_tensor(np.asarray(s[key]), dtype=torch.float32) for s in data_samples]
        k_axis = -2 if key.endswith('points') else -1
        k = max(v.shape[k_axis] for v in values)
        out = []
        for v in values:
            if key.endswith('points'):
                pad = k - v.shape[-2]
                v = torch.cat([v, v.new_zeros(*v.shape[:-2], pad, 2)], -2) if pad else v
            else:
                pad = k - v.shape[-1]
                v = torch.cat([v, v.new_zeros(*v.shape[:-1], pad)], -1) if pad else v
            out.append(v)
        return torch.stack(out).to(self.pixel_mean.device)

    def loss(self, frames: torch.Tensor, data_samples: List[dict]) -> Dict[str, torch.Tensor]:
        """Eq. 8 plus auxiliary patch-classification, visibility and confidence terms.

        ``0.6 * Huber(P_pred, P_gt)`` over ground-truth queries at their
        labelled visible frames ``+ 0.4 * mean Huber(P_pred^i, P_pseudo^i)``
        over pseudo-label queries (weights from ``loss_weights``).
        """
        b = frames.shape[0]
        query = self._stack_field(data_samples, 'query_points', b)
        target = self._stack_field(data_samples, 'target_points', b)  # (B, T, K, 2)
        visible = self._stack_field(data_samples, 'target_visible', b) > 0.5
        valid = self._stack_field(data_samples, 'target_valid', b) > 0.5  # (B, T, K)
        pseudo = self._stack_field(data_samples, 'is_pseudo', b) > 0.5  # (B, K)
        out = self.track_clip(frames, query, refresh_interval=0, detach_memory=False,
                              teacher_points=target, teacher_mask=valid & visible)
        pred = out['points'][:, 1:]
        target, visible, valid = target[:, 1:], visible[:, 1:], valid[:, 1:]
        labelled = valid & visible
        huber = F.huber_loss(pred, target, reduction='none', delta=self.huber_delta).sum(-1)
        w = self.loss_weights
        losses = {}
        gt_mask = labelled & ~pseudo[:, None]
        ps_mask = labelled & pseudo[:, None]
        losses['loss_gt'] = w['gt'] * _masked_mean(huber, gt_mask)
        if w.get('pseudo', 0) > 0:
            losses['loss_pseudo'] = w['pseudo'] * _masked_mean(huber, ps_mask)
        if w.get('patch_cls', 0) > 0:
            centres = out['window_centres'][:, 1:]  # (B, T, K, P, 2)
            dist = (centres - target[:, :, :, None]).norm(dim=-1)
            cls_target = dist.argmin(-1)
            inside = dist.amin(-1) <= self.stride8 * 0.75
            ce = F.cross_entropy(out['patch_logits'][:, 1:].flatten(0, 2),
                                 cls_target.flatten(), reduction='none').view_as(inside.float())
            losses['loss_patch_cls'] = w['patch_cls'] * _masked_mean(ce, labelled & inside)
        if w.get('visibility', 0) > 0:
            bce = F.binary_cross_entropy_with_logits(
                out['visibility_logit'][:, 1:], visible.float(), reduction='none')
            losses['loss_visibility'] = w['visibility'] * _masked_mean(bce, valid)
        if w.get('confidence', 0) > 0:
            err = (pred.detach() - target).norm(dim=-1)
            conf_target = (err <= self.confidence_radius).float()
            bce = F.binary_cross_entropy_with_logits(
                out['confidence_logit'][:, 1:], conf_target, reduction='none')
            losses['loss_confidence'] = w['confidence'] * _masked_mean(bce, labelled)
        return losses

    @torch.no_grad()
    def predict(self, frames: torch.Tensor, data_samples: List[dict]) -> List[dict]:
        """Track every query of each clip from its frame 0; points back in original px.

        Returns:
            list[dict]: per clip, the data sample updated with ``pred_points``
            (T, K, 2) original pixels, ``pred_visibility`` (T, K) bool and
            ``pred_confidence`` (T, K) float.
        """
        if self.refiner is not None:
            return self._predict_online(frames, data_samples)
        query = self._stack_field(data_samples, 'query_points', frames.shape[0])
        out = self.track_clip(frames, query)
        results = []
        for i, sample in enumerate(data_samples):
            k = len(np.asarray(sample['query_points']))
            scale = np.asarray(sample.get('scale', (1.0, 1.0)), dtype=np.float32)
            result = dict(sample)
            result['pred_points'] = out['points'][i, :, :k].cpu().numpy() / scale
            result['pred_visibility'] = (out['visibility_logit'][i, :, :k] > 0).cpu().numpy()
            result['pred_confidence'] = out['confidence_logit'][i, :, :k].sigmoid().cpu().numpy()
            results.append(result)
        return results

    def _predict_online(self, frames: torch.Tensor, data_samples: List[dict]) -> List[dict]:
        """Offline evaluation as a loop over the online step (one code path).

        The clip's frames (at the dataset's size) stand in for the original
        frames; points come back in original pixels through ``scale``.
        """
        results = []
        for clip, sample in zip(frames, data_samples):
            video = clip.permute(0, 2, 3, 1).cpu().numpy()
            query = np.asarray(sample['query_points'], np.float32).reshape(-1, 2)
            if len(video) == 0:
                raise ValueError(f'clip {sample.get("clip_id", "?")}: zero-length clip, '
                                 f'nothing to track')
            points, visibility, confidence = track_online(self, video, query,
                                                          self.refresh_interval)
            scale = np.asarray(sample.get('scale', (1.0, 1.0)), dtype=np.float32)
            result = dict(sample)
            result['pred_points'] = points / scale
            result['pred_visibility'] = visibility
            result['pred_confidence'] = confidence
            results.append(result)
        return results

    # ------------------------------------------- online step (state passed in)
    # The model holds no stream: ``bleedorigin.apis.StreamTracker`` owns the TrackState
    # and the refresh policy and calls these; ``predict`` loops over the same calls
    # (``stream_loop.track_online``).
    def frame_input(self, frame: np.ndarray) -> Tuple[torch.Tensor, Tuple[float, float]]:
        """Resize-to-model: (H, W, 3) uint8 RGB -> (1, 3, H_in, W_in) tensor and the
        scale (x, y) in input px per original px."""
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f'frame must be an HxWx3 uint8 RGB array, got '
                             f'{getattr(frame, "shape", type(frame))}')
        h, w = frame.shape[:2]
        in_w, in_h = self.input_size
        resized = frame if (w, h) == (in_w, in_h) else cv2.resize(
            frame, (in_w, in_h), interpolation=cv2.INTER_AREA)
        tensor = torch.from_numpy(np.ascontiguousarray(resized)).permute(2, 0, 1)[None]
        tensor = tensor.contiguous()
        return tensor.to(self.pixel_mean.device), (in_w / w, in_h / h)

    _prepare_frame = frame_input  # older name

    def _points_to_input(self, points, scale) -> torch.Tensor:
        pts = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        if not np.isfinite(pts).all():
            raise ValueError('points must be finite (K, 2) pixel coordinates')
        return torch.from_numpy(pts * np.asarray(scale, np.float32))[None].to(
            self.pixel_mean.device)

    @torch.no_grad()
    def start_state(self, frame: np.ndarray, inputs: Tuple[torch.Tensor, Tuple[float, float]],
                    points) -> TrackState:
        """A new TrackState tracking ``points`` (K, 2) original px from ``frame``.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 RGB (the refiner works on it).
            inputs (tuple): :meth:`frame_input` of ``frame``.
            points: (K, 2) original px.
        """
        self.eval()
        tensor, scale = inputs
        state = TrackState(self.spatial_memory_size, self.context_memory_size)
        feat4, feat8 = self.extract_feats(tensor)
        pts = self._points_to_input(points, scale)
        state.query_init, entry = self._init_queries(feat4, feat8, pts)
        state.points = pts[0]
        k = pts.shape[1]
        state.spatial_memory.append((entry[0], torch.ones(k, dtype=torch.bool)))
        state.visibility = torch.ones(k, dtype=torch.bool)
        state.confidence = torch.ones(k)
        state.last_feats = (feat4, feat8)
        state.last_frame = tensor
        state.scale = scale
        state.frame_index = 0
        if self.refiner is not None:
            state.refiner = self.refiner.new_stream()
            state.refiner.init(frame, points)
        return state

    @torch.no_grad()
    def extend_state(self, state: TrackState, frame: np.ndarray,
                     inputs: Tuple[torch.Tensor, Tuple[float, float]], points) -> None:
        """Add queries on the current frame (the one last passed to start/advance)."""
        tensor, scale = inputs
        feat4, feat8 = self.extract_feats(tensor, state.last_frame)
        pts = self._points_to_input(points, scale)
        query, entry = self._init_queries(feat4, feat8, pts)
        n = pts.shape[1]
        state.query_init = torch.cat([state.query_init, query], dim=1)
        state.points = torch.cat([state.points, pts[0]], dim=0)
        state.visibility = torch.cat([state.visibility, torch.ones(n, dtype=torch.bool)])
        state.confidence = torch.cat([state.confidence, torch.ones(n)])
        c = entry.shape[-1]
        for memory in (state.spatial_memory, state.context_memory):
            for slot in range(len(memory)):
                old, valid = memory[slot]
                memory[slot] = (torch.cat([old, old.new_zeros(n, c)]),
                                torch.cat([valid, torch.zeros(n, dtype=torch.bool)]))
        if len(state.spatial_memory):
            newest, valid = state.spatial_memory[-1]
            newest = newest.clone()
            newest[-n:] = entry[0]
            valid = valid.clone()
            valid[-n:] = True
            state.spatial_memory[-1] = (newest, valid)
        else:
            state.spatial_memory.append((entry[0], torch.ones(n, dtype=torch.bool)))
        if state.refiner is not None:
            state.refiner.add_points(frame, points)

    @torch.no_grad()
    def advance_state(self, state: TrackState, frame: np.ndarray,
                      inputs: Tuple[torch.Tensor, Tuple[float, float]]
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Track into the next frame (no refresh: the caller's policy decides).

        Returns:
            tuple: points (K, 2) float32 original px, visibility (K,) bool,
            confidence (K,) float in [0, 1].
        """
        tensor, scale = inputs
        if not np.allclose(scale, state.scale):
            raise ValueError(f'frame size changed mid-stream: scale {scale} != {state.scale}')
        # coarse-to-fine: the refiner's flow proposal centres the search window; it needs
        # only the frame, so it may run beside the feature extraction
        pending = None
        if state.refiner is not None and use_side_thread(self.refiner_thread):
            pending = side_pool().submit(state.refiner.step, frame)
        try:
            feat4, feat8 = self.extract_feats(tensor, state.last_frame)
        finally:
            if pending is not None:  # never leave a step running on this stream's refiner
                pending.exception()  # waits; a failed step raises below, from result()
        spatial = [(e[None], v[None]) for e, v in state.spatial_memory]
        context = [(e[None], v[None]) for e, v in state.context_memory]
        prior = state.points
        reliability = None
        if state.refiner is not None:
            refined, reliability = (state.refiner.step(frame) if pending is None
                                    else pending.result())
            prior = torch.from_numpy(refined * np.asarray(scale, np.float32)).to(prior)
        out = self._track_step(feat4, feat8, state.query_init, prior[None],
                               spatial, context)
        k = len(state)
        valid = torch.ones(k, dtype=torch.bool)
        state.spatial_memory.append((out['spatial_entry'][0], valid))
        state.context_memory.append((out['query'][0], valid))
        state.visibility = out['visibility_logit'][0] > 0
        state.confidence = out['confidence_logit'][0].sigmoid()
        if reliability is None:
            state.points = out['points'][0]
        else:
            state.points = self._fuse(state.refiner, prior, out['points'][0], state.confidence,
                                      reliability, scale)
            state.confidence = torch.maximum(state.confidence, torch.from_numpy(reliability))
        state.last_feats = (feat4, feat8)
        state.last_frame = tensor
        state.frame_index += 1
        state.frames_since_init += 1
        return self.state_output(state)

    def _fuse(self, refiner, refined: torch.Tensor, network: torch.Tensor,
              confidence: torch.Tensor, reliability: np.ndarray, scale) -> torch.Tensor:
        """Refined points where the refiner holds them; the network's where it lost them."""
        points = refined.clone()
        if not self.network_fallback:
            return points
        lost = torch.from_numpy(reliability <= 0) & (confidence > self.fallback_confidence)
        for i in torch.nonzero(lost).flatten().tolist():
            points[i] = network[i]
            refiner.correct(i, (network[i] / torch.tensor(scale)).numpy())
        return points

    @torch.no_grad()
    def refresh_state(self, state: TrackState) -> None:
        """Clear both memories and re-initialise the queries from the current predictions."""
        feat4, feat8 = state.last_feats
        query, entry = self._init_queries(feat4, feat8, state.points[None])
        state.query_init = query
        state.spatial_memory.clear()
        state.context_memory.clear()
        state.spatial_memory.append((entry[0], torch.ones(len(state), dtype=torch.bool)))

    def state_output(self, state: TrackState):
        """Points in original px; a point outside the frame is reported invisible."""
        scale = np.asarray(state.scale, dtype=np.float32)
        points = (state.points.cpu().numpy() / scale).astype(np.float32)
        visibility = state.visibility.cpu().numpy().astype(bool)
        in_w, in_h = self.input_size
        size = np.array([in_w, in_h], np.float32) / scale  # original frame (W, H)
        inside = (points >= 0).all(-1) & (points < size).all(-1)
        return points, visibility & inside, state.confidence.cpu().numpy().astype(np.float32)

    # -------------------------------------------- deprecated: a stream on the model
    # Kept so older scripts run; new code wraps the model in bleedorigin.apis.StreamTracker,
    # which holds the state and takes the refresh policy instead of ``refresh_interval``.
    def reset_stream(self) -> None:
        """Deprecated: forget the model's own stream (use ``StreamTracker.reset``)."""
        self._stream = None

    def init(self, frame: np.ndarray, points) -> None:
        """Deprecated: start the model's own stream (use ``StreamTracker.init``)."""
        _deprecated('BleedTrackOn.init/step/add_points/refresh')
        self._stream = self.start_state(frame, self.frame_input(frame), points)

    def add_points(self, frame: np.ndarray, points) -> None:
        """Deprecated: see :meth:`extend_state`."""
        self.extend_state(self._require_stream(), frame, self.frame_input(frame), points)

    def step(self, frame: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Deprecated: :meth:`advance_state` on the model's own stream, refreshed every
        ``refresh_interval`` frames."""
        state = self._require_stream()
        self.advance_state(state, frame, self.frame_input(frame))
        if self.refresh_interval and state.frames_since_init % self.refresh_interval == 0:
            self.refresh_state(state)
        return self.state_output(state)

    def refresh(self) -> None:
        """Deprecated: see :meth:`refresh_state`."""
        self.refresh_state(self._require_stream())

    def _require_stream(self) -> TrackState:
        if self._stream is None:
            raise RuntimeError('call tracker.init(frame, points) before step/add_points/refresh')
        return self._stream

    @property
    def stream_state(self) -> Optional[TrackState]:
        """Deprecated: the model's own stream state (``StreamTracker.state`` instead)."""
        return self._stream

    def copy_for_stream(self) -> 'BleedTrackOn':
        """An independent copy sharing no streaming state (one per video)."""
        other = copy.deepcopy(self)
        other._stream = None
        return other


def _deprecated(what: str) -> None:
    warnings.warn(f'{what} on the model is deprecated: wrap the model in '
                  'bleedorigin.apis.StreamTracker, which owns the stream and the refresh '
                  'policy', DeprecationWarning, stacklevel=3)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.float()
    return (values * mask).sum() / mask.sum().clamp(min=1.0)
