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


class RefineCascade:
    """Eq. 2 proposes, the onset refiner confirms (``BleedOriginDetector.onset_refine_confirm``;
    issue 11, twenty-eighth step, docs/detect.md).

    Every window whose S_conf exceeds the candidate threshold proposes its own onset
    (:func:`~.onset_decoding.window_onset`, eq. 2 on that window alone). The refiner is asked
    about each candidate's windows (``windows_of(candidate)``: theta, then the
    ``onset_refine_search`` shifts, in order) as soon as a window's frames exist, the frame
    ``centre + R`` included. The first window that names a frame raises the alarm and gives
    the onset, the frame it names; a candidate every window of which named none is dropped;
    one whose windows never all arrive (the video ends) stays unconfirmed. The offline path
    (``predict``) and the stream step one object frame by frame, so they give the same onset
    at the same frame by construction.

    Args:
        windows_of (callable): Candidate onset -> the centres of its refiner windows, in
            the order they are tried (``BleedOriginDetector.refine_windows``).
        radius (int): R of the refiner (a window is ready once frame ``centre + R`` exists).
    """

    def __init__(self, windows_of, radius: int) -> None:
        if radius < 0:
            raise ValueError(f'RefineCascade: radius must be >= 0, got {radius}')
        self.windows_of = windows_of
        self.radius = int(radius)
        self.pending: List[list] = []  # [candidate, centres, next window to ask]
        self.seen: set = set()
        self.answers: dict = {}  # centre -> the frame its window names (None: none)
        self.onset: Optional[int] = None  # the confirmed onset (None: no alarm yet)
        self.candidate: Optional[int] = None  # the candidate it confirmed
        self.dropped = 0  # candidates every window of which named none

    def propose(self, candidate: Optional[int]) -> None:
        """A confident window's onset (None: the window was not confident). A candidate
        proposed before, confirmed, dropped or pending, is not asked about again."""
        if candidate is None or self.onset is not None or candidate in self.seen:
            return
        self.seen.add(candidate)
        self.pending.append([int(candidate), list(self.windows_of(int(candidate))), 0])

    def step(self, last_frame: int, ask) -> Optional[int]:
        """Ask every pending candidate's windows whose frames exist up to ``last_frame``
        (``ask(centre)``: the frame the refiner names in the window at ``centre``, or
        None), in proposal order; returns the confirmed onset (None: none yet)."""
        if self.onset is not None:
            return self.onset
        kept = []
        for item in self.pending:
            candidate, centres, index = item
            while index < len(centres) and centres[index] + self.radius <= last_frame:
                centre = centres[index]
                if centre not in self.answers:
                    self.answers[centre] = ask(centre)
                index += 1
                if self.answers[centre] is not None:
                    self.onset, self.candidate = self.answers[centre], candidate
                    self.pending = []
                    return self.onset
            item[2] = index
            if index < len(centres):
                kept.append(item)
            else:
                self.dropped += 1
        self.pending = kept
        return None
