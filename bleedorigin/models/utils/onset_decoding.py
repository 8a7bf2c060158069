"""Sliding-window onset decoding (paper eq. 2)."""
import math
from typing import Optional, Sequence


def onset_from_windows(starts: Sequence[int], thetas: Sequence[float],
                       confidences: Sequence[float], window_size: int,
                       conf_thr: float = 0.5, num_frames: Optional[int] = None
                       ) -> Optional[int]:
    """Earliest ``t + floor(theta * N)`` among windows with ``S_conf > conf_thr``.

    Args:
        starts (Sequence[int]): First frame t of every window.
        thetas (Sequence[float]): Normalised onset position theta in [0, 1] per window.
        confidences (Sequence[float]): S_conf per window.
        window_size (int): N.
        conf_thr (float): Confidence threshold (paper: 0.5).
        num_frames (int, optional): Clip length; predictions are clipped to it.

    Returns:
        int | None: The onset frame, or None when no window is confident.
    """
    best = None
    for start, theta, conf in zip(starts, thetas, confidences):
        if conf <= conf_thr:
            continue
        # the epsilon keeps theta = k / N (an exact frame) from flooring to k - 1
        frame = int(start) + int(math.floor(float(theta) * window_size + 1e-6))
        frame = min(frame, int(start) + window_size - 1)
        if num_frames is not None:
            frame = min(frame, int(num_frames) - 1)
        best = frame if best is None else min(best, frame)
    return best
