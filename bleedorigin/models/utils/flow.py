"""Optical-flow and colour-space helpers (OpenCV DIS), shared by datasets and models."""
from typing import Sequence, Tuple

import cv2
import numpy as np

_DIS = {}


def _dis(preset: int = cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST):
    # One DIS object per preset and process; creating it costs more than a small flow.
    if preset not in _DIS:
        _DIS[preset] = cv2.DISOpticalFlow_create(preset)
    return _DIS[preset]


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) uint8 grey."""
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def dis_flow(prev_rgb: np.ndarray, cur_rgb: np.ndarray) -> np.ndarray:
    """Dense optical flow from ``prev_rgb`` to ``cur_rgb`` with OpenCV DIS.

    Args:
        prev_rgb (np.ndarray): (H, W, 3) uint8 RGB or (H, W) uint8 grey.
        cur_rgb (np.ndarray): Same shape as ``prev_rgb``.

    Returns:
        np.ndarray: (H, W, 2) float32 flow (dx, dy) in pixels.
    """
    prev = prev_rgb if prev_rgb.ndim == 2 else to_gray(prev_rgb)
    cur = cur_rgb if cur_rgb.ndim == 2 else to_gray(cur_rgb)
    if prev.shape != cur.shape:
        raise ValueError(f'dis_flow: frame shapes differ {prev.shape} vs {cur.shape}')
    return _dis().calc(prev, cur, None)


def sequence_flow(frames: np.ndarray) -> np.ndarray:
    """Flow between consecutive frames of a sequence.

    Args:
        frames (np.ndarray): (T, H, W, 3) uint8 RGB.

    Returns:
        np.ndarray: (T, H, W, 2) float32, entry t is the flow from t-1 to t (zero at t=0).
    """
    grey = [to_gray(f) for f in frames]
    flows = np.zeros(frames.shape[:3] + (2,), dtype=np.float32)
    for t in range(1, len(grey)):
        flows[t] = _dis().calc(grey[t - 1], grey[t], None)
    return flows


def rgb_to_hsv01(rgb: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) uint8 RGB -> float32 HSV in [0, 1] (OpenCV full-range hue)."""
    flat = rgb.reshape((-1,) + rgb.shape[-3:])
    hsv = np.stack([cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2HSV_FULL)
                    for f in flat]).astype(np.float32) / 255.0
    return hsv.reshape(rgb.shape)


def propagate_point(frames: Sequence[np.ndarray], point: Tuple[float, float]
                    ) -> Tuple[float, float]:
    """Carry a point through a frame sequence by chaining DIS flow (pseudo-labels, eq. 5).

    Args:
        frames (Sequence[np.ndarray]): (H, W, 3) uint8 RGB frames, the point lies in frames[0].
        point (tuple): (x, y) in pixels of these frames.

    Returns:
        tuple: (x, y) in the last frame, clipped to the image.
    """
    x, y = float(point[0]), float(point[1])
    height, width = frames[0].shape[:2]
    for prev, cur in zip(frames[:-1], frames[1:]):
        flow = dis_flow(prev, cur)
        xi = int(np.clip(round(x), 0, width - 1))
        yi = int(np.clip(round(y), 0, height - 1))
        # median over a small patch: robust to single-pixel flow outliers
        patch = flow[max(yi - 2, 0):yi + 3, max(xi - 2, 0):xi + 3].reshape(-1, 2)
        dx, dy = np.median(patch, axis=0)
        x = float(np.clip(x + dx, 0, width - 1))
        y = float(np.clip(y + dy, 0, height - 1))
    return x, y


def align_to(moving: np.ndarray, fixed: np.ndarray, step: int = 8) -> np.ndarray:
    """Warp ``moving`` onto ``fixed`` with one global similarity transform.

    The transform is fitted with RANSAC to DIS flow sampled on a grid, so local
    changes (fresh blood, instruments) are outliers and do not bend the result;
    the source branch compares the onset frame with a reference frame taken
    ``reference_offset`` frames earlier, across which the endoscope moves.

    Args:
        moving (np.ndarray): (H, W, 3) uint8 RGB, e.g. the reference frame.
        fixed (np.ndarray): (H, W, 3) uint8 RGB of the same size, e.g. the onset frame.
        step (int): Grid spacing of the flow samples in pixels.

    Returns:
        np.ndarray: ``moving`` resampled in the coordinates of ``fixed`` (uint8);
        ``moving`` itself when no transform can be fitted.
    """
    if moving.shape != fixed.shape:
        raise ValueError(f'align_to: frame shapes differ {moving.shape} vs {fixed.shape}')
    height, width = fixed.shape[:2]
    flow = dis_flow(fixed, moving)  # fixed pixel -> where it is in moving
    ys, xs = np.mgrid[step // 2:height:step, step // 2:width:step]
    src = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
    dst = src + flow[ys.ravel(), xs.ravel()]
    if len(src) < 3:
        return moving
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                  ransacReprojThreshold=2.0)
    if matrix is None or inliers is None or inliers.sum() < 3:
        return moving
    return cv2.warpAffine(moving, matrix, (width, height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
