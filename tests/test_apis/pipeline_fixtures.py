"""Real detector and tracker, built from the project's configs with random weights.

The onset window is shortened and the S_conf threshold set to 0 so an untrained
detector fires at its first full window: the pipeline's control flow (onset ->
source -> tracker catch-up) is then exercised deterministically with the real
registered modules.
"""
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEST_WINDOW = 6


def stream_frames(count, height=48, width=64, onset=None, seed=0):
    """Tissue-like frames; a red bleeding spot grows from ``onset`` at (40, 24)."""
    rng = np.random.default_rng(seed)
    base = np.empty((height, width, 3), np.float32)
    base[..., 0], base[..., 1], base[..., 2] = 170, 110, 100
    base += rng.normal(0, 6, size=base.shape)
    yy, xx = np.mgrid[:height, :width]
    frames = []
    for t in range(count):
        frame = base.copy()
        if onset is not None and t >= onset:
            radius = 2 + (t - onset)
            blob = (xx - 40) ** 2 + (yy - 24) ** 2 <= radius ** 2
            frame[blob] = (150, 10, 15)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def build_models(window=TEST_WINDOW, conf_thr=0.0, refiner=None, confirm=False,
                 memory_stride=None):
    """The default detector (without its onset refiner unless ``refiner``, a dict of
    ``OnsetRefiner`` arguments for a random-weight one; ``confirm``: the refiner confirms
    eq. 2's alarm, the default decision since session 28; ``memory_stride``: MDCFM's, the
    config's when None) and tracker, small windows."""
    from bleedorigin.registry import MODELS
    from bleedorigin.utils import register_all_modules

    register_all_modules()
    torch.manual_seed(0)
    detect = Config.fromfile(osp.join(REPO, 'configs/bleedorigin/detect.py'))
    detect.model.onset_head.window_size = window
    detect.model.conf_thr = conf_thr
    detect.model.onset_refiner_checkpoint = None
    detect.model.onset_refiner = None if refiner is None else dict(
        detect.model.onset_refiner, **refiner)
    detect.model.onset_refine_confirm = confirm
    if memory_stride is not None:
        detect.model.mdcfm.memory_stride = memory_stride
    track = Config.fromfile(osp.join(REPO, 'configs/bleedorigin/track.py'))
    return MODELS.build(detect.model).eval(), MODELS.build(track.model).eval()

