"""Per-video colour anchor: turn a video's hue back to the mucosa hue the detector knows.

Endoscopes differ in white balance and renderers in palette. The onset branch reads
colour twice (the RGB channels and the Red-Mask channel, a rule on how far red exceeds
green and blue), so a global hue turn of the video moves blood out of what the
detector learnt: a -16 degree turn cost 10 of 46 test onsets (docs/detect.md, issue 11,
nineteenth step). The anchor measures the hue of the mucosa once, on the first frame
of a video (the saturation-weighted circular mean over lit, coloured pixels), and,
when it lies more than ``dead_zone`` degrees from ``reference``, turns every frame of
that video by the difference (at most ``max_turn`` degrees, OpenCV hue steps of 2
degrees): the colour constancy of a white balance, decided once per video so that
bleeding, which reddens later frames, never moves the correction.

Inside the dead zone nothing changes, so the videos the detector was trained and
validated on (their mucosa hue spread, measured on the training split, lies inside it)
are read exactly as before.
"""
from typing import Optional

import cv2
import numpy as np

from .flow import turn_hue
from .onset_input import check_rgb_frame

#: Pixels that vote for the mucosa hue: value in (40, 250) (lit, not glare) and
#: saturation above 25 (coloured); a frame with fewer than MIN_FRACTION of them has no
#: mucosa hue (a dark, grey or washed-out first frame: no turn).
_V_MIN, _V_MAX, _S_MIN = 40, 250, 25
MIN_FRACTION = 0.05


def mucosa_hue(frame: np.ndarray) -> Optional[float]:
    """Saturation-weighted circular mean hue of a frame's lit, coloured pixels.

    Args:
        frame (np.ndarray): (H, W, 3) uint8 RGB.

    Returns:
        float | None: Degrees in (-180, 180] (0 is red, positive towards yellow), or
        None when fewer than ``MIN_FRACTION`` of the pixels are lit and coloured.
    """
    check_rgb_frame(frame, 'mucosa_hue: frame')
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV).reshape(-1, 3)
    value, sat = hsv[:, 2], hsv[:, 1]
    keep = (value > _V_MIN) & (value < _V_MAX) & (sat > _S_MIN)
    if keep.mean() < MIN_FRACTION:
        return None
    angle = hsv[keep, 0].astype(np.float64) * (np.pi / 90.0)  # OpenCV hue: 2 degrees/unit
    weight = sat[keep].astype(np.float64)
    return float(np.degrees(np.arctan2((weight * np.sin(angle)).sum(),
                                       (weight * np.cos(angle)).sum())))


def anchor_steps(frame: np.ndarray, reference: float, dead_zone: float,
                 max_turn: float) -> int:
    """OpenCV hue steps (2 degrees each) that turn a video whose first frame is
    ``frame`` towards ``reference``: 0 inside the dead zone or without a mucosa hue.

    Args:
        frame (np.ndarray): (H, W, 3) uint8 RGB, the video's first frame.
        reference (float): Mucosa hue (degrees) of the training videos.
        dead_zone (float): Degrees from ``reference`` left alone.
        max_turn (float): Largest turn in degrees.
    """
    if dead_zone < 0 or max_turn < 0:
        raise ValueError(f'anchor_steps: dead_zone and max_turn must be >= 0, got '
                         f'{dead_zone}, {max_turn}')
    hue = mucosa_hue(frame)
    if hue is None:
        return 0
    delta = (reference - hue + 180.0) % 360.0 - 180.0
    if abs(delta) <= dead_zone:
        return 0
    delta = float(np.clip(delta, -max_turn, max_turn))
    return int(round(delta / 2.0))


def anchor_turn(frame: np.ndarray, steps: int) -> np.ndarray:
    """``frame`` turned by the anchor's ``steps`` (OpenCV hue steps); the frame itself
    for 0 (no HSV round trip): what the stream, the dataset cache and the offline refiner
    reader all apply."""
    return turn_hue(frame, steps) if steps else frame


class ColourAnchor:
    """The anchor's settings and the turn of the video being read.

    Args:
        reference (float): Mucosa hue of the training videos, degrees.
        dead_zone (float): Degrees from ``reference`` read unchanged.
        max_turn (float): Largest turn, degrees.

    ``start(first_frame)`` decides the turn of a new video and returns it; ``apply``
    turns one frame by it (the frame itself when the turn is 0).
    """

    def __init__(self, reference: float, dead_zone: float, max_turn: float) -> None:
        if dead_zone < 0 or max_turn < 0:
            raise ValueError(f'ColourAnchor: dead_zone and max_turn must be >= 0, got '
                             f'{dead_zone}, {max_turn}')
        self.reference = float(reference)
        self.dead_zone = float(dead_zone)
        self.max_turn = float(max_turn)
        self.steps = 0

    @classmethod
    def build(cls, cfg) -> Optional['ColourAnchor']:
        """A ColourAnchor from a config dict (``reference``, ``dead_zone``,
        ``max_turn``), None for None."""
        if cfg is None:
            return None
        unknown = set(cfg) - {'reference', 'dead_zone', 'max_turn'}
        if unknown:
            raise ValueError(f'colour_anchor: unknown key(s) {sorted(unknown)}; expected '
                             'reference, dead_zone, max_turn')
        return cls(**cfg)

    def start(self, first_frame: np.ndarray) -> int:
        self.steps = anchor_steps(first_frame, self.reference, self.dead_zone,
                                  self.max_turn)
        return self.steps

    def apply(self, frame: np.ndarray) -> np.ndarray:
        return anchor_turn(frame, self.steps)

    def __repr__(self) -> str:
        return (f'ColourAnchor(reference={self.reference:g}, dead_zone={self.dead_zone:g}, '
                f'max_turn={self.max_turn:g})')
