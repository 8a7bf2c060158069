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
from functools import partial
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import torch

from bleedorigin.utils.side_thread import side_pool, use_side_thread

from .onset_decoding import (
    WindowRun,
    newest_window,
    update_state_run,
    update_window_onset,
    window_onset,
)
from .onset_refine import refine_frame, refine_ready
from .onset_views import combine_views, flip_onset_inputs


class OnsetViewState:
    """The per-view part of the stream: previous frame, clean-view memory, the newest
    window of frame features (one per flip view of ``onset_views``)."""

    def __init__(self, memory: Any, window_size: int) -> None:
        self.prev: Optional[tuple] = None
        self.memory = memory
        self.feats: deque = deque(maxlen=window_size)
        self.vetoed = 0  # frames the state veto kept out since the memory last grew


class OnsetStreamState:
    """Bounded state of the online onset detector for one video.

    Args:
        memory: The clean-view memory (``CleanViewMemory`` of the model's MDCFM size).
        window_size (int): N: frame features kept for the newest window.
        buffer_size (int): Source-size frames kept for the reference of the source
            branch (``reference_offset + N + 1``).
        view_memories (Sequence, optional): One more clean-view memory per flip view of
            the model's ``onset_views`` (:class:`OnsetViewState` each, in ``views``).
        anchor (ColourAnchor, optional): The video's colour anchor (the model's
            ``make_colour_anchor()``); its turn is decided on the first frame
            :func:`onset_stream_step` receives.
    """

    def __init__(self, memory: Any, window_size: int, buffer_size: int,
                 view_memories: Sequence[Any] = (), anchor: Any = None) -> None:
        if window_size < 1 or buffer_size < 1:
            raise ValueError(f'OnsetStreamState: window_size and buffer_size must be >= 1, '
                             f'got {window_size}, {buffer_size}')
        self.index = -1  # frames seen - 1
        self.prev: Optional[tuple] = None  # (small uint8, rgb, hsv) of the previous frame
        self.memory = memory
        self.feats: deque = deque(maxlen=window_size)  # (D,) per frame, newest last
        self.vetoed = 0  # frames the state veto kept out since the memory last grew
        self.onset: Optional[int] = None  # eq. 2, earliest over the windows seen
        self.run: Optional[WindowRun] = None  # the alarm gate (model.onset_confirm)
        self.confidence = 0.0  # S_conf of the newest window
        self.theta: Optional[float] = None  # theta of the newest window (None before one)
        self.state_count = 0  # consecutive frames above the state threshold
        self.state_onset: Optional[int] = None
        self.frames: deque = deque(maxlen=buffer_size)  # (t, source-size frame)
        self.views = [OnsetViewState(m, window_size) for m in view_memories]
        # the onset refiner (model.onset_refiner): refiner-size frames of the last
        # N + 2R + 2 frames, and its answer for the eq. 2 onset it last looked at
        self.refine_frames: Optional[deque] = None
        self.refined_for: Optional[int] = None
        self.refined: Optional[int] = None
        # the windows (model.onset_refine_search) the answer was computed with, and
        # whether no window still to come can change it
        self.refined_windows = 0
        self.refine_final = False
        # model.onset_refine_confirm: eq. 2's candidates and the refiner's confirmations
        self.cascade: Any = None
        self.anchor = anchor
        # eq. 1 on the newest frame pair of the video (not the flip views): MDCFM's RGB-HSV
        # and flow confidences and whether I_{t-1} entered the clean-view memory (None on
        # the first frame); read by diagnostics (onset_trace), not by the decision
        self.memory_gate: Optional[Tuple[float, float, Optional[bool]]] = None

    @classmethod
    def for_model(cls, model: Any) -> 'OnsetStreamState':
        """A fresh state for one video of ``model`` (an onset step model): the memories
        from its MDCFM (``mdcfm.new_memory()``, one more per flip view of ``onset_views``),
        the window of ``window_size`` frames, the source buffer of
        ``reference_offset + window_size + 1`` frames and its colour anchor, if it has one."""
        make_anchor = getattr(model, 'make_colour_anchor', None)
        return cls(model.mdcfm.new_memory(), model.window_size,
                   model.reference_offset + model.window_size + 1,
                   [model.mdcfm.new_memory() for _ in getattr(model, 'onset_views', ())],
                   anchor=make_anchor() if make_anchor is not None else None)


def reference_anchor(state: OnsetStreamState) -> int:
    """The frame the source reference is taken ``reference_offset`` frames before: the
    onset the stream reports (the refiner's answer for eq. 2's current onset when it has
    one, else eq. 2's), or the newest frame before any window fired."""
    if state.onset is None:
        return state.index
    if state.refined is not None and state.refined_for == state.onset:
        return state.refined
    return state.onset


def pick_reference(frames: Sequence[Tuple[int, np.ndarray]], anchor: int, offset: int
                   ) -> Optional[np.ndarray]:
    """The buffered frame nearest to ``anchor - offset`` (not before frame 0); None when
    nothing is buffered."""
    if not frames:
        return None
    wanted = max(anchor - offset, 0)
    return min(frames, key=lambda item: abs(item[0] - wanted))[1]


@torch.no_grad()
def onset_stream_step(model, state: OnsetStreamState, frame: np.ndarray) -> dict:
    """Consume one (H, W, 3) uint8 RGB frame as decoded: the colour anchor's turn
    (decided on the stream's first frame; none without ``state.anchor``), the model's
    one preprocessing step (``model.onset_inputs``) and :func:`onset_stream_update`.
    The onset branch and its refiner read the turned frame, the source buffer the frame
    as given."""
    anchor = state.anchor
    turned = frame
    if anchor is not None:
        if state.index < 0:
            anchor.start(frame)
        turned = anchor.apply(frame)
    return onset_stream_update(model, state, frame, model.onset_inputs(turned),
                               onset_frame=turned)


@torch.no_grad()
def onset_stream_update(model, state: OnsetStreamState, frame: np.ndarray,
                        current: tuple, onset_frame: Optional[np.ndarray] = None) -> dict:
    """Consume one preprocessed frame; eq. 2 on the windows seen so far.

    Args:
        model: ``BleedOriginDetector`` (``frame_features``, the views of a frame in one
            batch, or else ``frame_feature`` once per view; ``state_probability``,
            ``is_clean_view``, ``window_prediction``, ``buffer_frame`` and its
            ``window_size``, ``conf_thr``, ``state_thr``, ``state_run``,
            ``onset_decoder``, ``use_memory`` and, optionally, ``warmup_windows``,
            ``warmup_min_frames`` and ``onset_confirm``).
        state (OnsetStreamState): Updated in place.
        frame (np.ndarray): (H, W, 3) uint8 RGB as streamed (buffered for the source).
        current (tuple): ``model.onset_inputs(frame)``.
        onset_frame (np.ndarray, optional): The frame the onset refiner reads (the
            colour anchor's turn of ``frame``, :func:`onset_stream_step`); default
            ``frame``.

    Returns:
        dict: ``frame_index``, ``onset_frame`` (None until a window fired; with
        ``onset_decoder='state'`` the state decoder's onset, and eq. 2's moves to
        ``window_onset_frame``), ``confidence`` (S_conf of the newest window; 0 before N
        frames without warm-up windows), ``theta`` (its theta; None before the first
        window) and ``state_onset_frame`` (None without a state head). With an onset
        refiner (``model.onset_refiner``) ``onset_frame`` is the refined onset once the
        frames up to eq. 2's onset + R have arrived (``onset_refined`` True), eq. 2's
        until then, and ``coarse_onset_frame`` is eq. 2's. With flip views
        (``model.onset_views``) ``confidence`` and ``theta`` are the views' combined
        window (``combine_views``), the one eq. 2 decides on. ``memory_gate``: eq. 1 on
        the video's newest frame pair, (RGB-HSV confidence, flow confidence, whether
        I_{t-1} entered the clean-view memory; None on the first frame).
    """
    state.index += 1
    t = state.index
    views = getattr(model, 'onset_views', ())
    if len(state.views) < len(views):
        raise ValueError(f'onset_stream_update: the model has {len(views)} flip view(s) '
                         f'{tuple(views)} but the stream state holds {len(state.views)}; '
                         'build it with one view memory per view (StreamDetector does)')
    # the frame's OpenCV work that the network does not read: the source buffer's and
    # the onset refiner's resizes (in the side worker with ``model.stream_thread``)
    refiner_reads = (model.onset_decoder != 'state'
                     and getattr(model, 'onset_refiner', None) is not None)
    refine_source = frame if onset_frame is None else onset_frame

    def side_frames() -> Tuple[np.ndarray, Optional[np.ndarray]]:
        return (model.buffer_frame(frame),
                refine_frame(refine_source, model.onset_refine_size) if refiner_reads
                else None)

    pool = side_pool() if use_side_thread(getattr(model, 'stream_thread', False)) else None
    # the video and each flip view, their frame features in one batch
    feat, side = _views_update(model, [state] + state.views[:len(views)],
                               [current] + [flip_onset_inputs(current, name) for name in views],
                               t, pool, side_frames)
    try:
        _state_update(model, state, feat, t)
        _window_update(model, state, len(views), t)
    finally:
        if side is not None:  # the side work has finished before the step goes on
            side.exception()
    buffered, refine_small = side_frames() if side is None else side.result()
    state.frames.append((t, buffered))
    if model.onset_decoder == 'state':
        return dict(frame_index=t, onset_frame=state.state_onset, confidence=state.confidence,
                    theta=state.theta, window_onset_frame=state.onset,
                    state_onset_frame=state.state_onset, memory_gate=state.memory_gate)
    refined = _refine_update(model, state, refine_small, t)
    out = dict(frame_index=t, onset_frame=state.onset, confidence=state.confidence,
               theta=state.theta, state_onset_frame=state.state_onset,
               memory_gate=state.memory_gate)
    if refined is not None:
        coarse = state.onset if state.cascade is None else state.cascade.candidate
        out.update(coarse_onset_frame=coarse, onset_refined=refined[1],
                   onset_frame=refined[0])
    return out


def _window_update(model, state: OnsetStreamState, num_views: int, t: int) -> None:
    """Eq. 2 on the newest window ending at ``t`` (through every view, combined)."""
    window = model.window_size
    # the window ending at t, gathered as predict gathers it (warm-up windows repeat
    # frame 0, which state.feats still holds while t < N)
    newest = newest_window(t, window, getattr(model, 'warmup_windows', False),
                           getattr(model, 'warmup_min_frames', 1))
    if newest is None:
        return
    start, tokens = newest
    holders = [state] + state.views[:num_views]
    # every view's newest window in one call of the temporal transformer
    theta, conf = model.window_prediction(torch.stack(
        [torch.stack(list(v.feats))[tokens] for v in holders]))
    theta, conf = combine_views(theta.split(1), conf.split(1),
                                getattr(model, 'onset_view_reduce', 'mean'),
                                getattr(model, 'onset_view_theta', 'confident'))
    state.confidence = float(conf[0])
    state.theta = float(theta[0])
    if getattr(model, 'onset_refine_confirm', False):
        # the refiner cascade: the window proposes its own onset (_refine_update confirms)
        if state.cascade is None:
            state.cascade = model.make_refine_cascade()
        state.cascade.propose(window_onset(start, float(theta[0]), float(conf[0]), window,
                                           model.onset_candidate_thr))
        return
    if state.run is None:
        state.run = WindowRun(getattr(model, 'onset_confirm', 1))
    state.onset = update_window_onset(state.onset, start, float(theta[0]),
                                      float(conf[0]), window, model.conf_thr, state.run)


def _state_update(model, state: OnsetStreamState, feat: torch.Tensor, t: int) -> None:
    """The per-frame state decoder's run (until it has named an onset)."""
    if state.state_onset is None:
        prob = model.state_probability(feat)
        if prob is not None:
            state.state_count, state.state_onset = update_state_run(
                state.state_count, prob, model.state_thr, model.state_run, t)


def _refine_update(model, state: OnsetStreamState, small: Optional[np.ndarray], t: int
                   ) -> Optional[Tuple[Optional[int], bool]]:
    """Buffer the frame for the onset refiner (``small``: the frame at
    ``model.onset_refine_size``, :func:`refine_frame`) and, once the frames up to eq. 2's onset
    + R exist, ask it (again when eq. 2's onset moves or the frames of another
    ``onset_refine_search`` window arrive). Returns None without a refiner, else (the
    onset to report, whether it is final: the refiner has answered for this onset and no
    window still to come can change the answer)."""
    refiner = getattr(model, 'onset_refiner', None)
    if refiner is None:
        return None
    if state.refine_frames is None:
        # frames back to the first candidate of the earliest window and on to the newest
        shifts = model.onset_refine_search + (0, )
        span = 2 * refiner.radius + 1
        reach = max(shifts) - min(shifts)
        state.refine_frames = deque(maxlen=model.window_size + 2 * refiner.radius + 2
                                    + reach * span)
    state.refine_frames.append((t, small))
    if state.cascade is not None:
        # eq. 2's candidates, confirmed by the refiner as their windows' frames arrive
        if state.onset is None:
            state.onset = state.cascade.step(
                t, partial(model.refine_window, read_frames=_buffered_reader(state)))
        return state.onset, state.onset is not None
    onset = state.onset
    if onset is None:
        return None, False
    if not refine_ready(onset, refiner.radius, t):
        return onset, False
    # asked again when eq. 2's onset moves or another search window's frames arrive; the
    # answer at the clip's end is the offline one (same windows, same order)
    ready = model.refine_windows(onset, t)
    if state.refined_for != onset or state.refined_windows != len(ready):
        state.refined, used = model.refine_search(onset, _buffered_reader(state), last_frame=t)
        state.refined_for, state.refined_windows = onset, len(ready)
        # final once no window still to come precedes the one that answered
        every = model.refine_windows(onset)
        pending = [i for i, centre in enumerate(every) if centre not in ready]
        state.refine_final = not pending or (used is not None
                                             and every.index(used) < pending[0])
    return state.refined, state.refine_final


def _buffered_reader(state: OnsetStreamState) -> Callable[[Sequence[int]], list]:
    """Frame indices -> the refiner-size frames the stream buffered
    (``state.refine_frames``), as ``refine_search`` / ``refine_window`` read them; the
    index is built on the first read only (most frames of a cascade ask nothing)."""
    kept: dict = {}

    def read(indices: Sequence[int]) -> list:
        if not kept:
            kept.update(state.refine_frames)
        return [kept[i] for i in indices]
    return read


def state_vetoes(model, vetoed: int, probability: Callable[[], float]) -> bool:
    """Whether the memory's state veto (``model.memory_state_veto``) keeps I_{t-1} out
    though eq. 1 calls it clean: frame t's state P(bleeding) (``probability()``, asked
    only when the veto can apply) reaches the veto and the veto has kept out fewer than
    ``model.memory_state_veto_frames`` frames since the memory last grew (None: no
    bound). The offline path (``BleedOriginDetector._state_veto_features``) runs the
    same rule."""
    veto = getattr(model, 'memory_state_veto', None)
    if veto is None:
        return False
    bound = getattr(model, 'memory_state_veto_frames', None)
    if bound is not None and vetoed >= bound:
        return False
    return probability() >= veto


def _views_update(model, holders: Sequence[Any], currents: Sequence[tuple], t: int,
                  pool: Any = None, side: Optional[Callable[[], Any]] = None
                  ) -> Tuple[torch.Tensor, Any]:
    """Frame features of frame ``t`` through every view; updates each view's memory,
    previous frame and window (``holders``: the :class:`OnsetStreamState` itself, then
    its :class:`OnsetViewState` per flip view; ``currents``: each view's inputs).
    The views go through the network in one batch (``model.frame_features``) when the
    model has it.

    With a ``pool`` (the side worker), the DIS flows to the clean-view memory
    (``model.memory_flows``) and then ``side`` run there while MDCFM runs here.

    Returns:
        tuple: the first view's (the video's) (D,) feature and the future of ``side``
        (None without a pool or ``side``: the caller runs it).
    """
    for view, current in zip(holders, currents):
        if view.prev is None:
            view.prev = current
            view.memory.push(current)
    items = [(current, view.prev, view.memory.padded() if model.use_memory else None)
             for view, current in zip(holders, currents)]
    batched = getattr(model, 'frame_features', None)
    flows = side_future = None
    if pool is not None:
        if batched is not None and model.use_memory and hasattr(model, 'memory_flows'):
            flows = pool.submit(model.memory_flows, items)
        if side is not None:
            side_future = pool.submit(side)
    try:
        if batched is not None:
            feats, logits = batched(items) if flows is None else batched(items, flows)
            logits = logits.split(1)
        else:
            feats, logits = zip(*[model.frame_feature(*item) for item in items])
    except BaseException:
        # never leave work of this stream running in the worker
        for future in (flows, side_future):
            if future is not None:
                future.exception()
        raise
    for index, (view, current, feat, logit) in enumerate(zip(holders, currents, feats, logits)):
        view.feats.append(feat)
        clean = t > 0 and model.is_clean_view(logit)
        if clean and state_vetoes(model, view.vetoed, partial(model.state_probability, feat)):
            # the state head already sees bleeding in frame t: I_{t-1} stays out
            clean = False
            view.vetoed += 1
        if clean:
            view.memory.push(view.prev)
            view.vetoed = 0
        if index == 0:
            conf = logit.detach().float().sigmoid().flatten().tolist()
            view.memory_gate = (conf[0], conf[1], clean if t > 0 else None)
        view.prev = current
    return feats[0], side_future
