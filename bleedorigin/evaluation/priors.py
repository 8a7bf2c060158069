"""Constant priors fitted on the train split (the "prior" rows of Tables 3 and 4)."""
import numpy as np


def prior_predictions(train_clips: list, clips: list, source_clips: list):
    """Constant priors fitted on the train split: median onset, mean relative source."""
    onsets = [c.onset_frame for c in train_clips if c.onset_frame is not None]
    rel = [(s.x / c.width, s.y / c.height) for c in train_clips for s in c.onset_sources()]
    if not onsets or not rel:
        return None, None
    median = int(round(float(np.median(onsets))))
    mean_x, mean_y = np.mean(rel, axis=0)
    onset = [min(median, c.num_frames - 1) for c in clips]
    source = [(mean_x * c.width, mean_y * c.height) for c in source_clips]
    return onset, source
