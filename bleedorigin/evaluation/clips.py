"""Bench clips as the benchmark sees them: subsample, onset sources, chunked frames."""
from typing import List, Optional

import numpy as np


def subsample(clips: list, max_clips: Optional[int]) -> list:
    if not max_clips or len(clips) <= max_clips:
        return list(clips)
    picks = np.unique(np.linspace(0, len(clips) - 1, max_clips).round().astype(int))
    return [clips[i] for i in picks]


def onset_sources(clip) -> List[tuple]:
    """Ground-truth sources (group_id, x, y) on the onset frame, sorted by group id."""
    if clip.onset_frame is None:
        return []
    return sorted((s.group_id, s.x, s.y) for s in clip.annotations.get(clip.onset_frame) or [])


def iter_frames(clip, start: int, stop: int, chunk: int):
    """Yield (index, frame) for frames [start, stop), decoding ``chunk`` at a time."""
    for first in range(start, stop, chunk):
        indices = list(range(first, min(first + chunk, stop)))
        yield from zip(indices, clip.load_frames(indices))
