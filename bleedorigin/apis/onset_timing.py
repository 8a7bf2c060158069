"""Onset timing probe: does the detector rely on where the generator puts the onset?

The built-in generator draws onsets 30 to 130 frames into 150-frame clips. Another
renderer, or a real recording cut at another moment, places the onset elsewhere. The
probe re-times every positive clip of a split without rendering anything new: it drops
leading frames so that the stream starts ``lead`` frames before the onset, or drops
trailing frames so that the stream ends ``tail`` frames after it, streams the kept frames
through the detector (the deployment path) and scores the onset it reports when the
stream ends (the provisional onset when the refiner is still searching, as
``BleedOriginNet.finish`` settles it).

Eq. 2 decides on windows of N frames, so a stream shorter than N has no window and no
onset; the table counts those clips apart (``short``) and scores the rest alone too.

The same probe also changes every frame's look (:data:`APPEARANCE`: hue, saturation,
exposure, blur, JPEG, sensor noise), a cheap stand-in for another renderer's textures and
another camera: the onset is still the same frame.
"""
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from bleedorigin.evaluation.clips import iter_frames
from bleedorigin.evaluation.functional.onset_accuracy import onset_accuracy
from bleedorigin.models.utils import turn_hue

#: Tolerances of Table 3 (frames).
TOLERANCES = (0, 1, 8)


def _saturate(frame: np.ndarray, factor: float) -> np.ndarray:
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
    hsv[..., 1] = np.clip(hsv[..., 1] * factor, 0, 255).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def _gamma(frame: np.ndarray, gamma: float) -> np.ndarray:
    table = np.rint(255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8)
    return table[frame]


def _blur(frame: np.ndarray, fraction: float) -> np.ndarray:
    return cv2.GaussianBlur(frame, (0, 0), fraction * max(frame.shape[:2]))


def _jpeg(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode('.jpg', frame[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1])


def _noise(frame: np.ndarray, sigma: float, index: int) -> np.ndarray:
    rng = np.random.default_rng(index)  # the same noise for a frame in every run
    return np.clip(frame + rng.normal(0.0, sigma, frame.shape), 0, 255).astype(np.uint8)


#: Appearance changes of the probe: name -> f(frame (H, W, 3) uint8 RGB, frame index).
#: Hue in OpenCV's 0-180 units (8: 16 degrees); gamma > 1 darkens; blur sigma 0.5 % of the
#: frame's long side; JPEG quality 20; Gaussian sensor noise of sigma 8 grey levels.
APPEARANCE: Dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    'hue+8': lambda f, i: turn_hue(f, 8),
    'hue-8': lambda f, i: turn_hue(f, -8),
    'saturation0.6': lambda f, i: _saturate(f, 0.6),
    'gamma1.6': lambda f, i: _gamma(f, 1.6),
    'gamma0.6': lambda f, i: _gamma(f, 0.6),
    'blur0.5%': lambda f, i: _blur(f, 0.005),
    'jpeg20': lambda f, i: _jpeg(f, 20),
    'noise8': lambda f, i: _noise(f, 8.0, i),
}


def retime(num_frames: int, onset: int, lead: Optional[int] = None,
           tail: Optional[int] = None) -> Tuple[int, int]:
    """The frames [start, stop) kept so that the onset comes ``lead`` frames after the
    stream's start, or the stream ends ``tail`` frames after the onset frame (the onset
    frame and ``tail - 1`` more are kept). Neither: the whole clip.

    Raises:
        ValueError: both given, a negative value, or an onset outside the clip.
    """
    if not 0 <= onset < num_frames:
        raise ValueError(f'retime: onset {onset} outside a clip of {num_frames} frames')
    if lead is not None and tail is not None:
        raise ValueError('retime: give lead or tail, not both')
    if (lead is not None and lead < 0) or (tail is not None and tail < 1):
        raise ValueError(f'retime: lead must be >= 0 and tail >= 1, got {lead}, {tail}')
    start = 0 if lead is None else max(onset - lead, 0)
    stop = num_frames if tail is None else min(onset + tail, num_frames)
    return start, stop


def variant_name(lead: Optional[int] = None, tail: Optional[int] = None,
                 look: Optional[str] = None) -> str:
    if look is not None:
        return f'look: {look}'
    if lead is not None:
        return f'onset {lead} frames after the start'
    if tail is not None:
        return f'stream ends {tail} frames after the onset'
    return 'as rendered'


def resolve_looks(names: Iterable[str]) -> List[str]:
    """Look names of :data:`APPEARANCE` (``['all']``: every one), in the order given.

    Raises:
        KeyError: naming the unknown names and the known ones.
    """
    names = list(names)
    if names == ['all']:
        return list(APPEARANCE)
    unknown = [name for name in names if name not in APPEARANCE]
    if unknown:
        raise KeyError(f'unknown {unknown}; known: {list(APPEARANCE)} or all')
    return names


def probe_onset_timing(detector, clips: Sequence, leads: Iterable[int] = (5, 15, 25),
                       tails: Iterable[int] = (10, 20), looks: Iterable[str] = (),
                       chunk: int = 32, progress=None) -> Dict[str, List[dict]]:
    """Stream every re-timed (and re-looked) variant of every positive clip.

    Args:
        detector: A streaming detector (``reset_stream``, ``stream_step``: e.g.
            :class:`~bleedorigin.apis.StreamDetector`).
        clips (Sequence): Bench clips (``ClipRecord``); negatives are skipped.
        leads, tails (Iterable[int]): The re-timed variants besides the clip as rendered.
        looks (Iterable[str]): Names of :data:`APPEARANCE`: the whole clip, every frame
            changed.
        chunk (int): Frames decoded at a time.
        progress: Called with no argument after each clip (e.g. a progress bar's update).

    Returns:
        dict: variant name -> one record per clip: ``clip``, ``frames`` (kept),
        ``gt`` and ``pred`` (onset frames counted from the stream's start; ``pred`` None
        when the detector never fired).

    Raises:
        KeyError: an unknown look (:func:`resolve_looks`).
    """
    variants = ([(None, None, None)] + [(v, None, None) for v in leads]
                + [(None, v, None) for v in tails]
                + [(None, None, v) for v in resolve_looks(looks)])
    results: Dict[str, List[dict]] = {variant_name(*v): [] for v in variants}
    for clip in clips:
        if clip.onset_frame is None:
            continue
        for lead, tail, look in variants:
            start, stop = retime(clip.num_frames, clip.onset_frame, lead, tail)
            change = APPEARANCE[look] if look is not None else None
            detector.reset_stream()
            last = {}
            for index, frame in iter_frames(clip, start, stop, chunk):
                last = detector.stream_step(frame if change is None else change(frame, index))
            results[variant_name(lead, tail, look)].append(dict(
                clip=f'{clip.patient_id}/{clip.clip_id}', frames=stop - start,
                gt=clip.onset_frame - start, pred=last.get('onset_frame')))
        if progress is not None:
            progress()
    return results


def timing_rows(results: Dict[str, List[dict]], window_size: int) -> List[dict]:
    """One row per variant: Table 3's Acc±k (``onset_accuracy``) and misses over every
    clip, and the same over the clips of at least ``window_size`` frames (``long_*``)."""
    rows = []
    for name, records in results.items():
        row = dict(variant=name, clips=len(records))
        long = [r for r in records if r['frames'] >= window_size]
        for prefix, group in (('', records), ('long_', long)):
            acc = onset_accuracy([r['pred'] for r in group], [r['gt'] for r in group],
                                 [r['frames'] for r in group], TOLERANCES)
            row[f'{prefix}clips'] = len(group)
            row[f'{prefix}miss'] = sum(r['pred'] is None for r in group)
            row.update({f'{prefix}acc_{k}': acc[f'acc_{k}'] for k in TOLERANCES})
        row['short'] = len(records) - len(long)
        rows.append(row)
    return rows


def format_timing_table(rows: List[dict], window_size: int) -> str:
    """Markdown table of :func:`timing_rows`."""
    lines = [f'| variant | clips | Acc±0 | Acc±1 | Acc±8 | miss | clips < N = {window_size} '
             '(no window) | clips >= N: Acc±0 / ±1 / ±8 | miss |',
             '|---|---:|---:|---:|---:|---:|---:|---|---:|']
    for r in rows:
        lines.append(
            f"| {r['variant']} | {r['clips']} | {r['acc_0']:.2f} | {r['acc_1']:.2f} | "
            f"{r['acc_8']:.2f} | {r['miss']} | {r['short']} | "
            f"{r['long_acc_0']:.2f} / {r['long_acc_1']:.2f} / {r['long_acc_8']:.2f} "
            f"({r['long_clips']}) | {r['long_miss']} |")
    return '\n'.join(lines)
