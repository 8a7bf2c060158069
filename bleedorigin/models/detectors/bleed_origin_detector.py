"""BleedOrigin-Detect: onset detection (MDCFM + MDG + temporal transformer) and source
localisation (encoder + heatmap point head) in one mmengine model."""
import warnings
from functools import partial
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement
from torch import nn

from bleedorigin.constants import ONSET_CONF_THRESHOLD, ONSET_CONFIRM_WINDOWS
from bleedorigin.registry import MODELS
from bleedorigin.utils.checkpoint import load_state_dict_checked
from bleedorigin.utils.model_zoo import resolve_checkpoint
from bleedorigin.utils.side_thread import use_side_thread

from ..necks.mdcfm import mdcfm_targets
from ..utils import (
    ColourAnchor,
    OnsetStreamState,
    WindowRun,
    align_to,
    anchor_turn,
    avg_max_pool,
    check_rgb_frame,
    check_views,
    combine_views,
    dis_flow,
    flip_onset_sequence,
    onset_frame_input,
    onset_from_states,
    onset_stream_step,
    pick_reference,
    red_difference_argmax,
    red_mask,
    reference_anchor,
    rgb_to_hsv01,
    update_window_onset,
    window_frame_index,
    window_starts,
)
from ..utils.onset_decoding import window_onset
from ..utils.onset_refine import (
    RefineCascade,
    refine_crops,
    refine_frame,
    refine_frame_indices,
    refine_input,
    refine_ready,
    refined_onset,
)
from ..utils.onset_stream import state_vetoes


@MODELS.register_module()
class BleedOriginDetector(BaseModel):
    """Onset frame + initial bleeding source detector (paper 4.1, Algorithm 1 detection part).

    **Onset branch.** Every frame t is compared (through ``MDGNeck``) with the
    previous frame and with each clean-view frame of the memory that ``MDCFM``
    maintains (eq. 1); the pooled comparison features and the MDCFM logits are
    projected to one D-dimensional feature per frame. The feature of a frame is
    computed once and reused by every window containing it. ``OnsetHead`` maps
    each window of N frames to (theta, S_conf) and the clip onset is the earliest
    ``t + floor(theta * N)`` over confident windows (eq. 2).

    **Source branch.** The frame (RGB in [0, 1]) and its difference to a reference
    frame ``reference_offset`` frames earlier (before the onset, so fresh blood
    stands out) go through the encoder (F_p, stride 8) and ``HeatmapPointHead``
    (eq. 3); the heatmap argmax is mapped back to original-frame pixels.

    Note:
        T: frames of a clip or segment; N: window size; D: frame feature size;
        M: memory size; h, w: onset-branch resolution; H, W: source input size.

    Args:
        mdcfm (dict): ``MDCFM`` config.
        mdg (dict): ``MDGNeck`` config.
        onset_head (dict): ``OnsetHead`` config.
        encoder (dict): Encoder config (``SmallCNNEncoder``/``TorchvisionEncoder``,
            ``with_input=True``).
        source_head (dict): ``HeatmapPointHead`` config.
        data_preprocessor (dict, optional): ``BleedDataPreprocessor`` config.
        frame_embed_dims (int): D.
        use_memory (bool): Compare with the clean-view memory (False: previous frame
            only; Table 8 ablation).
        train_window_stride (int): Stride of the windows trained inside a segment.
        conf_thr (float): S_conf threshold of eq. 2. Defaults to ``ONSET_CONF_THRESHOLD``
            (paper: 0.5).
        mdcfm_loss_weight (float): Weight of the MDCFM supervision.
        motion_threshold (float): Mean flow (pixels at h x w) that counts as motion
            for the MDCFM motion target.
        onset_input_size (tuple): (w, h) of the onset branch.
        source_input_size (tuple): (W, H) of the source branch.
        reference_offset (int): Frames between the reference frame and the frame
            whose source is located.
        diff_scale (float): Gain on the frame differences and flows fed to MDCFM/MDG.
            Consecutive frames differ by ~0.002 on average ([0, 1] images); unscaled,
            the unnormalised convolutions see only their biases and the onset branch
            collapses to a constant.
        red_domain (bool): Append the Red-Mask difference to the RGB domain of every
            comparison (``mdg.in_channels[0]`` must then be 4). Fresh blood is a
            one-channel signal there, while camera motion changes all of R, G and B.
        state_loss_weight (float): Weight of the per-frame bleeding-state BCE on the
            frame features (frame t is "bleeding" from the onset on). Dense
            supervision: every frame of a segment is labelled, against one label per
            window for eq. 4. 0 disables it.
        teacher_memory (float): Probability, per training sequence, of filling the
            clean-view memory from the labels (pre-onset frames whose motion target
            is 0) instead of from the MDCFM decision, so the MDG comparisons see
            clean views before MDCFM has learnt to pick them. Inference always uses
            MDCFM (eq. 1). 0 disables it.
        mdcfm_appearance_horizon (int, optional): Frames after the onset during which
            the MDCFM appearance target is supervised (see ``mdcfm_targets``); None
            supervises every frame.
        align_reference (bool): Warp the source reference frame onto the frame whose
            source is located (global similarity fitted to optical flow), as the
            datasets do with ``align_reference=True``.
        mdcfm_balance (bool): Weight the bleeding pairs of the MDCFM appearance target
            by the clean/bleeding ratio of the batch (at most 10).
        state_thr (float): Threshold of the per-frame bleeding probability of the state
            decoder (``state_loss_weight > 0``): its onset is the first frame of
            ``state_run`` consecutive frames above it. Reported beside eq. 2
            (``pred_onset_state``, Table 3 row ``state_decoder``); eq. 2 stays the
            prediction.
        state_run (int): Consecutive frames of the state decoder.
        onset_decoder (str): ``'window'`` (eq. 2, the paper's rule, default) or
            ``'state'``: which onset ``predict`` returns as ``pred_onset`` and
            ``stream_step`` as ``onset_frame`` (the other one stays available as
            ``pred_onset_state`` / ``state_onset_frame`` resp. the eq. 2 fields).
        branch_clip (float, optional): Clip the gradient norm of the onset branch and of
            the source branch separately to this value (in :meth:`train_step`; set the
            optim wrapper's ``clip_grad`` to None). One global clip lets the source
            losses, whose gradients are one to two orders of magnitude larger, shrink
            the onset branch's step on every batch that holds a source sample.
        onset_red_pool (int): Resolution factor of the pooled Red-Mask channel of the
            onset input (``onset_frame_input``; the dataset's ``red_pool`` must match).
            With 2 or more, the Red-Mask channel of the comparisons is the maximum of
            the Red-Mask at ``onset_red_pool`` times the onset grid; 0/1 computes it
            from the onset-resolution RGB (older checkpoints).
        warmup_windows (bool): Slide a window ending at *every* frame, the first N - 1 of
            them padded with the clip's first frame (``window_starts``), offline and in
            the stream alike: a clip shorter than N, or an onset in the first N frames
            of a stream, can then fire. Train with ``SampleOnsetSegment(warmup_fraction
            > 0)``. False: windows start at frame 0 (older checkpoints).
        warmup_min_frames (int): With ``warmup_windows``, the real frames a window needs
            before it is decoded (1..N; ``window_starts``' ``min_frames``): the first
            frames of a stream, or of the watch resumed after a dismissed alarm, cannot
            fire on a window of padding. Default 1 (every window).
        onset_confirm (int): The alarm gate of eq. 2 (``WindowRun``): the onset exists
            once this many consecutive windows were confident, offline and in the stream
            alike; its frame is eq. 2's, the earliest over that run. Defaults to
            ``ONSET_CONFIRM_WINDOWS`` (1: eq. 2 as printed, the first confident window).
        onset_views (Sequence[str]): Flip views of the onset branch run beside the video
            (test-time augmentation; ``'horizontal'``, ``'vertical'``, ``'both'``):
            each has its own clean-view memory and window, and eq. 2 decides on the
            combined window (``models.utils.onset_views``), offline and in the stream
            alike. Empty (default): the video only, as the paper.
        onset_view_reduce (str): How the views' S_conf combine: ``'mean'`` (default)
            or ``'min'``.
        onset_view_theta (str): Which theta a combined window keeps: ``'confident'``
            (default), the most confident view's, or ``'mean'``, the views' mean.
        onset_refiner (dict, optional): An ``OnsetRefiner``: once eq. 2 has an onset
            theta and the frames up to theta + R exist, it looks again at the candidates
            theta - R .. theta + R at ``onset_refine_size`` in a crop around the bleeding
            source (the source branch on frame theta + R against frame theta - R - 1) and
            moves the onset to the frame it names (:meth:`refine_onset`), offline and in
            the stream alike (with ``onset_decoder='window'``). None (default): eq. 2's
            onset.
        onset_refiner_checkpoint (str, optional): The refiner's own weights (trained by
            ``configs/bleedorigin/onset_refiner.py``): a file, or the name of a shipped
            checkpoint (``'onset_refiner'``, sha256-checked, found in the model zoo whatever
            the working directory), loaded at build; the refiner is
            then frozen and a detector checkpoint may lack its weights
            (``weights_elsewhere``).
        onset_refine_size (tuple): (w, h) of every frame the refiner sees
            (``refine_frame``); must be the refiner's training size.
        onset_refine_search (Sequence[int]): Window shifts j tried in this order when the
            refiner names no frame of theta - R .. theta + R: the candidates centred at
            theta + j (2R + 1), each window whose frames exist (the stream waits for
            them); the first window that names a frame gives the onset. Empty (default):
            the window at theta only.
        onset_refine_confirm (bool): Eq. 2 proposes, the refiner confirms
            (``RefineCascade``): every window whose S_conf exceeds
            ``onset_candidate_thr`` proposes its own onset, the refiner is asked about that
            candidate's windows (theta, then ``onset_refine_search``) as their frames
            arrive, and the first window that names a frame raises the alarm and gives the
            onset; a candidate no window of which names a frame raises none. Offline and in
            the stream alike. Needs ``onset_decoder='window'`` and no alarm gate
            (``onset_confirm`` 1); without an ``onset_refiner`` it is off (eq. 2 alone).
            False (default here; ``configs/bleedorigin/detect.py`` sets it): eq. 2 alone
            raises the alarm and the refiner only moves its onset.
        onset_candidate_thr (float, optional): With ``onset_refine_confirm``, the S_conf
            a window needs to propose its onset; None (default): eq. 2's ``conf_thr``.
        colour_anchor (dict, optional): Per-video colour anchor (``ColourAnchor``
            settings); None (default): frames as decoded.
        stream_thread (bool | str): While streaming, run the frame's OpenCV work that
            the network does not read first (the DIS flows to the clean-view memory, the
            source buffer's and the onset refiner's resizes) in the side worker thread
            (``bleedorigin.utils.side_pool``) beside MDCFM and MDG; the same numbers as
            in order. ``'auto'`` (default): when torch runs fewer threads than the
            process has cores (one torch thread on two cores: 8.2 -> 6.5 ms a step at
            512x384; at two threads it would cost 5 %, docs/benchmark.md, session 25).
        memory_state_veto (float, optional): At inference, I_{t-1} enters the
            clean-view memory only when eq. 1 says clean *and* the state head's
            P(bleeding) of frame t (computed against the memory so far) is below this
            (``MEMORY_STATE_VETO``). Eq. 1's RGB-HSV confidence sees consecutive frames
            only and lets almost every frame of a slowly growing bleed into the memory
            (docs/detect.md, issue 11 twenty-sixth step); the veto keeps the pre-onset
            views there, as the labelled clean views of ``teacher_memory`` do in
            training. None: eq. 1 alone (the paper). Needs the state head and the memory.
        memory_state_veto_frames (int, optional): The veto lifts after keeping out this
            many frames since the memory last grew (a negative stream cannot lock the
            memory for long); None: no bound.
        train_state_veto (bool): Training sequences whose memory follows MDCFM (the
            share ``1 - teacher_memory``) use the veto's settled decisions too, so that
            training meets the memories the veto builds at inference, on negatives as
            well (decided without gradient, one more pass or a few per batch).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, mdcfm: dict, mdg: dict, onset_head: dict, encoder: dict,
                 source_head: dict, data_preprocessor: Optional[dict] = None,
                 frame_embed_dims: int = 64, use_memory: bool = True,
                 train_window_stride: int = 5, conf_thr: float = ONSET_CONF_THRESHOLD,
                 mdcfm_loss_weight: float = 0.5, motion_threshold: float = 0.5,
                 onset_input_size: Tuple[int, int] = (112, 96),
                 source_input_size: Tuple[int, int] = (224, 192),
                 reference_offset: int = 15, diff_scale: float = 10.0,
                 red_domain: bool = False, state_loss_weight: float = 0.0,
                 teacher_memory: float = 0.0, mdcfm_appearance_horizon: Optional[int] = None,
                 align_reference: bool = False, mdcfm_balance: bool = False,
                 onset_red_pool: int = 0, branch_clip: Optional[float] = None,
                 state_thr: float = 0.5, state_run: int = 5, onset_decoder: str = 'window',
                 warmup_windows: bool = False, warmup_min_frames: int = 1,
                 onset_confirm: int = ONSET_CONFIRM_WINDOWS,
                 onset_views: Sequence[str] = (), onset_view_reduce: str = 'mean',
                 onset_view_theta: str = 'confident',
                 onset_refiner: Optional[dict] = None,
                 onset_refiner_checkpoint: Optional[str] = None,
                 onset_refine_size: Tuple[int, int] = (384, 320),
                 onset_refine_search: Sequence[int] = (),
                 onset_refine_confirm: bool = False,
                 onset_candidate_thr: Optional[float] = None,
                 colour_anchor: Optional[dict] = None,
                 stream_thread: Union[bool, str] = 'auto',
                 memory_state_veto: Optional[float] = None,
                 memory_state_veto_frames: Optional[int] = None,
                 train_state_veto: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='BleedDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # build in our scope: mmengine's BaseModel would look in its root registry
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.mdcfm = MODELS.build(mdcfm)
        self.mdg = MODELS.build(mdg)
        self.onset_head = MODELS.build(onset_head)
        self.encoder = MODELS.build(encoder)
        self.source_head = MODELS.build(source_head)
        self.use_memory = use_memory
        self.window_size = self.onset_head.window_size
        self.train_window_stride = train_window_stride
        self.conf_thr = conf_thr
        self.mdcfm_loss_weight = mdcfm_loss_weight
        self.motion_threshold = motion_threshold
        self.onset_input_size = tuple(onset_input_size)
        self.source_input_size = tuple(source_input_size)
        self.reference_offset = reference_offset
        self.diff_scale = diff_scale
        self.red_domain = red_domain
        self.state_loss_weight = state_loss_weight
        self.teacher_memory = float(teacher_memory)
        self.mdcfm_appearance_horizon = mdcfm_appearance_horizon
        self.align_reference = align_reference
        self.mdcfm_balance = mdcfm_balance
        self.onset_red_pool = int(onset_red_pool)
        # checked here, built per video (``make_colour_anchor``): the turn is per video
        ColourAnchor.build(colour_anchor)
        self.colour_anchor = None if colour_anchor is None else dict(colour_anchor)
        self.branch_clip = branch_clip
        use_side_thread(stream_thread)  # a bad setting fails here
        self.stream_thread = stream_thread
        self.state_thr = state_thr
        self.state_run = int(state_run)
        if memory_state_veto is not None and (state_loss_weight <= 0 or not use_memory):
            raise ValueError('BleedOriginDetector: memory_state_veto needs the state head '
                             '(state_loss_weight > 0) and the clean-view memory (use_memory)')
        self.memory_state_veto = None if memory_state_veto is None else float(memory_state_veto)
        if memory_state_veto_frames is not None and int(memory_state_veto_frames) < 1:
            raise ValueError('BleedOriginDetector: memory_state_veto_frames must be >= 1 or '
                             f'None, got {memory_state_veto_frames}')
        self.memory_state_veto_frames = (None if memory_state_veto_frames is None
                                         else int(memory_state_veto_frames))
        if train_state_veto and self.memory_state_veto is None:
            raise ValueError('BleedOriginDetector: train_state_veto needs memory_state_veto')
        self.train_state_veto = bool(train_state_veto)
        if onset_decoder not in ('window', 'state'):
            raise ValueError(f"BleedOriginDetector: onset_decoder must be 'window' or 'state', "
                             f'got {onset_decoder!r}')
        if onset_decoder == 'state' and state_loss_weight <= 0:
            raise ValueError("BleedOriginDetector: onset_decoder='state' needs the state head "
                             '(state_loss_weight > 0)')
        self.onset_decoder = onset_decoder
        self.warmup_windows = bool(warmup_windows)
        if not 1 <= int(warmup_min_frames) <= self.window_size:
            raise ValueError(f'BleedOriginDetector: warmup_min_frames must be in [1, '
                             f'N={self.window_size}], got {warmup_min_frames}')
        self.warmup_min_frames = int(warmup_min_frames)
        if int(onset_confirm) < 1:
            raise ValueError(f'BleedOriginDetector: onset_confirm must be >= 1, got '
                             f'{onset_confirm}')
        self.onset_confirm = int(onset_confirm)
        self.onset_views = check_views(onset_views, onset_view_reduce, onset_view_theta)
        self.onset_view_reduce = onset_view_reduce
        self.onset_view_theta = onset_view_theta
        expected = 4 if red_domain else 3
        if self.mdg.in_channels[0] != expected:
            raise ValueError(f'BleedOriginDetector: red_domain={red_domain} needs '
                             f'mdg.in_channels[0] == {expected}, got {self.mdg.in_channels}')
        compare_dims = 2 * self.mdg.out_channels
        in_dims = compare_dims * (3 if use_memory else 1) + 2
        self.frame_proj = nn.Sequential(
            nn.Linear(in_dims, frame_embed_dims), nn.ReLU(inplace=True),
            nn.LayerNorm(frame_embed_dims))
        self.state_fc = nn.Linear(frame_embed_dims, 1) if state_loss_weight > 0 else None
        self._stream = None  # deprecated own stream, see reset_stream
        self.onset_refine_size = tuple(int(v) for v in onset_refine_size)
        search = tuple(onset_refine_search or ())
        if any(not isinstance(j, int) or isinstance(j, bool) or j == 0 for j in search) \
                or len(set(search)) != len(search):
            raise ValueError('BleedOriginDetector: onset_refine_search must hold distinct '
                             f'non-zero integer window shifts, got {list(search)}')
        self.onset_refine_search = search
        self.onset_refiner = None
        if onset_refiner is not None:
            # a model of its own: building it must not move the random stream the
            # detector's training draws from (with or without the refiner, a seed gives
            # the same detector)
            with torch.random.fork_rng(devices=[]):
                self.onset_refiner = MODELS.build(onset_refiner)
        #: weight prefixes a detector checkpoint may lack (they come from another file)
        self.weights_elsewhere: Tuple[str, ...] = ()
        if onset_refiner_checkpoint is not None:
            if self.onset_refiner is None:
                raise ValueError('BleedOriginDetector: onset_refiner_checkpoint '
                                 f'{onset_refiner_checkpoint!r} without an onset_refiner')
            # a shipped name ('onset_refiner') is sha256-checked and found wherever the
            # tool runs from; a path is loaded as it is
            load_state_dict_checked(self.onset_refiner,
                                    resolve_checkpoint(onset_refiner_checkpoint),
                                    origin='model.onset_refiner', allow_unexpected=False)
            self.onset_refiner.requires_grad_(False)
            self.weights_elsewhere = ('onset_refiner.', )
        # without a refiner there is no second look: eq. 2 alone raises the alarm
        # (`--cfg-options model.onset_refiner=None`, the detector chain's decision)
        onset_refine_confirm = bool(onset_refine_confirm) and self.onset_refiner is not None
        if onset_refine_confirm:
            if onset_decoder != 'window':
                raise ValueError("BleedOriginDetector: onset_refine_confirm needs onset_decoder="
                                 "'window' (set it False for the state decoder)")
            if self.onset_confirm != 1:
                raise ValueError('BleedOriginDetector: onset_refine_confirm replaces the '
                                 'alarm gate (set it False for a gate); onset_confirm must be '
                                 f'1, got {self.onset_confirm}')
        elif onset_candidate_thr is not None:
            raise ValueError('BleedOriginDetector: onset_candidate_thr needs '
                             'onset_refine_confirm=True and an onset_refiner')
        if onset_candidate_thr is not None and not 0.0 <= float(onset_candidate_thr) < 1.0:
            raise ValueError('BleedOriginDetector: onset_candidate_thr must be in [0, 1), '
                             f'got {onset_candidate_thr}')
        # None: eq. 2's own threshold, whatever it is (above 1 no window proposes)
        candidate = conf_thr if onset_candidate_thr is None else onset_candidate_thr
        self.onset_refine_confirm = onset_refine_confirm
        self.onset_candidate_thr = float(candidate)

    # ------------------------------------------------------------------ onset branch
    def _with_red(self, rgb: torch.Tensor) -> torch.Tensor:
        """(B, 3|4, h, w) onset input -> (B, 3|4, h, w): the Red-Mask as a fourth channel
        when a comparison needs it, so it is computed once per frame, not per pair.
        A four-channel input already carries it (the pooled Red-Mask of
        ``onset_frame_input``)."""
        needs_red = self.red_domain or self.mdcfm.in_channels == 7
        if rgb.shape[1] == 4:
            if self.onset_red_pool <= 1:
                raise ValueError('BleedOriginDetector: 4-channel onset input but '
                                 f'onset_red_pool={self.onset_red_pool}; set the '
                                 "dataset's red_pool and onset_red_pool alike")
            return rgb if needs_red else rgb[:, :3]
        if self.onset_red_pool > 1:
            raise ValueError(f'BleedOriginDetector: onset_red_pool={self.onset_red_pool} '
                             'needs 4-channel onset inputs (BleedOnsetDataset red_pool)')
        if needs_red:
            return torch.cat([rgb, red_mask(rgb)], dim=1)
        return rgb

    def _compare(self, cur_rgb, cur_hsv, ref_rgb, ref_hsv, flow) -> torch.Tensor:
        """MDG features of comparisons: (B, 3|4, h, w) frames (see :meth:`_with_red`),
        (B, 3, h, w) HSV and (B, 2, h, w) flow -> (B, 2 * C_mdg)."""
        scale = self.diff_scale
        rgb_diff = cur_rgb - ref_rgb
        if not self.red_domain:
            rgb_diff = rgb_diff[:, :3]
        return avg_max_pool(self.mdg((rgb_diff * scale, (cur_hsv - ref_hsv) * scale,
                               flow * scale))[0])

    def _pair_diff(self, rgb, hsv, prev_rgb, prev_hsv) -> torch.Tensor:
        """MDCFM appearance input: (B, 6|7, h, w) scaled RGB, HSV (and Red-Mask)
        differences of consecutive frames."""
        rgb_diff = rgb - prev_rgb
        parts = [rgb_diff[:, :3], hsv - prev_hsv]
        if self.mdcfm.in_channels == 7:
            parts.append(rgb_diff[:, 3:4])
        return torch.cat(parts, dim=1) * self.diff_scale

    def _memory_flows(self, frames_uint8: np.ndarray, mem_idx: torch.Tensor,
                      cache: Optional[Dict[Tuple[int, int], np.ndarray]] = None
                      ) -> torch.Tensor:
        """DIS flow from every memory frame to the current frame: (T, M, 2, h, w).
        ``cache`` ((m, t) -> flow) may be shared by calls on the same frames."""
        num, size = mem_idx.shape
        flows = np.zeros((num, size) + frames_uint8.shape[1:3] + (2,), dtype=np.float32)
        cache = {} if cache is None else cache
        for t in range(num):
            for j, m in enumerate(mem_idx[t].tolist()):
                if m != t:  # a frame against itself: zero flow
                    flows[t, j] = self._cached_flow(frames_uint8, m, t, cache)
        return torch.from_numpy(flows).permute(0, 1, 4, 2, 3)

    @staticmethod
    def _cached_flow(frames_uint8: np.ndarray, m: int, t: int,
                     cache: Dict[Tuple[int, int], np.ndarray]) -> np.ndarray:
        """DIS flow from frame m to frame t of one sequence, computed once per pair."""
        if (m, t) not in cache:
            cache[(m, t)] = dis_flow(frames_uint8[m], frames_uint8[t])
        return cache[(m, t)]

    def extract_frame_features(self, rgb: torch.Tensor, hsv: torch.Tensor, flow: torch.Tensor,
                               rgb_uint8: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Per-frame features of a sequence, each computed once.

        Args:
            rgb (torch.Tensor): (T, 3|4, h, w) in [0, 1] (4: + pooled Red-Mask).
            hsv (torch.Tensor): (T, 3, h, w) in [0, 1].
            flow (torch.Tensor): (T, 2, h, w), entry t = flow t-1 -> t.
            rgb_uint8 (torch.Tensor): (T, 3|4, h, w) uint8 (its RGB gives the DIS flow to
                memory frames).

        Returns:
            tuple: frame features (T, D) and MDCFM logits (T, 2).
        """
        return self.extract_batch_features(
            [dict(rgb=rgb, hsv=hsv, flow=flow, rgb_uint8=rgb_uint8)])[0]

    def extract_batch_features(self, sequences: Sequence[dict],
                               clean_views: Optional[Sequence[Optional[Sequence[bool]]]] = None,
                               state_veto: bool = False, return_clean: bool = False
                               ) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """:meth:`extract_frame_features` of several sequences with one MDCFM and one
        MDG call (fewer, larger operations: much faster on a CPU).

        Args:
            sequences (Sequence[dict]): ``rgb``, ``hsv``, ``flow``, ``rgb_uint8`` each.
            clean_views (Sequence[Sequence[bool] | None], optional): Per sequence
                and frame t, whether I_{t-1} is a clean view (the eq. 1 decision);
                None entries (or no list) use the decision of MDCFM. Training with
                ``teacher_memory`` passes the labels.
            state_veto (bool): Apply ``memory_state_veto`` (inference: ``predict``), the
                stream's rule: I_{t-1} stays out of the memory when frame t's state
                probability reaches the veto; decided frame by frame as the stream does
                (:meth:`_state_veto_features`).
            return_clean (bool): Also return the memory decisions used, per sequence
                (list of T_i bools; None without the memory).

        Returns:
            list[tuple]: (features (T_i, D), MDCFM logits (T_i, 2)) per sequence (and
            the decisions with ``return_clean``).
        """
        lengths = [seq['rgb'].shape[0] for seq in sequences]
        rgb = self._with_red(torch.cat([seq['rgb'] for seq in sequences]))
        hsv = torch.cat([seq['hsv'] for seq in sequences])
        flow = torch.cat([seq['flow'] for seq in sequences])
        # previous frame of each frame, within its own sequence (frame 0: itself)
        prev_index, offset = [], 0
        for length in lengths:
            prev_index += [offset] + list(range(offset, offset + length - 1))
            offset += length
        prev_index = torch.as_tensor(prev_index, device=rgb.device)
        mdcfm_logits = self.mdcfm(self._pair_diff(rgb, hsv, rgb[prev_index], hsv[prev_index]),
                                  flow * self.diff_scale)
        clean = None
        if self.use_memory:
            with torch.no_grad():
                clean = self.mdcfm.is_clean(mdcfm_logits).cpu().tolist()
            if clean_views is not None:
                offset = 0
                for length, given in zip(lengths, clean_views):
                    if given is not None:
                        clean[offset:offset + length] = [bool(c) for c in given]
                    offset += length
        frames_np = [seq['rgb_uint8'][:, :3].permute(0, 2, 3, 1).cpu().numpy()
                     for seq in sequences] if self.use_memory else None
        flow_caches: List[dict] = [{} for _ in sequences]
        if state_veto and self.memory_state_veto is not None:  # (needs memory, state head)
            feats, clean = self._state_veto_features(rgb, hsv, flow, prev_index, mdcfm_logits,
                                                     clean, lengths, frames_np, flow_caches)
        else:
            feats = self._memory_features(rgb, hsv, flow, prev_index, mdcfm_logits, clean,
                                          lengths, frames_np, flow_caches)
        out = list(zip(feats.split(lengths), mdcfm_logits.split(lengths)))
        if not return_clean:
            return out
        offsets = np.cumsum([0] + list(lengths))
        return out, [None if clean is None else clean[a:b]
                     for a, b in zip(offsets[:-1], offsets[1:])]

    def _memory_features(self, rgb: torch.Tensor, hsv: torch.Tensor, flow: torch.Tensor,
                         prev_index: torch.Tensor, mdcfm_logits: torch.Tensor,
                         clean: Optional[List[bool]], lengths: Sequence[int],
                         frames_np: Optional[List[np.ndarray]], flow_caches: List[dict]
                         ) -> torch.Tensor:
        """(sum T, D) frame features of the batched sequences: each frame against its
        previous frame and (``use_memory``) against the clean-view memory that the
        eq. 1 decisions ``clean`` build (:meth:`MDCFM.memory_indices` per sequence)."""
        total = rgb.shape[0]
        cur_index, ref_index, ref_flows = [torch.arange(total, device=rgb.device)], [
            prev_index], [flow]
        size = self.mdcfm.memory_size
        if self.use_memory:
            offset = 0
            mem_rows, mem_flows = [], []
            for frames, length, cache in zip(frames_np, lengths, flow_caches):
                mem_idx = self.mdcfm.memory_indices(clean[offset:offset + length])  # (T, M)
                mem_flows.append(self._memory_flows(frames, mem_idx, cache))
                mem_rows.append(mem_idx + offset)
                offset += length
            mem_idx = torch.cat(mem_rows).to(rgb.device)  # (sum T, M)
            cur_index.append(torch.arange(total, device=rgb.device).repeat_interleave(size))
            ref_index.append(mem_idx.reshape(-1))
            mem_flow = torch.cat(mem_flows).to(rgb.device)
            ref_flows.append(mem_flow.reshape((-1,) + mem_flow.shape[2:]))
        cur_index, ref_index = torch.cat(cur_index), torch.cat(ref_index)
        compared = self._compare(rgb[cur_index], hsv[cur_index], rgb[ref_index],
                                 hsv[ref_index], torch.cat(ref_flows))
        parts = [compared[:total]]
        if self.use_memory:
            mem_feats = compared[total:].view(total, size, -1)
            parts += [mem_feats.mean(1), mem_feats.amax(1)]
        parts.append(mdcfm_logits)
        return self.frame_proj(torch.cat(parts, dim=1))

    @torch.no_grad()
    def _state_veto_features(self, rgb, hsv, flow, prev_index, mdcfm_logits, clean, lengths,
                             frames_np, flow_caches) -> Tuple[torch.Tensor, List[bool]]:
        """Frame features under ``memory_state_veto`` and the memory decisions taken:
        I_{t-1} enters the memory when eq. 1 says clean (``clean``) *and* the state
        head's P(bleeding) of frame t, computed against the memory built so far, stays
        below the veto (:func:`state_vetoes`, the stream's rule). Frame by frame, as the
        stream decides, with the sequences of the batch side by side; the comparison with
        the previous frame does not depend on the memory and is computed once."""
        size = self.mdcfm.memory_size
        prev_part = self._compare(rgb, hsv, rgb[prev_index], hsv[prev_index], flow)
        offsets = [int(o) for o in np.cumsum([0] + list(lengths))]
        memories = [self.mdcfm.new_memory() for _ in lengths]
        counts = [0] * len(lengths)  # frames kept out since the memory last grew
        decided = list(clean)
        feats = None
        for t in range(max(lengths)):
            live = [i for i, length in enumerate(lengths) if t < length]
            cur, ref, flows = [], [], []
            for i in live:
                if t == 0:
                    memories[i].push(0)
                for m in memories[i].padded():
                    cur.append(offsets[i] + t)
                    ref.append(offsets[i] + m)
                    flows.append(np.zeros(frames_np[i].shape[1:3] + (2,), np.float32)
                                 if m == t else
                                 self._cached_flow(frames_np[i], m, t, flow_caches[i]))
            mem_flow = torch.from_numpy(np.stack(flows)).permute(0, 3, 1, 2).to(rgb.device)
            mem_feats = self._compare(rgb[cur], hsv[cur], rgb[ref], hsv[ref], mem_flow)
            mem_feats = mem_feats.view(len(live), size, -1)
            rows = [offsets[i] + t for i in live]
            frame = self.frame_proj(torch.cat([prev_part[rows], mem_feats.mean(1),
                                               mem_feats.amax(1), mdcfm_logits[rows]], dim=1))
            if feats is None:
                feats = frame.new_zeros((rgb.shape[0], frame.shape[1]))
            feats[rows] = frame
            probs = self.state_fc(frame)[:, 0].sigmoid().tolist()
            for i, row, prob in zip(live, rows, probs):
                if t == 0:
                    continue
                keep = bool(clean[row])
                if keep and state_vetoes(self, counts[i], partial(float, prob)):
                    keep = False
                    counts[i] += 1
                elif keep:
                    counts[i] = 0
                    memories[i].push(t - 1)
                decided[row] = keep
        return feats, decided

    def _windows(self, feats: torch.Tensor, starts: Sequence[int]) -> torch.Tensor:
        """(T, D) frame features -> (len(starts), N, D) (``window_frame_index``: warm-up
        windows repeat the first frame, a short clip without warm-up its last one)."""
        if not len(starts):  # a clip shorter than warmup_min_frames: no window
            return feats.new_zeros((0, self.window_size) + tuple(feats.shape[1:]))
        index = torch.as_tensor(window_frame_index(starts, self.window_size, feats.shape[0]),
                                device=feats.device)
        return feats[index]

    def _clip_windows(self, num_frames: int, first: Optional[int] = None,
                      stride: int = 1) -> List[int]:
        return window_starts(num_frames, self.window_size, first, stride, self.warmup_windows,
                             self.warmup_min_frames)

    # ----------------------------------------------------------------- source branch
    def source_heatmap(self, image: torch.Tensor) -> torch.Tensor:
        """(B, Ci, H, W) source input -> (B, 1, H, W) heatmap."""
        return self.source_head(self.encoder(image))

    def source_point(self, image: torch.Tensor) -> Tuple[float, float, float]:
        """(1, Ci, H, W) source input -> (x, y, score) in input pixels: the head's decoder
        (the heatmap codec's argmax and sub-pixel refinement), the one decode of the
        dataset path (``predict``) and the streaming path (:meth:`locate`)."""
        pred = self.source_head.predict(self.encoder(image))[0]
        x, y = np.asarray(pred.keypoints, dtype=np.float64).reshape(-1)[:2]
        return float(x), float(y), float(np.asarray(pred.keypoint_scores).reshape(-1)[0])

    # ------------------------------------------------------------------------- modes
    def branch_parameters(self) -> Dict[str, List[nn.Parameter]]:
        """Trainable parameters of the onset and the source branch."""
        source = [p for m in (self.encoder, self.source_head) for p in m.parameters()]
        ids = {id(p) for p in source}
        onset = [p for p in self.parameters() if id(p) not in ids]
        return dict(onset=[p for p in onset if p.requires_grad],
                    source=[p for p in source if p.requires_grad])

    def train_step(self, data, optim_wrapper) -> Dict[str, torch.Tensor]:
        """``BaseModel.train_step`` with the gradient clipped per branch
        (``branch_clip``); logs ``grad_norm_onset`` and ``grad_norm_source``."""
        if self.branch_clip is None:
            return super().train_step(data, optim_wrapper)
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        parsed_losses, log_vars = self.parse_losses(losses)
        optim_wrapper.backward(optim_wrapper.scale_loss(parsed_losses))
        if optim_wrapper.should_update():
            for name, params in self.branch_parameters().items():
                params = [p for p in params if p.grad is not None]
                if params:
                    norm = nn.utils.clip_grad_norm_(params, self.branch_clip)
                    log_vars[f'grad_norm_{name}'] = norm.detach()
            optim_wrapper.step()
            optim_wrapper.zero_grad()
        return log_vars

    def forward(self, inputs: list, data_samples: Optional[list] = None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self._forward(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')

    @staticmethod
    def _split(inputs, data_samples):
        onset, source = [], []
        for item, sample in zip(inputs, data_samples):
            task = sample.metainfo.get('task')
            if task == 'onset':
                onset.append((item, sample))
            elif task == 'source':
                source.append((item, sample))
            else:
                raise ValueError(f'data sample of clip {sample.metainfo.get("clip_id")}: task '
                                 f'{task!r} is neither "onset" nor "source"')
        return onset, source

    def _forward(self, inputs, data_samples):
        """Raw outputs: per onset item (loc logits, conf logits) of every window, per
        source item its heatmaps."""
        outputs = []
        onset, source = self._split(inputs, data_samples)
        for item, _ in onset:
            feats, _ = self.extract_frame_features(item['rgb'], item['hsv'], item['flow'],
                                                   item['rgb_uint8'])
            starts = self._clip_windows(feats.shape[0])
            outputs.append(self.onset_head(self._windows(feats, starts)))
        for item, _ in source:
            outputs.append(self.source_heatmap(item))
        return outputs

    def loss(self, inputs: list, data_samples: list) -> Dict[str, torch.Tensor]:
        onset, source = self._split(inputs, data_samples)
        losses: Dict[str, torch.Tensor] = {}
        if onset:
            windows, positions, logits, app_t, mot_t, app_ws = [], [], [], [], [], []
            states, state_t = [], []
            targets_all = []
            for item, sample in onset:
                targets_all.append(mdcfm_targets(item['flow'], sample.metainfo.get('onset_index'),
                                                 self.motion_threshold,
                                                 self.mdcfm_appearance_horizon))
            clean_views = None
            if self.teacher_memory > 0 and self.use_memory:
                # Labelled clean view: I_{t-1} precedes the onset and the pair is still.
                # Each is stored with a per-sequence probability q ~ U(0, 1), so the
                # comparisons meet memories of every staleness, from "previous frame" to
                # "first frame of the video", and whatever MDCFM stores before the onset
                # at inference stays in distribution. None: the memory follows MDCFM.
                clean_views = []
                for app, mot, _ in targets_all:
                    if float(torch.rand(())) >= self.teacher_memory:
                        clean_views.append(None)
                        continue
                    keep = torch.rand(app.shape[0], device=app.device) < float(torch.rand(()))
                    clean_views.append(((1 - app) * (1 - mot)).bool().logical_and(keep).tolist())
            if self.train_state_veto and self.use_memory:
                # the model's own memories, as inference builds them with the veto
                given = clean_views or [None] * len(onset)
                own = [i for i, c in enumerate(given) if c is None]
                if own:
                    with torch.no_grad():
                        _, settled = self.extract_batch_features(
                            [onset[i][0] for i in own], state_veto=True, return_clean=True)
                    given = list(given)
                    for i, decisions in zip(own, settled):
                        given[i] = decisions
                clean_views = given
            batch_feats = self.extract_batch_features([item for item, _ in onset], clean_views)
            for (_, sample), (feats, mdcfm_logits), (appearance, motion, app_w) in zip(
                    onset, batch_feats, targets_all):
                meta = sample.metainfo
                onset_index = meta.get('onset_index')
                starts = self._clip_windows(feats.shape[0], meta.get('window_start_min', 0),
                                            self.train_window_stride)
                windows.append(self._windows(feats, starts))
                for s in starts:
                    pos = -1 if onset_index is None else onset_index - s
                    positions.append(pos if 0 <= pos < self.window_size else -1)
                logits.append(mdcfm_logits[1:])
                app_t.append(appearance[1:])
                mot_t.append(motion[1:])
                app_ws.append(app_w[1:])
                if self.state_fc is not None:
                    index = torch.arange(feats.shape[0], device=feats.device)
                    states.append(self.state_fc(feats)[:, 0])
                    state_t.append(torch.zeros_like(index, dtype=feats.dtype)
                                   if onset_index is None else (index >= onset_index).to(
                                       feats.dtype))
            losses.update(self.onset_head.loss(
                torch.cat(windows), torch.as_tensor(positions, device=windows[0].device)))
            logits = torch.cat(logits)
            targets = torch.stack([torch.cat(app_t), torch.cat(mot_t)], dim=1)
            app_w = torch.cat(app_ws)
            if self.mdcfm_balance:
                # balance the rare "bleeding" pairs against the many clean ones
                positives = (app_w * targets[:, 0]).sum()
                negatives = (app_w * (1 - targets[:, 0])).sum()
                ratio = (negatives / positives.clamp(min=1)).clamp(1.0, 10.0)
                app_w = app_w * torch.where(targets[:, 0] > 0, ratio, torch.ones_like(ratio))
            weights = torch.stack([app_w, torch.ones_like(targets[:, 1])], dim=1)
            losses['loss_mdcfm'] = self.mdcfm_loss_weight * (F.binary_cross_entropy_with_logits(
                logits, targets, reduction='none') * weights).sum() / weights.sum().clamp(min=1)
            if self.state_fc is not None:
                losses['loss_onset_state'] = self.state_loss_weight * \
                    F.binary_cross_entropy_with_logits(torch.cat(states), torch.cat(state_t))
        if source:
            images = torch.cat([item for item, _ in source])
            frame_samples = [s for _, sample in source for s in sample.frame_samples]
            losses.update(self.source_head.loss(self.encoder(images), frame_samples))
        if not losses:
            raise ValueError('BleedOriginDetector.loss: empty batch')
        return losses

    @torch.no_grad()
    def predict(self, inputs: list, data_samples: list) -> List[BaseDataElement]:
        results = []
        for item, sample in zip(inputs, data_samples):
            meta = sample.metainfo
            out = BaseDataElement(metainfo=dict(task=meta['task'], clip_id=meta.get('clip_id')))
            if meta['task'] == 'onset':
                if meta.get('colour_anchor') != self.colour_anchor:
                    raise ValueError(
                        f"BleedOriginDetector.predict: clip {meta.get('clip_id')} was cached "
                        f"with colour_anchor={meta.get('colour_anchor')} but the model's is "
                        f'{self.colour_anchor}; set the onset datasets\' colour_anchor and '
                        "the model's alike (the stream turns frames by the model's)")
                # the video and its flip views (onset_views) in one batched pass
                views = [dict(rgb=item['rgb'], hsv=item['hsv'], flow=item['flow'],
                              rgb_uint8=item['rgb_uint8'])]
                views += [flip_onset_sequence(item, view) for view in self.onset_views]
                view_feats = [f for f, _ in self.extract_batch_features(views, state_veto=True)]
                feats = view_feats[0]
                num = int(meta.get('num_frames', feats.shape[0]))
                starts = self._clip_windows(feats.shape[0])
                thetas, confs = zip(*[self.onset_head.predict(self._windows(f, starts))
                                      for f in view_feats])
                theta, conf = combine_views(thetas, confs, self.onset_view_reduce,
                                            self.onset_view_theta)
                start0 = int(meta.get('segment_start', 0))
                # eq. 2 window by window with the online step's rule (update_window_onset,
                # what StreamDetector runs per frame); the windows are the stream's
                onset, run = None, WindowRun(self.onset_confirm)
                for start, th, cf in zip(starts, theta.tolist(), conf.tolist()):
                    onset = update_window_onset(onset, start + start0, th, cf,
                                                self.window_size, self.conf_thr, run)
                out.pred_onset = None if onset is None else min(onset, num - 1)
                if self.onset_refiner is not None and self.onset_decoder == 'window':
                    # the refiner reads the clip's frames as the stream receives them
                    clip = meta.get('clip')
                    if clip is None:
                        raise ValueError('BleedOriginDetector.predict: the onset refiner needs '
                                         "the clip's frames (metainfo 'clip', set by "
                                         'BleedOnsetDataset)')
                    read_frames = self.clip_refine_reader(clip, meta.get('hue_steps', 0))
                    last_frame = start0 + feats.shape[0] - 1
                    if self.onset_refine_confirm:
                        # eq. 2 proposes at onset_candidate_thr, the refiner confirms
                        cascade = self._cascade_onset(starts, theta.tolist(), conf.tolist(),
                                                      start0, last_frame, read_frames)
                        out.pred_onset, out.pred_onset_coarse = (cascade.onset,
                                                                 cascade.candidate)
                    else:
                        out.pred_onset_coarse = out.pred_onset
                        if onset is not None and refine_ready(
                                out.pred_onset, self.onset_refiner.radius, last_frame):
                            out.pred_onset = self.refine_onset(out.pred_onset, read_frames,
                                                               last_frame=last_frame)
                out.max_confidence = float(conf.max()) if conf.numel() else 0.0
                if self.state_fc is not None:
                    probs = self.state_fc(feats)[:num, 0].sigmoid().tolist()
                    state_onset = onset_from_states(probs, self.state_thr, self.state_run)
                    out.pred_onset_state = None if state_onset is None else state_onset + start0
                    if self.onset_decoder == 'state':
                        out.pred_onset_window = out.pred_onset
                        out.pred_onset = out.pred_onset_state
                out.gt_onset = meta.get('gt_onset')
                out.num_frames = num
            else:
                x, y, score = self.source_point(item[:1])
                sx, sy = meta['scale_factor']
                out.pred_point = [float(x) / sx, float(y) / sy]
                out.score = score
                if item.shape[1] == 6:
                    # classical baseline on the same input (a row of Table 4)
                    bx, by = red_difference_argmax(item[0])
                    out.baseline_points = {'red_diff_argmax': [bx / sx, by / sy]}
                out.gt_point = meta.get('gt_point')
                out.gt_sources = meta.get('gt_sources')
                out.ori_shape = meta['ori_shape']
            results.append(out)
        return results

    # ------------------------------------------- online step (state passed in)
    # The model holds no stream: ``bleedorigin.apis.StreamDetector`` owns an
    # ``OnsetStreamState`` per video and calls ``onset_inputs`` (the one preprocessing
    # step) and ``models.utils.onset_stream_update``, which calls the pieces below.
    def onset_inputs(self, frame: np.ndarray) -> Tuple[np.ndarray, torch.Tensor, torch.Tensor]:
        """The dataset's preprocessing of one frame (``onset_frame_input``, then what
        ``MultiDomainInputs`` and ``BleedDataPreprocessor`` do): (h, w, 3) uint8 RGB,
        (1, 3|4, h, w) float input and (1, 3, h, w) HSV, on the model's device."""
        check_rgb_frame(frame)
        inp = onset_frame_input(frame, self.onset_input_size, self.onset_red_pool)
        small = np.ascontiguousarray(inp[..., :3])
        rgb = self._with_red(torch.from_numpy(inp).permute(2, 0, 1)[None].float().div_(255.0))
        hsv = torch.from_numpy(rgb_to_hsv01(small)).permute(2, 0, 1)[None]
        device = next(self.parameters()).device
        return small, rgb.to(device), hsv.to(device)

    def frame_feature(self, current: tuple, previous: tuple, memory: Optional[Sequence[tuple]]
                      ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Feature of one streamed frame (one row of :meth:`extract_frame_features`).

        Args:
            current, previous (tuple): :meth:`onset_inputs` of the frame and of the one before.
            memory (Sequence[tuple], optional): The padded clean-view memory (M entries
                of :meth:`onset_inputs`); None without memory (``use_memory=False``).

        Returns:
            tuple: frame feature (D,) and MDCFM logits (1, 2).
        """
        feats, logits = self.frame_features([(current, previous, memory)])
        return feats[0], logits

    def frame_features(self, views: Sequence[tuple], memory_flow: Any = None
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
        """:meth:`frame_feature` of one streamed frame seen through V views at once.

        Every view (the video and its flip views, each with its own previous frame and
        clean-view memory) goes through MDCFM, MDG and the projection in one batch: the
        same features as V calls of :meth:`frame_feature`, with one call of each network
        per frame instead of one MDCFM, two MDG and one projection call per view.

        Args:
            views (Sequence[tuple]): V ``(current, previous, memory)`` as
                :meth:`frame_feature` takes them.
            memory_flow (optional): :meth:`memory_flows` of ``views``, already computed
                (an array) or being computed (a future, whose ``result()`` is read once
                MDCFM has run); None (default): computed here.

        Returns:
            tuple: frame features (V, D) and MDCFM logits (V, 2).
        """
        if not views:
            raise ValueError('frame_features: no view given')
        rgb, hsv, p_rgb, p_hsv = (torch.cat([item[k][i] for item in views])
                                  for k, i in ((0, 1), (0, 2), (1, 1), (1, 2)))
        device = rgb.device

        def as_tensor(flows: np.ndarray) -> torch.Tensor:
            # (V, h, w, 2) viewed as (V, 2, h, w), the layout MDCFM's flow norm is fast on
            return torch.from_numpy(flows).permute(0, 3, 1, 2).to(device)

        flow = as_tensor(np.stack([dis_flow(prev[0], cur[0]) for cur, prev, _ in views]))
        logits = self.mdcfm(self._pair_diff(rgb, hsv, p_rgb, p_hsv), flow * self.diff_scale)
        if not self.use_memory:
            parts = [self._compare(rgb, hsv, p_rgb, p_hsv, flow)]
        else:
            # the pairs with the previous frame, then every view's memory entries, in one
            # MDG call
            counts = [len(memory) for _, _, memory in views]
            entries = [m for _, _, memory in views for m in memory]
            if memory_flow is None:
                memory_flow = self.memory_flows(views)
            elif hasattr(memory_flow, 'result'):
                memory_flow = memory_flow.result()
            if len(memory_flow) != len(entries):
                raise ValueError(f'frame_features: memory_flow holds {len(memory_flow)} '
                                 f'flows for {len(entries)} memory entries')
            repeat = torch.tensor(counts, device=device)
            compared = self._compare(
                torch.cat([rgb, rgb.repeat_interleave(repeat, dim=0)]),
                torch.cat([hsv, hsv.repeat_interleave(repeat, dim=0)]),
                torch.cat([p_rgb] + [m[1] for m in entries]),
                torch.cat([p_hsv] + [m[2] for m in entries]),
                torch.cat([flow, as_tensor(memory_flow)]))
            mem_feats = compared[len(views):].split(counts)
            parts = [compared[:len(views)],
                     torch.stack([f.mean(0) for f in mem_feats]),
                     torch.stack([f.amax(0) for f in mem_feats])]
        parts.append(logits)
        return self.frame_proj(torch.cat(parts, dim=1)), logits

    @staticmethod
    def memory_flows(views: Sequence[tuple]) -> np.ndarray:
        """DIS flows from every view's clean-view memory entries to its current frame,
        (sum of M, h, w, 2) float32 in the order :meth:`frame_features` reads them.
        Touches no tensor and no module, so it may run in another thread."""
        flows = [dis_flow(m[0], cur[0]) for cur, _, memory in views for m in memory]
        if not flows:
            height, width = views[0][0][0].shape[:2]
            return np.zeros((0, height, width, 2), np.float32)
        return np.stack(flows)

    def state_probability(self, feat: torch.Tensor) -> Optional[float]:
        """P(bleeding) of one (D,) frame feature from the state head; None without one."""
        if self.state_fc is None:
            return None
        return float(self.state_fc(feat)[0].sigmoid())

    def is_clean_view(self, logits: torch.Tensor) -> bool:
        """Eq. 1 decision on (1, 2) MDCFM logits: the previous frame enters the memory."""
        return bool(self.mdcfm.is_clean(logits)[0])

    def window_prediction(self, window: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(B, N, D) windows (B = 1, or one per flip view) -> theta (B,) and S_conf (B,)."""
        return self.onset_head.predict(window)

    def make_colour_anchor(self) -> Optional[ColourAnchor]:
        """A fresh :class:`ColourAnchor` for one video (None without ``colour_anchor``)."""
        return ColourAnchor.build(self.colour_anchor)

    def clip_refine_reader(self, clip, hue_steps: int = 0):
        """Frame indices -> :func:`refine_frame` images of ``clip`` (a ``ClipRecord``),
        decoded in full as the stream receives them and turned by ``hue_steps`` (the
        colour anchor's turn of the clip the dataset decided, as the stream turns them)."""
        return lambda indices: [
            refine_frame(anchor_turn(f, hue_steps), self.onset_refine_size)
            for f in clip.load_frames(indices)]

    def refine_windows(self, onset: int, last_frame: Optional[int] = None) -> List[int]:
        """Centres of the refiner windows :meth:`refine_onset` may read for eq. 2's
        ``onset``, in the order it tries them: theta, then theta + j (2R + 1) for each
        ``onset_refine_search`` shift j whose candidates lie in the video (from frame
        0 to ``last_frame``, the newest frame; None: no upper limit)."""
        radius = self.onset_refiner.radius
        span = 2 * radius + 1
        centres = [onset]
        for j in self.onset_refine_search:
            centre = onset + j * span
            if centre - radius >= 0 and (last_frame is None
                                         or refine_ready(centre, radius, last_frame)):
                centres.append(centre)
        return centres

    @torch.no_grad()
    def refine_onset(self, onset: int, read_frames, last_frame: Optional[int] = None) -> int:
        """The onset refiner's answer for eq. 2's ``onset`` (the offline and the streaming
        path both call this).

        Args:
            onset (int): Eq. 2's onset frame theta.
            read_frames (callable): Frame indices -> their :func:`refine_frame` images
                (``onset_refine_size``), in order.
            last_frame (int, optional): The newest frame that exists (the clip's last
                offline, the current one in a stream): ``onset_refine_search`` windows
                beyond it are not tried. The window at theta needs theta + R.

        Returns:
            int: The frame of theta - R .. theta + R the refiner names; if it names none,
            the frame the first ``onset_refine_search`` window that names one names; else
            theta.
        """
        return self.refine_search(onset, read_frames, last_frame)[0]

    @torch.no_grad()
    def refine_search(self, onset: int, read_frames, last_frame: Optional[int] = None,
                      ask: Optional[Callable[[int], Optional[int]]] = None
                      ) -> Tuple[int, Optional[int]]:
        """:meth:`refine_onset` and the centre of the window that named the frame (None:
        no window named one, the onset is theta). ``ask`` (window centre -> the frame
        named there, or None) replaces :meth:`refine_window` over ``read_frames``, e.g.
        with a cache of its answers."""
        if ask is None:
            ask = partial(self.refine_window, read_frames=read_frames)
        for centre in self.refine_windows(onset, last_frame):
            named = ask(centre)
            if named is not None:
                return named, centre
        return onset, None

    @torch.no_grad()
    def refine_window(self, centre: int, read_frames) -> Optional[int]:
        """The frame of ``centre - R .. centre + R`` the refiner names (None: none of
        them); ``read_frames`` as in :meth:`refine_onset`."""
        radius = self.onset_refiner.radius
        frames = read_frames(refine_frame_indices(centre, radius))
        # where: the source branch on the last candidate against the frame before the
        # first, in the refiner frames' pixels
        x, y, _ = self.locate(frames[-1], reference=frames[0])
        crops = refine_crops(frames, (x, y), self.onset_refiner.crop)
        device = next(self.parameters()).device
        position, _ = self.onset_refiner.refine(refine_input(crops).to(device))
        return None if position is None else refined_onset(centre, radius, position)

    def make_refine_cascade(self) -> Optional[RefineCascade]:
        """A fresh :class:`RefineCascade` for one video (None without
        ``onset_refine_confirm``)."""
        if not self.onset_refine_confirm:
            return None
        return RefineCascade(self.refine_windows, self.onset_refiner.radius)

    def _cascade_onset(self, starts, theta, conf, start0: int, last_frame: int,
                       read_frames) -> RefineCascade:
        """Offline :class:`RefineCascade` over a clip's windows (``starts`` relative to
        ``start0``), stepped frame by frame as the stream steps it."""
        cascade = self.make_refine_cascade()
        ends = {start + start0 + self.window_size - 1: (start + start0, th, cf)
                for start, th, cf in zip(starts, theta, conf)}
        ask = partial(self.refine_window, read_frames=read_frames)
        for t in range(start0, last_frame + 1):
            if t in ends:
                start, th, cf = ends[t]
                cascade.propose(window_onset(start, th, cf, self.window_size,
                                             self.onset_candidate_thr))
            if cascade.step(t, ask) is not None:
                break
        return cascade

    def buffer_frame(self, frame: np.ndarray) -> np.ndarray:
        """A streamed frame at the source size, kept as a possible reference (bilinear:
        this runs on every frame, only the reference is ever used)."""
        return cv2.resize(frame, self.source_input_size, interpolation=cv2.INTER_LINEAR)

    # -------------------------------------------- deprecated: a stream on the model
    # Kept so older scripts run; new code wraps the model in bleedorigin.apis.StreamDetector.
    def reset_stream(self) -> None:
        """Deprecated: forget the model's own stream (``StreamDetector.reset``)."""
        self._stream = None

    def _own_stream(self):
        if getattr(self, '_stream', None) is None:
            warnings.warn('BleedOriginDetector.reset_stream/stream_step/locate_source on the '
                          'model are deprecated: wrap it in bleedorigin.apis.StreamDetector',
                          DeprecationWarning, stacklevel=3)
            self._stream = OnsetStreamState.for_model(self)
        return self._stream

    def stream_step(self, frame: np.ndarray) -> dict:
        """Deprecated: :func:`~bleedorigin.models.utils.onset_stream_update` on the model's
        own stream."""
        state = self._own_stream()
        return onset_stream_step(self, state, frame)

    def source_input(self, frame_small: np.ndarray, reference_small: np.ndarray) -> torch.Tensor:
        """(H, W, 3) uint8 frame and reference at the source size -> (1, 6, H, W) input."""
        cur = torch.from_numpy(frame_small).permute(2, 0, 1).float() / 255.0
        ref = torch.from_numpy(reference_small).permute(2, 0, 1).float() / 255.0
        channels = self.source_head.image_channels
        image = cur if channels == 3 else torch.cat([cur, cur - ref])
        return image[None]

    @torch.no_grad()
    def locate(self, frame: np.ndarray, reference: Optional[np.ndarray] = None,
               reference_small: Optional[np.ndarray] = None) -> Tuple[float, float, float]:
        """Bleeding source in ``frame`` (pixel coordinates of that frame).

        Args:
            frame (np.ndarray): (H, W, 3) uint8 RGB, normally the onset frame.
            reference (np.ndarray, optional): Earlier (pre-onset) frame, same size.
            reference_small (np.ndarray, optional): A reference already at the source
                size (:meth:`buffer_frame`), used when ``reference`` is None. Without
                either the frame is its own reference.

        Returns:
            tuple: (x, y, score).
        """
        check_rgb_frame(frame)
        height, width = frame.shape[:2]
        cur = cv2.resize(frame, self.source_input_size, interpolation=cv2.INTER_AREA)
        if reference is not None:
            check_rgb_frame(reference)
            ref = cv2.resize(reference, self.source_input_size, interpolation=cv2.INTER_AREA)
        else:
            ref = cur if reference_small is None else reference_small
        if self.align_reference and ref is not cur:
            ref = align_to(ref, cur)
        device = next(self.parameters()).device
        x, y, score = self.source_point(self.source_input(cur, ref).to(device))
        in_w, in_h = self.source_input_size
        # same convention as the datasets: x_input = x_frame * (W / frame width)
        return x * width / in_w, y * height / in_h, score

    def locate_source(self, frame: np.ndarray, reference: Optional[np.ndarray] = None
                      ) -> Tuple[float, float, float]:
        """Deprecated: :meth:`locate` with the reference taken from the model's own stream
        (``StreamDetector.locate_source``)."""
        state = self._own_stream()
        small = None
        if reference is None:
            small = pick_reference(state.frames, reference_anchor(state), self.reference_offset)
        return self.locate(frame, reference, small)
