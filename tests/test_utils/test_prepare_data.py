"""``synthetic_data`` of a config: one data root or several, each rendered on first use."""
import pytest
from mmengine.config import Config

from bleedorigin.utils import launch


@pytest.mark.parametrize('spec,expected', [
    (dict(data_root='a', preset='default', seed=0), [('a', 'default', 0)]),
    ([dict(data_root='a', preset='default', seed=0),
      dict(data_root='b', preset='negative_streams', seed=1)],
     [('a', 'default', 0), ('b', 'negative_streams', 1)]),
    (None, []),
])
def test_prepare_data_renders_every_listed_root(monkeypatch, spec, expected):
    import bleedorigin.datasets.synthetic as synthetic

    calls = []
    monkeypatch.setattr(synthetic, 'ensure_synthetic',
                        lambda data_root, preset, seed: calls.append((data_root, preset, seed)))
    launch.prepare_data(Config(dict(synthetic_data=spec)))
    assert calls == expected


def test_warmup_config_lists_the_hard_negative_root():
    import os.path as osp
    cfg = Config.fromfile(osp.join(osp.dirname(__file__), '..', '..', 'configs', 'bleedorigin',
                                   'detect_warmup_hn.py'))
    assert cfg.model.warmup_windows is True
    roots = [d['data_root'] for d in cfg.train_dataloader.dataset.datasets]
    assert roots == ['data/synthetic', 'data/synthetic', 'data/negative_streams_train']
    assert [s['data_root'] for s in cfg.synthetic_data] == ['data/synthetic',
                                                            'data/negative_streams_train']
    # the validation and test sets are the default config's
    default = Config.fromfile(osp.join(osp.dirname(__file__), '..', '..', 'configs',
                                       'bleedorigin', 'detect.py'))
    assert cfg.test_dataloader.to_dict() == default.test_dataloader.to_dict()
    assert default.model.get('warmup_windows', False) is False
