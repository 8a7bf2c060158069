"""Onset decoding (paper eq. 2 and the per-frame state decoder), offline over a clip and
online one window / one frame at a time (``onset_stream.onset_stream_update``)."""
import math
from typing import Optional, Sequence, Tuple


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
        # the epsilon keeps theta = k / N (an exact frame) from flooring to k - 1; a
        # float32 theta is off by up to ~N * 6e-8 (k = 35, 39, 43, 50, 54, 58 of N = 60
        # floored to k - 1 with an epsilon of 1e-6)
        frame = int(start) + int(math.floor(float(theta) * window_size + 1e-3))
        frame = min(frame, int(start) + window_size - 1)
        if num_frames is not None:
            frame = min(frame, int(num_frames) - 1)
        best = frame if best is None else min(best, frame)
    return best


def onset_from_states(probabilities: Sequence[float], threshold: float = 0.5,
                      run: int = 5) -> Optional[int]:
    """First frame of the first run of ``run`` consecutive frames whose per-frame
    bleeding probability exceeds ``threshold`` (the state decoder; eq. 2 is the
    default decoder).

    Args:
        probabilities (Sequence[float]): (T,) P(frame t bleeds), in frame order.
        threshold (float): Probability threshold.
        run (int): Consecutive frames needed (>= 1).

    Returns:
        int | None: The onset frame, or None when no run is long enough.
    """
    if run < 1:
        raise ValueError(f'onset_from_states: run must be >= 1, got {run}')
    count = 0
    for t, prob in enumerate(probabilities):
        count, onset = update_state_run(count, float(prob), threshold, run, t)
        if onset is not None:
            return onset
    return None


def update_state_run(count: int, probability: float, threshold: float, run: int,
                     index: int) -> Tuple[int, Optional[int]]:
    """One frame of the state decoder (``onset_from_states`` frame by frame).

    Returns:
        tuple: the new run length and the onset (``index - run + 1``) once the run
        reaches ``run`` frames, else None.
    """
    count = count + 1 if probability > threshold else 0
    return count, (index - run + 1 if count == run else None)


def update_window_onset(onset: Optional[int], start: int, theta: float, confidence: float,
                        window_size: int, conf_thr: float) -> Optional[int]:
    """Eq. 2 online: the earliest onset over the windows seen so far, this one included."""
    candidate = onset_from_windows([start], [theta], [confidence], window_size, conf_thr)
    if candidate is None:
        return onset
    return candidate if onset is None else min(onset, candidate)
