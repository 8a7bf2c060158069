"""Multi-Domain Confidence-based Frame Memory (MDCFM, paper 4.1.1, eq. 1)."""
from collections import deque
from typing import Any, List, Optional, Sequence, Tuple

import torch
from mmengine.model import BaseModule
from torch import nn

from bleedorigin.constants import MDCFM_FLOW_THRESHOLD, MDCFM_RGBHSV_THRESHOLD
from bleedorigin.registry import MODELS

from ..utils import avg_max_pool


def _conv(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    # no normalisation layer: these convs run on hundreds of small frame pairs per
    # step, where batch norm costs as much as the convolution on a CPU
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride, 1),
                         nn.ReLU(inplace=True))


@MODELS.register_module()
class MDCFM(BaseModule):
    """Scores a consecutive frame pair and decides whether I_{t-1} is a clean view.

    ``f_RGB-HSV``: the RGB and HSV differences I_t - I_{t-1} pass three
    convolutions; ``f_Flow``: the optical flow I_{t-1} -> I_t passes two. Both
    are pooled, concatenated and mapped by a fully connected layer and a sigmoid
    to two confidences (appearance change, motion). I_{t-1} is stored in the
    Confidence-based Frame Memory Storage (CFMS) only when both are below their
    thresholds (eq. 1).

    Note:
        B: number of frame pairs; h, w: onset-branch resolution.

    Args:
        channels (int): Width of the convolutions. Defaults to 16.
        alpha (float): Threshold of the RGB-HSV confidence. Defaults to
            ``MDCFM_RGBHSV_THRESHOLD`` (paper: 0.5).
        gamma (float): Threshold of the flow confidence. Defaults to
            ``MDCFM_FLOW_THRESHOLD`` (paper: 0.5).
        memory_size (int): Clean-view frames kept in the CFMS (oldest out).
        memory_stride (int): Keep every ``memory_stride``-th clean view that eq. 1
            passes (the first frame always): with 1 (the paper) the CFMS holds the most
            recent clean views; with k > 1 they lie about k clean frames apart, a longer
            baseline against which a slowly growing bleed stays visible after it has
            passed eq. 1's gate. Applies wherever the memory is built (training with
            MDCFM's decisions or the labels, the offline and the streaming paths) unless
            ``train_memory_stride`` is given.
        train_memory_stride (int, optional): The stride while the module is in training
            mode (``self.training``), e.g. 1 to train with the paper's memory and decode
            with a longer baseline. None (default): ``memory_stride`` in both modes.
        in_channels (int): Channels of the appearance difference: 6 (RGB + HSV) or 7
            (+ the Red-Mask difference).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self, channels: int = 16, alpha: float = MDCFM_RGBHSV_THRESHOLD,
                 gamma: float = MDCFM_FLOW_THRESHOLD,
                 memory_size: int = 3, in_channels: int = 6, memory_stride: int = 1,
                 train_memory_stride: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if memory_size < 1:
            raise ValueError(f'MDCFM: memory_size must be >= 1, got {memory_size}')
        if int(memory_stride) < 1:
            raise ValueError(f'MDCFM: memory_stride must be >= 1, got {memory_stride}')
        if train_memory_stride is not None and int(train_memory_stride) < 1:
            raise ValueError(f'MDCFM: train_memory_stride must be >= 1, '
                             f'got {train_memory_stride}')
        self.memory_stride = int(memory_stride)
        self.train_memory_stride = (None if train_memory_stride is None
                                    else int(train_memory_stride))
        self.alpha = alpha
        self.gamma = gamma
        self.memory_size = memory_size
        self.in_channels = in_channels
        self.rgbhsv_branch = nn.Sequential(
            _conv(in_channels, channels, 2), _conv(channels, channels, 2),
            _conv(channels, channels, 2))
        self.flow_branch = nn.Sequential(
            _conv(2, channels, 2), _conv(channels, channels, 2))
        # average and max pooling: a fresh drop of blood is a few pixels of the frame,
        # which an average alone dilutes below the noise of camera motion
        self.fc = nn.Linear(4 * channels + 2, 2)

    def forward(self, rgb_hsv_diff: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """Confidence logits of one or more frame pairs.

        Args:
            rgb_hsv_diff (torch.Tensor): (B, in_channels, h, w) I_t - I_{t-1} in RGB and
                HSV (and Red-Mask with 7 channels).
            flow (torch.Tensor): (B, 2, h, w) flow I_{t-1} -> I_t in pixels.

        Returns:
            torch.Tensor: (B, 2) logits of [appearance change, motion]; apply a
            sigmoid for the confidences of eq. 1.
        """
        magnitude = flow.norm(dim=1)  # (B, h, w)
        stats = torch.stack([magnitude.mean((1, 2)), magnitude.amax((1, 2))], dim=1)
        feats = torch.cat([avg_max_pool(self.rgbhsv_branch(rgb_hsv_diff)),
                           avg_max_pool(self.flow_branch(flow)),
                           torch.log1p(stats)], dim=1)
        return self.fc(feats)

    def is_clean(self, logits: torch.Tensor) -> torch.Tensor:
        """Eq. 1: (B, 2) logits -> (B,) bool, True when I_{t-1} is a clean view."""
        conf = logits.sigmoid()
        return (conf[:, 0] < self.alpha) & (conf[:, 1] < self.gamma)

    def memory_indices(self, clean: Sequence[bool]) -> torch.Tensor:
        """Memory content seen by every frame of a sequence, as frame indices.

        Frame 0 seeds the memory (the first view is the only reference there
        is). At frame t the pair (t-1, t) is scored; the memory used for frame t
        holds the frames stored before it, and t-1 is added afterwards when the
        pair is clean. Missing slots repeat the oldest stored frame.

        Args:
            clean (Sequence[bool]): (T,) output of :meth:`is_clean` per frame
                (entry t refers to the pair (t-1, t); entry 0 is ignored).

        Returns:
            torch.Tensor: (T, memory_size) long indices into the sequence.
        """
        memory = self.new_memory()
        rows: List[List[int]] = []
        for t, is_clean in enumerate(clean):
            if t == 0:
                memory.push(0)
            rows.append(memory.padded())
            if t > 0 and bool(is_clean):
                memory.push(t - 1)
        return torch.as_tensor(rows, dtype=torch.long).reshape(len(rows), self.memory_size)

    def new_memory(self) -> 'CleanViewMemory':
        """An empty CFMS of this module's size and stride (one per video and view;
        ``train_memory_stride`` in training mode when it is set)."""
        stride = self.memory_stride
        if self.training and self.train_memory_stride is not None:
            stride = self.train_memory_stride
        return CleanViewMemory(self.memory_size, stride)


class CleanViewMemory:
    """Bounded oldest-out store of clean-view items (the CFMS).

    Args:
        size (int): Capacity.
        stride (int): Store the 1st, (1 + stride)-th, (1 + 2 stride)-th ... item pushed
            (1: every item).
    """

    def __init__(self, size: int, stride: int = 1) -> None:
        if int(stride) < 1:
            raise ValueError(f'CleanViewMemory: stride must be >= 1, got {stride}')
        self.size = size
        self.stride = int(stride)
        self.items: deque = deque(maxlen=size)
        self.pushed = 0

    def push(self, item: Any) -> None:
        if self.pushed % self.stride == 0:
            self.items.append(item)
        self.pushed += 1

    def padded(self) -> List[Any]:
        """Items oldest first, padded with the oldest one to ``size`` entries."""
        items = list(self.items)
        return [items[0]] * (self.size - len(items)) + items

    def __len__(self) -> int:
        return len(self.items)

    def clear(self) -> None:
        self.items.clear()
        self.pushed = 0


def mdcfm_targets(flow: torch.Tensor, onset_index: Optional[int], motion_threshold: float,
                  appearance_horizon: Optional[int] = None
                  ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Supervision of the two MDCFM confidences for a sequence of frame pairs.

    The appearance confidence should fire when I_{t-1} already shows bleeding
    (t-1 >= onset); the motion confidence when the mean flow magnitude of the
    pair exceeds ``motion_threshold`` (camera jitter, instruments, flushing).

    MDCFM sees only the difference of two consecutive frames, which shows blood
    while it spreads; long after the onset a still pool looks like any other
    tissue. ``appearance_horizon`` limits the appearance supervision to that
    observable period: pairs with t-1 >= onset + horizon get weight 0.

    Args:
        flow (torch.Tensor): (T, 2, h, w) flow t-1 -> t.
        onset_index (int | None): Onset frame within the sequence (None: never).
        motion_threshold (float): Mean flow magnitude (pixels at h x w) above which
            a pair is "moving".
        appearance_horizon (int, optional): Frames after the onset during which
            the appearance target is supervised (None: all of them).

    Returns:
        tuple: appearance targets (T,), motion targets (T,), float 0/1, and the
        weights (T,) of the appearance targets.
    """
    num = flow.shape[0]
    index = torch.arange(num, device=flow.device)
    weight = torch.ones(num, device=flow.device)
    if onset_index is None:
        appearance = torch.zeros(num, device=flow.device)
    else:
        appearance = (index - 1 >= onset_index).float()
        if appearance_horizon is not None:
            weight = (index - 1 < onset_index + appearance_horizon).float()
    motion = (flow.norm(dim=1).mean((1, 2)) > motion_threshold).float()
    return appearance, motion, weight
