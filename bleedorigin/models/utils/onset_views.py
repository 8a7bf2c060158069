"""Flip views of the onset branch (test-time augmentation of eq. 2's windows).

The onset branch is trained on horizontally and vertically flipped clips
(``SequenceRandomFlip``), so a flipped video is as much its input as the video itself.
With ``BleedOriginDetector(onset_views=('horizontal',))`` the detector runs the branch on
the video and on its mirror image, each view with its own clean-view memory and window
of frame features, and eq. 2 decides on the views' combined window: the mean (or the
minimum) of their S_conf, and the theta of the most confident view (or their mean).

A view is made from the *preprocessed* onset input (``onset_frame_input``, then the
HSV of ``onset_inputs``), not from the full frame, so the dataset path and the
streaming path build the same view with no second resize: offline,
:func:`flip_onset_sequence` flips a packed clip and recomputes its DIS flow from the
flipped frames; online, :func:`flip_onset_inputs` flips one frame's inputs and
``frame_feature`` computes the flow from the flipped frames, as for the original view.
"""
from typing import Dict, Sequence, Tuple

import numpy as np
import torch

from .flow import sequence_flow

#: The flips a view may apply, and the axis each one reverses in an (..., H, W) tensor.
VIEW_AXES = dict(horizontal=-1, vertical=-2)

#: How the views' S_conf of one window are combined.
VIEW_REDUCTIONS = ('mean', 'min')

#: Which theta the combined window keeps: the most confident view's, or the views' mean.
VIEW_THETAS = ('confident', 'mean')


def check_views(views: Sequence[str], reduce: str, theta: str = 'confident',
                owner: str = 'BleedOriginDetector') -> Tuple[str, ...]:
    """Validated flip views (duplicates removed, order kept).

    Raises:
        ValueError: naming ``owner``, for an unknown view, reduction or theta rule.
    """
    if isinstance(views, str):
        views = (views,)
    unknown = [v for v in views if v not in VIEW_AXES and v != 'both']
    if unknown:
        raise ValueError(f'{owner}: onset_views must be a subset of '
                         f"{tuple(VIEW_AXES) + ('both',)}, got {tuple(views)}")
    if reduce not in VIEW_REDUCTIONS:
        raise ValueError(f'{owner}: onset_view_reduce must be one of {VIEW_REDUCTIONS}, '
                         f'got {reduce!r}')
    if theta not in VIEW_THETAS:
        raise ValueError(f'{owner}: onset_view_theta must be one of {VIEW_THETAS}, '
                         f'got {theta!r}')
    return tuple(dict.fromkeys(views))


def _axes(view: str) -> Tuple[int, ...]:
    return tuple(VIEW_AXES.values()) if view == 'both' else (VIEW_AXES[view],)


def flip_onset_inputs(current: tuple, view: str) -> tuple:
    """One frame's onset inputs (``onset_inputs``: (h, w, 3) uint8, (1, C, h, w) input,
    (1, 3, h, w) HSV) seen through ``view``."""
    small, rgb, hsv = current
    axes = _axes(view)
    # numpy's (h, w, 3): the tensor's -1 (width) is numpy's 1, -2 (height) is 0
    np_axes = tuple(1 if a == -1 else 0 for a in axes)
    return (np.ascontiguousarray(np.flip(small, axis=np_axes)), rgb.flip(axes),
            hsv.flip(axes))


def flip_onset_sequence(item: Dict[str, torch.Tensor], view: str) -> Dict[str, torch.Tensor]:
    """A packed onset clip (``rgb`` (T, C, h, w), ``hsv``, ``flow`` (T, 2, h, w),
    ``rgb_uint8``) seen through ``view``: the frames flipped, the flow recomputed from
    the flipped frames (what the streaming view computes, frame pair by frame pair)."""
    axes = _axes(view)
    rgb_uint8 = item['rgb_uint8'].flip(axes)
    frames = rgb_uint8[:, :3].permute(0, 2, 3, 1).cpu().numpy()
    flow = torch.from_numpy(sequence_flow(np.ascontiguousarray(frames))).permute(0, 3, 1, 2)
    return dict(rgb=item['rgb'].flip(axes), hsv=item['hsv'].flip(axes),
                flow=flow.to(item['flow']), rgb_uint8=rgb_uint8)


def combine_views(thetas: Sequence[torch.Tensor], confs: Sequence[torch.Tensor],
                  reduce: str = 'mean', theta: str = 'confident'
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """The windows' theta and S_conf over views.

    Args:
        thetas, confs (Sequence[torch.Tensor]): One (W,) tensor per view, same windows.
        reduce (str): ``'mean'`` or ``'min'`` of the views' S_conf.
        theta (str): ``'confident'``: each window keeps the theta of its most confident
            view (the first one on a tie); ``'mean'``: the views' mean theta.
    """
    if len(thetas) == 1:
        return thetas[0], confs[0]
    conf = torch.stack(list(confs))
    stacked = torch.stack(list(thetas))
    if theta == 'mean':
        position = stacked.mean(0)
    else:
        position = stacked.gather(0, conf.argmax(0, keepdim=True))[0]
    return position, conf.mean(0) if reduce == 'mean' else conf.amin(0)
