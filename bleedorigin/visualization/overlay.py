"""Clinician-facing overlay of the streaming pipeline (paper Figure 14).

"Non Bleeding" / "Bleeding" label top-left, a red box that flashes around the
bleeding source during the first second after the alert, the tracked source
point with its confidence next to it (Figure 11's white text), the frame
index top-right. Optional ground truth is drawn in blue as in Figure 11.
"""
from typing import Optional, Sequence

import cv2
import numpy as np

from bleedorigin.structures import FrameResult

# RGB colours (frames are RGB throughout the project).
RED = (230, 30, 30)
GREEN = (40, 220, 60)
BLUE = (40, 110, 255)
GREY = (150, 150, 150)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


def _text(image: np.ndarray, text: str, origin, scale: float, color, thickness: int,
          background: Optional[tuple] = BLACK) -> None:
    """Draw text with an optional filled background box, clipped to the image."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (width, height), baseline = cv2.getTextSize(text, font, scale, thickness)
    x = int(np.clip(origin[0], 0, max(image.shape[1] - width, 0)))
    y = int(np.clip(origin[1], height + 1, image.shape[0] - baseline))
    if background is not None:
        cv2.rectangle(image, (x - 1, y - height - 2), (x + width + 1, y + baseline),
                      background, thickness=-1)
    cv2.putText(image, text, (x, y), font, scale, color, thickness, cv2.LINE_AA)


def draw_bleeding_overlay(frame: np.ndarray, result: FrameResult, fps: float = 25.0,
                          flash_seconds: float = 1.0, flash_period: int = 4,
                          box_fraction: float = 0.08,
                          gt_points: Optional[Sequence] = None) -> np.ndarray:
    """Draw the pipeline's state on a copy of the frame.

    Args:
        frame (np.ndarray): (H, W, 3) uint8 RGB frame of the stream.
        result (FrameResult): The pipeline's output for this frame.
        fps (float): Stream frame rate, to time the flashing box. Defaults to 25.
        flash_seconds (float): How long the box flashes after the alert.
            Defaults to 1.0 (the paper's "first second").
        flash_period (int): Frames the box stays on, then off. Defaults to 4.
        box_fraction (float): Half side of the box relative to min(H, W).
            Defaults to 0.08.
        gt_points (Sequence | None): (K, 2) ground-truth points, drawn blue.

    Returns:
        np.ndarray: (H, W, 3) uint8 RGB annotated copy.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f'draw_bleeding_overlay: expected (H, W, 3) uint8 RGB, '
                         f'got {frame.shape} {frame.dtype}')
    image = frame.copy()
    height, width = image.shape[:2]
    short = min(height, width)
    scale = max(0.28, short / 700.0)
    thickness = max(1, int(round(short / 350.0)))
    margin = max(2, short // 60)

    label, color = ('Bleeding', RED) if result.is_bleeding else ('Non Bleeding', GREEN)
    _text(image, label, (margin, margin), scale * 1.3, color, thickness + 1)
    _text(image, f'#{result.frame_index}', (width, margin), scale, WHITE, thickness)

    if gt_points is not None:
        for x, y in np.asarray(gt_points, np.float32).reshape(-1, 2):
            if np.isfinite(x) and np.isfinite(y):
                cv2.circle(image, (int(round(x)), int(round(y))), max(2, short // 90), BLUE, -1,
                           cv2.LINE_AA)

    if result.alert_frame is not None:
        since_alert = result.frame_index - result.alert_frame
        flash_frames = int(round(flash_seconds * fps))
        if 0 <= since_alert < flash_frames and (since_alert // max(flash_period, 1)) % 2 == 0:
            centre = _box_centre(result)
            if centre is not None:
                half = max(4, int(round(box_fraction * short)))
                cx, cy = int(round(centre[0])), int(round(centre[1]))
                cv2.rectangle(image, (cx - half, cy - half), (cx + half, cy + half), RED,
                              thickness + 1, cv2.LINE_AA)

    radius = max(2, short // 70)
    for k, (x, y) in enumerate(np.asarray(result.points, np.float32).reshape(-1, 2)):
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        visible = bool(result.visibility[k]) if k < len(result.visibility) else True
        point = (int(round(x)), int(round(y)))
        cv2.circle(image, point, radius, GREEN if visible else GREY, -1, cv2.LINE_AA)
        cv2.circle(image, point, radius + 1, BLACK, 1, cv2.LINE_AA)
        if k < len(result.confidence):
            _text(image, f'{float(result.confidence[k]):.2f}',
                  (point[0] + radius + 2, point[1] - radius), scale, WHITE, thickness,
                  background=None)
    return image


def _box_centre(result: FrameResult) -> Optional[np.ndarray]:
    """Centre of the alert box: the tracked point, else the located source."""
    points = np.asarray(result.points, np.float32).reshape(-1, 2)
    if len(points) and np.all(np.isfinite(points[0])):
        return points[0]
    if result.source_point is not None:
        return np.asarray(result.source_point, np.float32)
    return None
