"""Classical point-tracking baselines with the tracker's streaming API (Table 7 rows).

All of them share ``init(frame, points)`` / ``step(frame)`` with
:class:`BleedTrackOn`, so the same evaluation code runs them on the same
clips: zero motion (the query never moves), OpenCV pyramidal Lucas-Kanade
chained frame to frame (plain, and with a forward-backward check), and OpenCV DIS dense
optical flow chained frame to frame. They keep only the previous frame (bounded state).
"""
from typing import Optional, Tuple

import cv2
import numpy as np

from bleedorigin.registry import MODELS

from ..utils.flow import forward_backward_lucas_kanade, lucas_kanade

StepOutput = Tuple[np.ndarray, np.ndarray, np.ndarray]


def _check_frame(frame: np.ndarray) -> np.ndarray:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f'frame must be an HxWx3 uint8 RGB array, got '
                         f'{getattr(frame, "shape", type(frame))}')
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


class _ChainedTracker:
    """Shared state handling: previous grey frame and current points."""

    method_name = 'base'

    def __init__(self):
        self.prev_gray: Optional[np.ndarray] = None
        self.points: Optional[np.ndarray] = None
        self.visibility: Optional[np.ndarray] = None

    def init(self, frame: np.ndarray, points) -> None:
        self.prev_gray = _check_frame(frame)
        self.points = np.asarray(points, dtype=np.float32).reshape(-1, 2).copy()
        self.visibility = np.ones(len(self.points), dtype=bool)

    def add_points(self, frame: np.ndarray, points) -> None:
        new = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        self.points = np.concatenate([self.points, new])
        self.visibility = np.concatenate([self.visibility, np.ones(len(new), dtype=bool)])

    def reset_stream(self) -> None:
        self.prev_gray = self.points = self.visibility = None

    def step(self, frame: np.ndarray) -> StepOutput:
        if self.prev_gray is None:
            raise RuntimeError('call init(frame, points) before step')
        gray = _check_frame(frame)
        self.points, self.visibility = self._propagate(self.prev_gray, gray, self.points)
        h, w = gray.shape
        self.points[:, 0] = np.clip(self.points[:, 0], 0, w - 1e-3)
        self.points[:, 1] = np.clip(self.points[:, 1], 0, h - 1e-3)
        self.prev_gray = gray
        return self.points.copy(), self.visibility.copy(), self.visibility.astype(np.float32)

    def _propagate(self, prev: np.ndarray, cur: np.ndarray, points: np.ndarray):
        raise NotImplementedError


@MODELS.register_module()
class ZeroMotionTracker(_ChainedTracker):
    """Predicts the query position on every frame (the no-motion prior)."""

    method_name = 'zero_motion'

    def _propagate(self, prev, cur, points):
        return points, np.ones(len(points), dtype=bool)


@MODELS.register_module()
class LucasKanadeTracker(_ChainedTracker):
    """OpenCV pyramidal Lucas-Kanade, chained frame to frame.

    A point whose flow fails keeps its last position and is reported invisible.

    Args:
        win_size (int): LK window side. Defaults to 21.
        max_level (int): Pyramid levels. Defaults to 3.
    """

    method_name = 'lucas_kanade'

    def __init__(self, win_size: int = 21, max_level: int = 3):
        super().__init__()
        self.lk_params = dict(win_size=win_size, max_level=max_level, iterations=30,
                              epsilon=0.01)

    def _propagate(self, prev, cur, points):
        moved, ok = lucas_kanade(prev, cur, points, **self.lk_params)
        out = points.copy()
        out[ok] = moved[ok]
        return out, ok


@MODELS.register_module()
class FBLucasKanadeTracker(LucasKanadeTracker):
    """Lucas-Kanade with a forward-backward check (Kalal et al., 2010).

    A point whose flow does not return within ``fb_threshold`` pixels of where
    it started (occlusion, specular highlight, flushing water) is not moved
    and is reported invisible; it resumes from there on the next frame.

    Args:
        win_size (int): LK window side. Defaults to 21.
        max_level (int): Pyramid levels. Defaults to 3.
        fb_threshold (float): Round-trip tolerance in pixels. Defaults to 2.0.
    """

    method_name = 'fb_lucas_kanade'

    def __init__(self, win_size: int = 21, max_level: int = 3, fb_threshold: float = 2.0):
        super().__init__(win_size, max_level)
        self.fb_threshold = fb_threshold

    def _propagate(self, prev, cur, points):
        moved, ok, round_trip = forward_backward_lucas_kanade(
            prev, cur, points, backward_start='forward', **self.lk_params)
        ok &= round_trip < self.fb_threshold
        out = points.copy()
        out[ok] = moved[ok]
        return out, ok


@MODELS.register_module()
class DISFlowTracker(_ChainedTracker):
    """OpenCV DIS dense optical flow, chained: each point moves by the flow
    bilinearly sampled at its position.

    Args:
        preset (str): ``ultrafast``, ``fast`` or ``medium``. Defaults to ``medium``.
    """

    method_name = 'dis_flow'
    _PRESETS = dict(ultrafast=cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
                    fast=cv2.DISOPTICAL_FLOW_PRESET_FAST,
                    medium=cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

    def __init__(self, preset: str = 'medium'):
        super().__init__()
        if preset not in self._PRESETS:
            raise ValueError(f'preset must be one of {sorted(self._PRESETS)}, got {preset!r}')
        self.dis = cv2.DISOpticalFlow_create(self._PRESETS[preset])

    def _propagate(self, prev, cur, points):
        flow = self.dis.calc(prev, cur, None)  # (H, W, 2)
        xy = (points - 0.5).reshape(1, -1, 2).astype(np.float32)
        dx = cv2.remap(flow[..., 0], xy[..., 0], xy[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE).reshape(-1)
        dy = cv2.remap(flow[..., 1], xy[..., 0], xy[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE).reshape(-1)
        return points + np.stack([dx, dy], axis=1), np.ones(len(points), dtype=bool)


BASELINE_TRACKERS = dict(zero_motion=ZeroMotionTracker, lucas_kanade=LucasKanadeTracker,
                         fb_lucas_kanade=FBLucasKanadeTracker, dis_flow=DISFlowTracker)
