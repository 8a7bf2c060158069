"""Constant priors fitted on the train split (the "prior" rows of Tables 3 and 4).

The onset prior is fitted by :func:`bleedorigin.datasets.onset_dataset.median_onset`
(also what ``BleedOnsetDataset`` gives ``OnsetMetric``) and applied to clips by
:func:`prior_onset_predictions` (also what ``OnsetMetric`` calls), so
``tools/test.py`` and the benchmark score the same prior the same way.
"""
from typing import List, Optional, Sequence

import numpy as np

from bleedorigin.datasets.onset_dataset import median_onset


def prior_onset_predictions(prior: int, num_frames: Sequence[int]) -> List[int]:
    """The constant onset prior on clips of ``num_frames`` frames (clipped to the last frame)."""
    return [min(int(prior), int(n) - 1) for n in num_frames]


def prior_predictions(train_clips: list, clips: list, source_clips: list):
    """Constant priors fitted on the train split: median onset, mean relative source.

    Returns:
        tuple: onset prediction per clip of ``clips`` and (x, y) per clip of
        ``source_clips``; ``(None, None)`` when the train split has no
        annotated onset.
    """
    onset: Optional[int] = median_onset(train_clips)
    rel = [(s.x / c.width, s.y / c.height) for c in train_clips for s in c.onset_sources()]
    if onset is None or not rel:
        return None, None
    mean_x, mean_y = np.mean(rel, axis=0)
    source = [(mean_x * c.width, mean_y * c.height) for c in source_clips]
    return prior_onset_predictions(onset, [c.num_frames for c in clips]), source
