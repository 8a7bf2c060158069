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
"""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bleedorigin.evaluation.clips import iter_frames
from bleedorigin.evaluation.functional.onset_accuracy import onset_accuracy

#: Tolerances of Table 3 (frames).
TOLERANCES = (0, 1, 8)


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


def variant_name(lead: Optional[int] = None, tail: Optional[int] = None) -> str:
    if lead is not None:
        return f'onset {lead} frames after the start'
    if tail is not None:
        return f'stream ends {tail} frames after the onset'
    return 'as rendered'


def probe_onset_timing(detector, clips: Sequence, leads: Iterable[int] = (5, 15, 25),
                       tails: Iterable[int] = (10, 20), chunk: int = 32,
                       progress=None) -> Dict[str, List[dict]]:
    """Stream every re-timed variant of every positive clip.

    Args:
        detector: A streaming detector (``reset_stream``, ``stream_step``: e.g.
            :class:`~bleedorigin.apis.StreamDetector`).
        clips (Sequence): Bench clips (``ClipRecord``); negatives are skipped.
        leads, tails (Iterable[int]): The variants besides the clip as rendered.
        chunk (int): Frames decoded at a time.
        progress: Called with no argument after each clip (e.g. a progress bar's update).

    Returns:
        dict: variant name -> one record per clip: ``clip``, ``frames`` (kept),
        ``gt`` and ``pred`` (onset frames counted from the stream's start; ``pred`` None
        when the detector never fired).
    """
    variants = [(None, None)] + [(v, None) for v in leads] + [(None, v) for v in tails]
    results: Dict[str, List[dict]] = {variant_name(*v): [] for v in variants}
    for clip in clips:
        if clip.onset_frame is None:
            continue
        for lead, tail in variants:
            start, stop = retime(clip.num_frames, clip.onset_frame, lead, tail)
            detector.reset_stream()
            last = {}
            for _, frame in iter_frames(clip, start, stop, chunk):
                last = detector.stream_step(frame)
            results[variant_name(lead, tail)].append(dict(
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
