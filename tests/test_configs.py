"""Every shipped config parses, inherits its bases and builds its model."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

import bleedorigin  # noqa: F401
from bleedorigin.registry import MODELS

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..'))
CONFIGS = sorted(glob.glob(osp.join(REPO_ROOT, 'configs', 'bleedorigin', '**', '*.py'),
                           recursive=True))


def test_configs_are_found():
    names = {osp.relpath(c, osp.join(REPO_ROOT, 'configs', 'bleedorigin')) for c in CONFIGS}
    assert {'detect.py', 'track.py', 'track_pretrain.py', 'track_selftrain.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.basename(p))
def test_config_builds_its_model(path):
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
    # paper constants come from the configs, not from literals in the code
    if cfg.model.type == 'BleedOriginDetector':
        assert cfg.model.onset_head.window_size == 60 and cfg.model.conf_thr == 0.5
        assert cfg.model.mdcfm.alpha == 0.5 and cfg.model.mdcfm.gamma == 0.5
    else:
        assert cfg.model.type == 'BleedTrackOn'
