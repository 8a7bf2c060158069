"""Onset decoding (paper eq. 2 and the per-frame state decoder) and the windows eq. 2
slides, offline over a clip and online one window / one frame at a time.

The offline path (``BleedOriginDetector.predict``) and the online step
(``onset_stream.onset_stream_update``, run by ``bleedorigin.apis.StreamDetector``) both
take their windows from :func:`window_starts` / :func:`window_frame_index` and decode
them with :func:`onset_from_windows` (online: :func:`update_window_onset`), so a clip
gives the same onset on both.

**Warm-up windows.** A stream has no window of N frames before its N-th frame, so a
clip shorter than N (or an onset in the first N frames of a stream, e.g. after the
alarm was dismissed) could not fire at all. With ``warmup=True`` every frame e ends one
window, ``[e - N + 1, e]``; the frames before the first one are the first frame
repeated (a still scene: zero motion and zero change), exactly what the stream has
seen. Without warm-up, the windows start at 0 and a clip shorter than N gets one
window right-padded with its last frame (the old behaviour).

``min_frames`` (warm-up only) is the number of real frames a window needs before it is
decoded: the first window ends at frame ``min_frames - 1`` (offline and online alike), so
the first frames of a stream, or of the watch resumed after a dismissed alarm, cannot fire
on a window that is mostly padding. A clip shorter than ``min_frames`` has no window.
"""
import math
from typing import List, Optional, Sequence, Tuple


def window_starts(num_frames: int, window_size: int, first: Optional[int] = None,
                  stride: int = 1, warmup: bool = False, min_frames: int = 1) -> List[int]:
    """First frame of every window slid over a clip (or training segment).

    Args:
        num_frames (int): T, frames of the clip (>= 1).
        window_size (int): N.
        first (int, optional): Earliest start. Defaults to ``-(N - 1)`` with warm-up (the
            window ending at frame 0), else 0. Clamped to the last start.
        stride (int): Frames between window starts.
        warmup (bool): Windows may start before frame 0 (see the module docstring).
        min_frames (int): With warm-up, real frames a window needs (1..N): no window
            starts before ``min_frames - N``. Ignored without warm-up.

    Returns:
        list[int]: Starts in increasing order; the last window ends at frame T - 1
        (warm-up, or T >= N), otherwise the single start 0. Empty with warm-up when
        T < ``min_frames``.
    """
    if num_frames < 1 or window_size < 1 or stride < 1:
        raise ValueError(f'window_starts: need num_frames, window_size and stride >= 1, got '
                         f'{num_frames}, {window_size}, {stride}')
    if warmup:
        _check_min_frames(min_frames, window_size)
        last = num_frames - window_size
        lowest = min_frames - window_size
        if last < lowest:
            return []
        first = lowest if first is None else max(int(first), lowest)
    else:
        last = max(num_frames - window_size, 0)
        first = 0 if first is None else max(int(first), 0)
    return list(range(min(first, last), last + 1, stride))


def window_frame_index(starts: Sequence[int], window_size: int, num_frames: int
                       ) -> List[List[int]]:
    """Frame of every token of every window: ``clamp(start + k, 0, T - 1)``.

    Tokens before frame 0 repeat the first frame (warm-up windows), tokens after the
    last frame repeat the last one (a clip shorter than N without warm-up).

    Returns:
        list[list[int]]: (len(starts), N) frame indices.
    """
    if num_frames < 1:
        raise ValueError(f'window_frame_index: num_frames must be >= 1, got {num_frames}')
    last = num_frames - 1
    return [[min(max(int(s) + k, 0), last) for k in range(window_size)] for s in starts]



def _check_min_frames(min_frames: int, window_size: int) -> None:
    if not 1 <= int(min_frames) <= window_size:
        raise ValueError(f'min_frames must be in [1, window_size={window_size}], got '
                         f'{min_frames}')


def newest_window(index: int, window_size: int, warmup: bool = False, min_frames: int = 1
                  ) -> Optional[Tuple[int, List[int]]]:
    """The window a stream decodes after frame ``index`` (the online :func:`window_starts`).

    Args:
        index (int): t, the newest frame (>= 0).
        window_size (int): N.
        warmup (bool): Warm-up windows (a window ends at every frame).
        min_frames (int): With warm-up, no window before frame ``min_frames - 1``.

    Returns:
        tuple | None: ``(start, tokens)``: the window ``[t - N + 1, t]`` and, per token, its
        position among the last ``min(t + 1, N)`` frame features the stream keeps (oldest
        first): :func:`window_frame_index` of that window shifted to the kept frames, so
        the stream gathers what ``predict`` gathers. None when no window ends at t
        (without warm-up, before frame N - 1; with it, before frame ``min_frames - 1``).
    """
    if index < 0 or window_size < 1:
        raise ValueError(f'newest_window: need index >= 0 and window_size >= 1, got {index}, '
                         f'{window_size}')
    start = index - window_size + 1
    if start < 0 and not warmup:
        return None
    if warmup:
        _check_min_frames(min_frames, window_size)
        if index + 1 < min_frames:
            return None
    offset = max(start, 0)
    tokens = window_frame_index([start], window_size, index + 1)[0]
    return start, [i - offset for i in tokens]


def onset_from_windows(starts: Sequence[int], thetas: Sequence[float],
                       confidences: Sequence[float], window_size: int,
                       conf_thr: float = 0.5, num_frames: Optional[int] = None,
                       confirm: int = 1) -> Optional[int]:
    """Earliest ``t + floor(theta * N)`` among windows with ``S_conf > conf_thr``.

    With ``confirm = K > 1`` (the alarm gate, :class:`WindowRun`) the onset exists once
    K consecutive windows (in the order given) were confident; it is then the earliest
    frame of that run and of every later confident window. K = 1 is eq. 2 as printed.

    Args:
        starts (Sequence[int]): First frame t of every window (negative: a warm-up
            window, see :func:`window_starts`).
        thetas (Sequence[float]): Normalised onset position theta in [0, 1] per window.
        confidences (Sequence[float]): S_conf per window.
        window_size (int): N.
        conf_thr (float): Confidence threshold (paper: 0.5).
        num_frames (int, optional): Clip length; predictions are clipped to it.
        confirm (int): K, consecutive confident windows before the onset exists (>= 1).

    Returns:
        int | None: The onset frame, or None when no window is confident (no run of K).
    """
    run, onset = WindowRun(confirm), None
    for start, theta, conf in zip(starts, thetas, confidences):
        onset = update_window_onset(onset, start, theta, conf, window_size, conf_thr, run)
    if onset is not None and num_frames is not None:
        onset = min(onset, int(num_frames) - 1)
    return onset


def window_onset(start: int, theta: float, confidence: float, window_size: int,
                 conf_thr: float) -> Optional[int]:
    """Eq. 2 for one window: ``t + floor(theta * N)`` if ``S_conf > conf_thr``, else None."""
    if confidence <= conf_thr:
        return None
    # the epsilon keeps theta = k / N (an exact frame) from flooring to k - 1; a float32
    # theta is off by up to ~N * 6e-8 (k = 35, 39, 43, 50, 54, 58 of N = 60 floored to
    # k - 1 with an epsilon of 1e-6)
    frame = int(start) + int(math.floor(float(theta) * window_size + 1e-3))
    frame = min(frame, int(start) + window_size - 1)
    # a warm-up window's padding repeats frame 0: an onset there is frame 0
    return max(frame, 0)


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


class WindowRun:
    """The alarm gate of eq. 2: the run of consecutive confident windows before the onset.

    Eq. 2 fires on the first window with ``S_conf > conf_thr``. A transient distractor (an
    instrument entering, a flush) can lift one or a few windows above it, while a bleeding
    onset keeps the windows confident for tens of frames (measured: docs/detect.md). With
    ``confirm = K`` the onset exists only once K consecutive windows were confident (K - 1
    frames of latency in a stream); the onset frame is still eq. 2's, the earliest over
    that run (and, after it, over every later confident window). K = 1 is eq. 2 as printed.

    Args:
        confirm (int): K (>= 1).
    """

    def __init__(self, confirm: int = 1) -> None:
        if int(confirm) < 1:
            raise ValueError(f'WindowRun: confirm must be >= 1, got {confirm}')
        self.confirm = int(confirm)
        self.count = 0  # consecutive confident windows so far
        self.earliest: Optional[int] = None  # earliest onset frame over them

    def push(self, candidate: Optional[int]) -> Optional[int]:
        """One window's eq. 2 frame (None: not confident) -> the onset once the run is K
        long, else None."""
        if candidate is None:
            self.count, self.earliest = 0, None
            return None
        self.count += 1
        self.earliest = candidate if self.earliest is None else min(self.earliest, candidate)
        return self.earliest if self.count >= self.confirm else None


def update_window_onset(onset: Optional[int], start: int, theta: float, confidence: float,
                        window_size: int, conf_thr: float, run: Optional[WindowRun] = None
                        ) -> Optional[int]:
    """Eq. 2 online: the earliest onset over the windows seen so far, this one included.

    ``run`` (the alarm gate, updated in place) holds back the first onset until its
    ``confirm`` consecutive windows were confident; None (or K = 1) is eq. 2 as printed.
    """
    candidate = window_onset(start, theta, confidence, window_size, conf_thr)
    if onset is not None:
        return onset if candidate is None else min(onset, candidate)
    if run is None:
        return candidate
    return run.push(candidate)
