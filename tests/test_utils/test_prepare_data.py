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


def test_prepare_data_for_testing_renders_only_the_roots_the_test_split_reads(monkeypatch):
    """tools/test.py of a fine-tuned detector renders the benchmark, not its training streams."""
    import os.path as osp

    import bleedorigin.datasets.synthetic as synthetic

    calls = []
    monkeypatch.setattr(synthetic, 'ensure_synthetic',
                        lambda data_root, preset, seed: calls.append(data_root))
    cfg = Config(dict(
        synthetic_data=[dict(data_root='data/bench', preset='default', seed=0),
                        dict(data_root='data/streams', preset='negative_streams', seed=1)],
        train_dataloader=dict(dataset=dict(type='ConcatDataset', datasets=[
            dict(data_root='data/bench'), dict(data_root='data/streams')])),
        test_dataloader=dict(dataset=dict(type='ConcatDataset', datasets=[
            dict(data_root='./data/bench/', split='test'), dict(data_root='data/bench')]))))
    launch.prepare_data(cfg, parts=('test_dataloader', 'test_evaluator'))
    assert calls == ['data/bench']
    calls.clear()
    launch.prepare_data(cfg)  # training: every listed root
    assert calls == ['data/bench', 'data/streams']
    # the shipped hue stage lists eight roots; its test split reads one
    calls.clear()
    hue = Config.fromfile(osp.join(osp.dirname(__file__), '..', '..', 'configs', 'bleedorigin',
                                   'detect_hue.py'))
    assert len(hue.synthetic_data) == 8
    launch.prepare_data(hue, parts=('test_dataloader', 'test_evaluator'))
    assert calls == ['data/synthetic']
