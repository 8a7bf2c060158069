"""The one preprocessing path of the onset refiner (a fine-resolution second look at the
frames around eq. 2's onset; issue 11, twelfth step, docs/detect.md).

Eq. 2 decides on a 64 x 48 grid, where the first drop of blood is under a cell. Once it
has an onset ``theta``, the refiner looks again at the ``2R + 2`` frames
``theta - R - 1 .. theta + R`` in a crop around the bleeding source, at the refiner's
working resolution, and names the frame of ``theta - R .. theta + R`` where bleeding
begins (or none of them).

Every frame goes through :func:`refine_frame` once (one resize of the decoded frame, as
the stream receives it), the crops through :func:`refine_crops` (slicing with edge
padding, no second resampling) and the network input through :func:`refine_input`. The
training set (``OnsetRefineDataset``), the offline path (``BleedOriginDetector.predict``)
and the streaming path (``onset_stream_update``) call these three functions, so a clip
gives the refiner the same pixels on every path.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from .red_mask import red_mask


def refine_frame(frame: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 RGB frame -> (h, w, 3) uint8 at the refiner's ``size`` (w, h)."""
    return cv2.resize(frame, tuple(int(v) for v in size), interpolation=cv2.INTER_AREA)


def to_refine_coords(point: Sequence[float], frame_size: Tuple[int, int],
                     size: Tuple[int, int]) -> Tuple[float, float]:
    """A point in frame pixels (x, y) -> the refiner frame's pixels (``frame_size`` and
    ``size`` are (w, h); the datasets' convention ``x_input = x_frame * w / W``)."""
    return (float(point[0]) * size[0] / frame_size[0],
            float(point[1]) * size[1] / frame_size[1])


def refine_crops(frames: Sequence[np.ndarray], center: Sequence[float], crop: int
                 ) -> np.ndarray:
    """Square ``crop`` x ``crop`` windows of refiner frames around ``center`` (x, y).

    Pixels outside the frame repeat its border. Returns (T, crop, crop, 3) uint8.
    """
    if crop < 1:
        raise ValueError(f'refine_crops: crop must be >= 1, got {crop}')
    out = np.empty((len(frames), crop, crop, 3), np.uint8)
    x0 = int(round(float(center[0]) - crop / 2))
    y0 = int(round(float(center[1]) - crop / 2))
    for i, frame in enumerate(frames):
        h, w = frame.shape[:2]
        xs = np.clip(np.arange(x0, x0 + crop), 0, w - 1)
        ys = np.clip(np.arange(y0, y0 + crop), 0, h - 1)
        out[i] = frame[ys[:, None], xs[None, :]]
    return out


def refine_frame_indices(onset: int, radius: int) -> List[int]:
    """Frames the refiner reads for eq. 2's ``onset``: ``onset - R - 1 .. onset + R``
    (the first one is the reference of the first candidate), clamped at frame 0."""
    return [max(t, 0) for t in range(onset - radius - 1, onset + radius + 1)]


def refine_ready(onset: int, radius: int, last_frame: int) -> bool:
    """Whether the frames up to ``onset + R`` exist (``last_frame``: the newest index)."""
    return onset + radius <= last_frame


def refine_input(crops: np.ndarray) -> torch.Tensor:
    """(T, S, S, 3) uint8 crops -> (T - 1, 7, S, S) float: per candidate frame its RGB,
    its RGB change from the previous crop and its Red-Mask change (all in [-1, 1])."""
    rgb = torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div_(255.0)
    red = red_mask(rgb)
    return torch.cat([rgb[1:], rgb[1:] - rgb[:-1], red[1:] - red[:-1]], dim=1)


def refined_onset(onset: int, radius: int, position: Optional[int]) -> int:
    """Eq. 2's ``onset`` moved to the refiner's ``position`` in ``0 .. 2R`` (None: keep)."""
    if position is None:
        return onset
    return max(onset - radius + int(position), 0)
