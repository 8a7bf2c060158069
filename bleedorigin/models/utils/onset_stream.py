"""The online onset step (Algorithm 1, detection part) on an explicit state.

``BleedOriginDetector`` holds the networks and no stream; the predictor
``bleedorigin.apis.StreamDetector`` owns an :class:`OnsetStreamState` per video and calls
:func:`onset_stream_update` once per frame. The state-update rules (clean-view memory,
eq. 2 over the newest window, the per-frame state decoder, the reference frame of the
source branch) are plain functions: the decoding rules sit beside their offline forms in
:mod:`.onset_decoding` (``update_state_run`` is ``onset_from_states`` frame by frame,
``update_window_onset`` is ``onset_from_windows`` window by window), so a change of
decoding lands in one place.
"""
from collections import deque
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import torch

from .onset_decoding import WindowRun, newest_window, update_state_run, update_window_onset


class OnsetStreamState:
    """Bounded state of the online onset detector for one video.

    Args:
        memory: The clean-view memory (``CleanViewMemory`` of the model's MDCFM size).
        window_size (int): N: frame features kept for the newest window.
        buffer_size (int): Source-size frames kept for the reference of the source
            branch (``reference_offset + N + 1``).
    """

    def __init__(self, memory: Any, window_size: int, buffer_size: int) -> None:
        if window_size < 1 or buffer_size < 1:
            raise ValueError(f'OnsetStreamState: window_size and buffer_size must be >= 1, '
                             f'got {window_size}, {buffer_size}')
        self.index = -1  # frames seen - 1
        self.prev: Optional[tuple] = None  # (small uint8, rgb, hsv) of the previous frame
        self.memory = memory
        self.feats: deque = deque(maxlen=window_size)  # (D,) per frame, newest last
        self.onset: Optional[int] = None  # eq. 2, earliest over the windows seen
        self.run: Optional[WindowRun] = None  # the alarm gate (model.onset_confirm)
        self.confidence = 0.0  # S_conf of the newest window
        self.theta: Optional[float] = None  # theta of the newest window (None before one)
        self.state_count = 0  # consecutive frames above the state threshold
        self.state_onset: Optional[int] = None
        self.frames: deque = deque(maxlen=buffer_size)  # (t, source-size frame)


def pick_reference(frames: Sequence[Tuple[int, np.ndarray]], anchor: int, offset: int
                   ) -> Optional[np.ndarray]:
    """The buffered frame nearest to ``anchor - offset`` (not before frame 0); None when
    nothing is buffered."""
    if not frames:
        return None
    wanted = max(anchor - offset, 0)
    return min(frames, key=lambda item: abs(item[0] - wanted))[1]


@torch.no_grad()
def onset_stream_update(model, state: OnsetStreamState, frame: np.ndarray,
                        current: tuple) -> dict:
    """Consume one preprocessed frame; eq. 2 on the windows seen so far.

    Args:
        model: ``BleedOriginDetector`` (``frame_feature``, ``state_probability``,
            ``is_clean_view``, ``window_prediction``, ``buffer_frame`` and its
            ``window_size``, ``conf_thr``, ``state_thr``, ``state_run``,
            ``onset_decoder``, ``use_memory`` and, optionally, ``warmup_windows``,
            ``warmup_min_frames`` and ``onset_confirm``).
        state (OnsetStreamState): Updated in place.
        frame (np.ndarray): (H, W, 3) uint8 RGB as streamed (buffered for the source).
        current (tuple): ``model.onset_inputs(frame)``.

    Returns:
        dict: ``frame_index``, ``onset_frame`` (None until a window fired; with
        ``onset_decoder='state'`` the state decoder's onset, and eq. 2's moves to
        ``window_onset_frame``), ``confidence`` (S_conf of the newest window; 0 before N
        frames without warm-up windows), ``theta`` (its theta; None before the first
        window) and ``state_onset_frame`` (None without a state head).
    """
    state.index += 1
    t = state.index
    if state.prev is None:
        state.prev = current
        state.memory.push(current)
    memory = state.memory.padded() if model.use_memory else None
    feat, logits = model.frame_feature(current, state.prev, memory)
    state.feats.append(feat)
    if state.state_onset is None:
        prob = model.state_probability(feat)
        if prob is not None:
            state.state_count, state.state_onset = update_state_run(
                state.state_count, prob, model.state_thr, model.state_run, t)
    if t > 0 and model.is_clean_view(logits):
        state.memory.push(state.prev)
    state.prev = current
    state.frames.append((t, model.buffer_frame(frame)))
    window = model.window_size
    # the window ending at t, gathered as predict gathers it (warm-up windows repeat
    # frame 0, which state.feats still holds while t < N)
    newest = newest_window(t, window, getattr(model, 'warmup_windows', False),
                           getattr(model, 'warmup_min_frames', 1))
    if newest is not None:
        start, tokens = newest
        theta, conf = model.window_prediction(torch.stack(list(state.feats))[tokens][None])
        state.confidence = float(conf[0])
        state.theta = float(theta[0])
        if state.run is None:
            state.run = WindowRun(getattr(model, 'onset_confirm', 1))
        state.onset = update_window_onset(state.onset, start, float(theta[0]),
                                          float(conf[0]), window, model.conf_thr, state.run)
    if model.onset_decoder == 'state':
        return dict(frame_index=t, onset_frame=state.state_onset, confidence=state.confidence,
                    theta=state.theta, window_onset_frame=state.onset,
                    state_onset_frame=state.state_onset)
    return dict(frame_index=t, onset_frame=state.onset, confidence=state.confidence,
                theta=state.theta, state_onset_frame=state.state_onset)
