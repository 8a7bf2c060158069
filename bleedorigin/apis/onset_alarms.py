"""Onset alarms as a clinician counts them: false alarms per hour of non-bleeding video and
the alert latency (frames from the true onset to the alarm) on positive clips.

The detector's ``stream_step`` keeps its onset once eq. 2 has fired; here an alarm is
the frame at which that first happens. On a long negative stream the alarm is then
dismissed (``reset_stream``) and watching resumes, as a clinician would after checking
the field, so every further alarm counts again.
"""
import contextlib
import json
import os.path as osp
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from bleedorigin.models.utils.onset_decoding import WindowRun, update_window_onset, window_onset


def stream_alarms(detector, frames: Iterable[np.ndarray], rearm: bool = True) -> dict:
    """Stream frames through ``detector.stream_step`` and record every alarm.

    Args:
        detector: Object with ``reset_stream()`` and ``stream_step(frame) -> dict``
            holding ``onset_frame`` (None until eq. 2 fires).
        frames (Iterable[np.ndarray]): (H, W, 3) uint8 RGB frames.
        rearm (bool): After an alarm, reset the detector and keep watching (long
            negative streams); False stops counting after the first alarm.

    Returns:
        dict: ``alerts`` (stream frame index of each alarm), ``onsets`` (the onset
        frame each alarm reported, in stream frames) and ``num_frames``.
    """
    detector.reset_stream()
    alerts: List[int] = []
    onsets: List[int] = []
    offset, count, armed = 0, 0, True
    for index, frame in enumerate(frames):
        count = index + 1
        if not armed:
            continue
        state = detector.stream_step(frame)
        if state.get('onset_frame') is not None:
            alerts.append(index)
            onsets.append(offset + int(state['onset_frame']))
            if rearm:
                detector.reset_stream()
                offset = index + 1
            else:
                armed = False
    return dict(alerts=alerts, onsets=onsets, num_frames=count)


def onset_trace(detector, frames: Iterable[np.ndarray]) -> dict:
    """One video through ``detector.stream_step`` (reset first), frame by frame: what eq. 2
    saw and what the detector reported, for plots of a clip's window confidence.

    Args:
        detector: Object with ``reset_stream()`` and ``stream_step(frame) -> dict``
            (``confidence``, ``theta``, ``onset_frame``, optionally ``coarse_onset_frame``).
        frames (Iterable[np.ndarray]): (H, W, 3) uint8 RGB frames.

    Returns:
        dict: per frame ``theta`` and ``confidence`` of the window ending there (None
        while none does), ``onset`` (the onset reported after that frame, None until
        the first alarm) and ``coarse_onset`` (eq. 2's onset before the refiner); and
        ``first_alert`` (the first frame with an onset, None: never) and ``num_frames``;
        with a step that reports eq. 1's gate (``memory_gate``), per frame
        ``rgbhsv_confidence`` and ``motion_confidence`` (eq. 1's two confidences of the
        pair ending there) and ``clean_view`` (whether the previous frame entered the
        clean-view memory), else None.
        The stream is not reset after an alarm (one positive clip).
    """
    detector.reset_stream()
    out: Dict[str, list] = dict(theta=[], confidence=[], onset=[], coarse_onset=[],
                                clean_view=[], rgbhsv_confidence=[], motion_confidence=[])
    first_alert = None
    for index, frame in enumerate(frames):
        state = detector.stream_step(frame)
        onset = state.get('onset_frame')
        has_window = state.get('theta') is not None
        out['theta'].append(float(state['theta']) if has_window else None)
        out['confidence'].append(float(state['confidence']) if has_window else None)
        out['onset'].append(None if onset is None else int(onset))
        coarse = state.get('coarse_onset_frame', onset)
        out['coarse_onset'].append(None if coarse is None else int(coarse))
        gate = state.get('memory_gate')
        out['rgbhsv_confidence'].append(None if gate is None else float(gate[0]))
        out['motion_confidence'].append(None if gate is None else float(gate[1]))
        out['clean_view'].append(None if gate is None or gate[2] is None else bool(gate[2]))
        if onset is not None and first_alert is None:
            first_alert = index
    return dict(out, first_alert=first_alert, num_frames=len(out['theta']))


def false_alarms_per_hour(num_alarms: int, num_frames: int, fps: float) -> float:
    """Alarms per hour of video of ``num_frames`` frames at ``fps``."""
    if num_frames <= 0 or fps <= 0:
        raise ValueError(f'false_alarms_per_hour: need positive num_frames and fps, got '
                         f'{num_frames} and {fps}')
    return float(num_alarms) * 3600.0 * float(fps) / float(num_frames)


def streams_alarm_rate(streams: Sequence[Tuple[int, int, float]]) -> dict:
    """False alarms per hour over several streams of possibly different frame rates.

    Args:
        streams (Sequence[tuple]): ``(alarms, num_frames, fps)`` per stream.

    Returns:
        dict: ``alarms``, ``frames``, ``minutes`` (total duration) and
        ``false_alarms_per_hour`` (alarms per hour of that duration).
    """
    alarms = sum(int(a) for a, _, _ in streams)
    frames = sum(int(n) for _, n, _ in streams)
    seconds = sum(int(n) / float(fps) for _, n, fps in streams)
    if seconds <= 0:
        raise ValueError('streams_alarm_rate: the streams hold no frame')
    # mean frame rate over the streams: alarms per hour of their total duration
    return dict(alarms=alarms, frames=frames, minutes=seconds / 60.0,
                false_alarms_per_hour=false_alarms_per_hour(alarms, frames, frames / seconds))


def alert_latencies(first_alerts: Sequence[Optional[int]],
                    gt_onsets: Sequence[int]) -> List[Optional[int]]:
    """Frames from the true onset to the first alarm of each positive clip (None: no
    alarm; negative: the alarm came before the onset)."""
    if len(first_alerts) != len(gt_onsets):
        raise ValueError(f'alert_latencies: {len(first_alerts)} alerts for {len(gt_onsets)} '
                         'onsets')
    return [None if a is None else int(a) - int(g) for a, g in zip(first_alerts, gt_onsets)]


def replay_alarms(thetas: Sequence[Optional[float]], confidences: Sequence[float],
                  window_size: int, conf_thr: float, confirm: int = 1, rearm: bool = True,
                  blind: Optional[int] = None) -> dict:
    """The alarms of a stream under the alarm gate ``confirm``, replayed from its trace.

    The trace is what ``stream_step`` returned per frame while the stream was watched
    without dismissals: ``theta`` (None while no window ends at that frame) and
    ``confidence`` of the window ending there (it starts at ``t - N + 1``). The windows
    are decoded with the detector's own rule (:func:`update_window_onset` and
    :class:`WindowRun`), so one trace gives the alarms of every gate K.

    After a dismissed alarm the stream is reset: no window ends in the next ``blind``
    frames (N - 1 without warm-up windows). The trace keeps the features of the
    undismissed stream, so the clean-view memory after a dismissal is the one the stream
    had, not an empty one: an approximation of :func:`stream_alarms` that is exact when
    no alarm is dismissed (positive clips, ``rearm=False``).

    Args:
        thetas (Sequence[float | None]): Per frame, theta of the window ending there.
        confidences (Sequence[float]): Per frame, its S_conf.
        window_size (int): N.
        conf_thr (float): Threshold of eq. 2.
        confirm (int): The gate K (>= 1; 1 is eq. 2 as printed).
        rearm (bool): Dismiss each alarm and keep watching (long negative streams);
            False: the first alarm, and the onset eq. 2 settles on over the whole stream.
        blind (int, optional): Frames after a dismissal without a window (default N - 1).

    Returns:
        dict: ``alerts`` (frame of each alarm), ``onsets`` (its onset; with
        ``rearm=False`` the onset at the end of the stream) and ``num_frames``.
    """
    if len(thetas) != len(confidences):
        raise ValueError(f'replay_alarms: {len(thetas)} thetas for {len(confidences)} '
                         'confidences')
    blind = window_size - 1 if blind is None else int(blind)
    alerts: List[int] = []
    onsets: List[int] = []
    run, onset, offset, resumed = WindowRun(confirm), None, 0, 0
    for t, (theta, conf) in enumerate(zip(thetas, confidences)):
        if theta is None or t < resumed:
            continue
        before = onset
        onset = update_window_onset(onset, t - window_size + 1, float(theta), float(conf),
                                    window_size, conf_thr, run)
        if onset is not None and before is None:
            # a window of the resumed watch may reach before the dismissal: the stream's
            # frame 0 is the first one after it
            alerts.append(t)
            onsets.append(max(onset, offset))
            if rearm:
                run, onset, offset = WindowRun(confirm), None, t + 1
                resumed = offset + blind
    if not rearm and onsets:
        onsets[-1] = max(onset, 0)
    return dict(alerts=alerts, onsets=onsets, num_frames=len(confidences))


def replay_confirmed_alarms(thetas: Sequence[Optional[float]], confidences: Sequence[float],
                            window_size: int, candidate_thr: float,
                            new_cascade: Callable[[], object], ask: Callable[[int], Optional[int]],
                            rearm: bool = True, blind: Optional[int] = None) -> dict:
    """The alarms of a stream under the refiner's confirmation (``RefineCascade``) at the
    candidate threshold ``candidate_thr``, replayed from its trace.

    Frame by frame as ``predict`` and the stream step it: the window ending at ``t``
    proposes its onset (:func:`window_onset` at ``candidate_thr``), then the cascade asks
    every pending window whose frames exist up to ``t``. The trace and the refiner's
    answers do not depend on the threshold, so one trace (and one answer per refiner
    window, ``ask`` may cache them) gives every threshold's alarms: exact on a positive
    clip or with ``rearm=False``; after a dismissed alarm the trace keeps the undismissed
    stream's memory and the refiner may read frames from before the dismissal (the
    approximation of :func:`replay_alarms`).

    Args:
        thetas, confidences: Per frame, theta and S_conf of the window ending there
            (theta None while no window does), as :func:`onset_trace` records them.
        window_size (int): N.
        candidate_thr (float): S_conf above which a window proposes its onset.
        new_cascade (callable): () -> a fresh ``RefineCascade`` (one per watch).
        ask (callable): Refiner window centre -> the frame it names (None: none).
        rearm (bool): Dismiss each alarm and keep watching (long negative streams).
        blind (int, optional): Frames after a dismissal without a window (default N - 1).

    Returns:
        dict: ``alerts`` (frame of each alarm), ``onsets`` (the onset it confirmed) and
        ``num_frames``.
    """
    if len(thetas) != len(confidences):
        raise ValueError(f'replay_confirmed_alarms: {len(thetas)} thetas for '
                         f'{len(confidences)} confidences')
    blind = window_size - 1 if blind is None else int(blind)
    alerts: List[int] = []
    onsets: List[int] = []
    cascade, offset, resumed = new_cascade(), 0, 0
    for t, (theta, conf) in enumerate(zip(thetas, confidences)):
        if t < resumed:
            continue
        if theta is not None:
            cascade.propose(window_onset(t - window_size + 1, float(theta), float(conf),
                                         window_size, candidate_thr))
        onset = cascade.step(t, ask)
        if onset is None:
            continue
        alerts.append(t)
        onsets.append(max(int(onset), offset))
        if not rearm:
            break
        cascade, offset = new_cascade(), t + 1
        resumed = offset + blind
    return dict(alerts=alerts, onsets=onsets, num_frames=len(confidences))


def trace_clip(detector, clip, chunk: int = 32) -> dict:
    """A clip's per-frame window trace (:func:`onset_trace` through ``detector``, a
    ``StreamDetector``), with its onset and frame rate: what the sweeps replay."""
    from bleedorigin.evaluation.clips import iter_frames

    trace = onset_trace(detector, (f for _, f in iter_frames(clip, 0, clip.num_frames, chunk)))
    return dict(onset=clip.onset_frame, fps=float(clip.fps), theta=trace['theta'],
                conf=trace['confidence'])


#: Key of the detector signature stored beside the cached traces.
SIGNATURE_KEY = '__detector__'


def sweep_sets(positive: Sequence[str], negative: Sequence[str]) -> List[Tuple[str, str, list]]:
    """The clip sets of a sweep tool's ``--positive ROOT:SPLIT`` and ``--negative ROOT`` (all
    splits of a stream root), as ``(name, root, splits)``; a bad argument raises ValueError
    naming it."""
    if not positive and not negative:
        raise ValueError('give at least one --positive ROOT:SPLIT or --negative ROOT')
    sets = []
    for spec in positive:
        root, sep, split = spec.rpartition(':')
        if not sep or not root:
            raise ValueError(f'--positive {spec!r}: expected ROOT:SPLIT')
        sets.append((f'positive:{root}:{split}', root, [split]))
    for root in negative:
        sets.append((f'negative:{root}', root, ['train', 'val', 'test']))
    for _, root, _ in sets:
        if not osp.isfile(osp.join(root, 'splits.json')):
            raise ValueError(f'{root}: not a bench root (splits.json missing)')
    return sets


def clip_sets(sets) -> List[Tuple[str, object]]:
    """``(key, clip)`` of every clip of ``sets`` (``(name, root, splits)``; a name
    starting with ``negative:`` keeps only the root's clips without an onset), keyed
    ``name|split|patient/clip``."""
    from bleedorigin.datasets.bench import BenchIndex

    todo = []
    for name, root, splits in sets:
        for split in splits:
            for clip in BenchIndex(root, split).clips:
                if name.startswith('negative:') and clip.onset_frame is not None:
                    continue  # a stream root's bleeding clips are not negative video
                todo.append((f'{name}|{split}|{clip.patient_id}/{clip.clip_id}', clip))
    return todo


def collect_traces(detector, sets, chunk, path, progress=True, signature=None) -> dict:
    """Traces (:func:`trace_clip`) of every clip of ``sets`` (:func:`clip_sets`), cached
    in ``path`` after every clip, so an interrupted sweep resumes.

    ``signature`` (JSON-able: config, checkpoint, overrides) is stored with the cache; a
    cache written for another signature is not reused (another decision, another trace).
    """
    from tqdm import tqdm

    from bleedorigin.utils.io import write_json_atomic

    signature = json.loads(json.dumps(signature))
    traces = {SIGNATURE_KEY: signature}
    if osp.isfile(path):
        with open(path) as f:
            cached = json.load(f)
        if cached.get(SIGNATURE_KEY) == signature:
            traces = cached
        else:
            print(f'{path}: traced by another detector or decision '
                  f'({cached.get(SIGNATURE_KEY)}); tracing again')
    todo = clip_sets(sets)
    with refiner_off(getattr(detector, 'model', None)):
        for key, clip in tqdm(todo, desc='tracing', unit='clip', disable=not progress):
            if key in traces:
                continue
            traces[key] = trace_clip(detector, clip, chunk)
            write_json_atomic(path, traces, indent=None)
    return {key: traces[key] for key, _ in todo}


@contextlib.contextmanager
def refiner_off(model):
    """The onset refiner and its confirmation switched off on ``model`` for the block.

    A trace keeps eq. 2's window outputs only (``theta``, ``S_conf``), which neither the
    refiner nor the confirmation feeds back into, so tracing without them gives the same
    trace without buffering refiner frames or asking the refiner (the sweeps ask it
    afterwards, cached). ``model`` None or without a refiner: nothing changes.
    """
    saved = {}
    if model is not None and getattr(model, 'onset_refiner', None) is not None:
        saved = dict(onset_refiner=model.onset_refiner,
                     onset_refine_confirm=getattr(model, 'onset_refine_confirm', False))
    try:
        if saved:
            model.onset_refiner = None
            model.onset_refine_confirm = False
        yield model
    finally:
        for name, value in saved.items():
            setattr(model, name, value)


def replay_figures(traces: Sequence[dict], alarms_of: Callable[[dict, bool], dict],
                   negative: bool) -> dict:
    """The figures of one decision replayed over traces (:func:`trace_clip` dicts).

    Args:
        traces (Sequence[dict]): One set's traces.
        alarms_of (callable): (trace, rearm) -> ``alerts`` / ``onsets`` / ``num_frames``
            (:func:`replay_alarms`, :func:`replay_confirmed_alarms`).
        negative (bool): Long negative streams (dismissed alarms re-arm) or clips.

    Returns:
        dict: On streams ``alarms``, ``minutes``, ``per_hour``; on clips Table 3
        (``onset_accuracy``), ``latency_median`` / ``latency_p90`` and the counts
        ``exact``, ``missed``, ``outside_8`` and ``alarmed_negatives``. ``errors``: the
        stream alarms, or missed + outside ±8 + alarmed negative clips.
    """
    from bleedorigin.evaluation.functional import onset_accuracy

    from .clip_evaluation import latency_statistics

    if negative:
        rate = streams_alarm_rate([
            (len(alarms_of(v, True)['alerts']), len(v['conf']), v['fps']) for v in traces])
        return dict(alarms=rate['alarms'], minutes=rate['minutes'],
                    per_hour=rate['false_alarms_per_hour'], errors=rate['alarms'])
    preds, gts, lengths, latencies = [], [], [], []
    for v in traces:
        out = alarms_of(v, False)
        preds.append(out['onsets'][0] if out['onsets'] else None)
        gts.append(v['onset'])
        lengths.append(len(v['conf']))
        if v['onset'] is not None:
            latencies.append(out['alerts'][0] - v['onset'] if out['alerts'] else None)
    figures = onset_accuracy(preds, gts, lengths)
    stats = latency_statistics(latencies)
    pairs = [(p, g) for p, g in zip(preds, gts) if g is not None]
    figures.update(
        latency_median=stats['median'], latency_p90=stats['p90'],
        exact=sum(p is not None and p == g for p, g in pairs),
        missed=sum(p is None for p, _ in pairs),
        outside_8=sum(p is not None and abs(p - g) > 8 for p, g in pairs),
        alarmed_negatives=sum(p is not None for p, g in zip(preds, gts) if g is None))
    figures['errors'] = figures['missed'] + figures['outside_8'] + figures['alarmed_negatives']
    return figures
