"""Optical-flow and colour-space helpers (OpenCV DIS and Lucas-Kanade), shared by
datasets and models.

Pixel convention: our points have pixel centres at +0.5 (pixel (0, 0) covers
[0, 1) x [0, 1)); OpenCV's Lucas-Kanade puts them at integers.
:func:`lucas_kanade` and :func:`forward_backward_lucas_kanade` are the one place
that converts between the two.
"""
import threading
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

_DIS = threading.local()  # one cache per thread: an OpenCV DIS object is not thread-safe


def _dis(shape: tuple, preset: int = cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST):
    # One DIS object per frame size, preset and thread; creating it costs more than a small
    # flow. Per size: an object that computed a flow at one size gives a different flow at
    # another size than a fresh object does (OpenCV keeps state across sizes), which made
    # the source point depend on whether the onset stream (64x48) had run before
    # (2026-11-30). Per thread: two threads calling one object at once get wrong flows and
    # can crash the process (measured, 2026-12-03).
    cache = getattr(_DIS, 'objects', None)
    if cache is None:
        cache = _DIS.objects = {}
    key = (tuple(shape), preset)
    if key not in cache:
        cache[key] = cv2.DISOpticalFlow_create(preset)
    return cache[key]


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) uint8 grey."""
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)


def lucas_kanade(prev_gray: np.ndarray, next_gray: np.ndarray, points: np.ndarray,
                 guess: Optional[np.ndarray] = None, win_size: int = 21, max_level: int = 3,
                 iterations: int = 30, epsilon: float = 0.01) -> Tuple[np.ndarray, np.ndarray]:
    """OpenCV pyramidal Lucas-Kanade of points in our pixel convention.

    Note:
        N: number of points.

    Args:
        prev_gray (np.ndarray): (H, W) uint8 grey frame the points are on.
        next_gray (np.ndarray): (H, W) uint8 grey frame to move them into.
        points (np.ndarray): (N, 2) x, y (centres at +0.5).
        guess (np.ndarray, optional): (N, 2) initial positions in ``next_gray``
            (OpenCV's ``OPTFLOW_USE_INITIAL_FLOW``). Default: start at ``points``.
        win_size (int): Search window side. Defaults to 21.
        max_level (int): Pyramid levels above the base. Defaults to 3.
        iterations (int): Iterations per level. Defaults to 30.
        epsilon (float): Stop when an update is below this many pixels. Defaults to 0.01.

    Returns:
        tuple: moved points (N, 2) float64 (centres at +0.5) and status (N,) bool
        (False where OpenCV lost the point; its position is then meaningless).
    """
    src = (np.asarray(points) - 0.5).astype(np.float32).reshape(-1, 1, 2)
    start, flags = None, 0
    if guess is not None:
        start = (np.asarray(guess) - 0.5).astype(np.float32).reshape(-1, 1, 2)
        flags = cv2.OPTFLOW_USE_INITIAL_FLOW
    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        prev_gray, next_gray, src, start, winSize=(int(win_size), int(win_size)),
        maxLevel=int(max_level),
        criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, int(iterations),
                  float(epsilon)),
        flags=flags)
    return moved.reshape(-1, 2).astype(np.float64) + 0.5, status.reshape(-1).astype(bool)


def forward_backward_lucas_kanade(prev_gray: np.ndarray, next_gray: np.ndarray,
                                  points: np.ndarray, guess: Optional[np.ndarray] = None,
                                  backward_start: str = 'forward', **lk_params
                                  ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lucas-Kanade forward, then back from the result (Kalal et al., 2010).

    Args:
        prev_gray, next_gray, points, guess: As in :func:`lucas_kanade`.
        backward_start (str): Where the backward pass starts its search:
            ``'forward'`` at the forward result itself (the FB-LK baseline),
            ``'query'`` at ``points`` (the flow refiner: a point that did not
            move much starts the backward search where it came from).
        **lk_params: ``win_size``, ``max_level``, ``iterations``, ``epsilon`` of
            :func:`lucas_kanade`, used by both passes.

    Returns:
        tuple: forward points (N, 2) float64, status (N,) bool (both passes
        succeeded) and the round-trip error (N,) float64 in pixels.
    """
    if backward_start not in ('forward', 'query'):
        raise ValueError(f"backward_start must be 'forward' or 'query', got {backward_start!r}")
    forward, ok_forward = lucas_kanade(prev_gray, next_gray, points, guess, **lk_params)
    back_guess = None if backward_start == 'forward' else points
    backward, ok_backward = lucas_kanade(next_gray, prev_gray, forward, back_guess, **lk_params)
    round_trip = np.linalg.norm(backward - np.asarray(points, np.float64), axis=1)
    return forward, ok_forward & ok_backward, round_trip


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
    return _dis(prev.shape).calc(prev, cur, None)


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
        flows[t] = _dis(grey[t].shape).calc(grey[t - 1], grey[t], None)
    return flows


def rgb_to_hsv01(rgb: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) uint8 RGB -> float32 HSV in [0, 1] (OpenCV full-range hue)."""
    flat = rgb.reshape((-1,) + rgb.shape[-3:])
    hsv = np.stack([cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2HSV_FULL)
                    for f in flat]).astype(np.float32) / 255.0
    return hsv.reshape(rgb.shape)


def turn_hue(rgb: np.ndarray, steps: int) -> np.ndarray:
    """(H, W, 3) uint8 RGB with its hue turned by ``steps`` OpenCV hue units (2 degrees
    each, modulo 180); grey pixels stay grey."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + steps) % 180).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


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


#: Seed of OpenCV's RNG before the RANSAC fit of :func:`align_to` (deterministic alignment).
ALIGN_RNG_SEED = 0


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
    # RANSAC draws from OpenCV's global RNG: seed it so the transform is a function of the
    # two frames, not of how many RANSAC fits ran before in the process (the dataset cache
    # and the streaming path gave points a pixel apart on 8 of 46 clips before this)
    cv2.setRNGSeed(ALIGN_RNG_SEED)
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                  ransacReprojThreshold=2.0)
    if matrix is None or inliers is None or inliers.sum() < 3:
        return moving
    return cv2.warpAffine(moving, matrix, (width, height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
