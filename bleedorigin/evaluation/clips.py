"""Bench clips as the benchmark sees them: subsample, chunked frames.

The ground-truth onset sources are :meth:`ClipRecord.onset_sources` of the bench reader.
"""
from typing import Optional

import numpy as np


def subsample(clips: list, max_clips: Optional[int]) -> list:
    if not max_clips or len(clips) <= max_clips:
        return list(clips)
    picks = np.unique(np.linspace(0, len(clips) - 1, max_clips).round().astype(int))
    return [clips[i] for i in picks]


def iter_frames(clip, start: int, stop: int, chunk: int):
    """Yield (index, frame) for frames [start, stop), decoding ``chunk`` at a time."""
    for first in range(start, stop, chunk):
        indices = list(range(first, min(first + chunk, stop)))
        yield from zip(indices, clip.load_frames(indices))
