"""Registry plumbing: our modules build from mmdet/mmpose registries with the
``bleedorigin.`` prefix, and mmengine-provided types build from ours."""
import logging

import torch
from mmdet.registry import MODELS as MMDET_MODELS
from mmengine.registry import DefaultScope
from mmpose.registry import MODELS as MMPOSE_MODELS

import bleedorigin  # noqa: F401  (registers the `bleedorigin` scope)
from bleedorigin.models.necks import MDGNeck
from bleedorigin.registry import HOOKS, MODELS, OPTIM_WRAPPERS


def _mdg_inputs():
    return (torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32), torch.rand(2, 2, 32, 32))


def test_build_our_neck_from_mmdet_registry():
    with DefaultScope.overwrite_default_scope('mmdet'):
        neck = MMDET_MODELS.build(dict(type='bleedorigin.MDGNeck', channels=8, out_channels=16))
    assert isinstance(neck, MDGNeck)
    (fused,) = neck(_mdg_inputs())
    assert fused.shape == (2, 16, 8, 8)


def test_build_our_neck_from_mmpose_registry():
    with DefaultScope.overwrite_default_scope('mmpose'):
        neck = MMPOSE_MODELS.build(dict(type='bleedorigin.MDGNeck', channels=8))
    assert isinstance(neck, MDGNeck)


def test_mmengine_types_build_from_our_registries_without_prefix():
    with DefaultScope.overwrite_default_scope('bleedorigin'):
        hook = HOOKS.build(dict(type='CheckpointHook', interval=2))
        conv = MODELS.build(dict(type='Conv2d', in_channels=3, out_channels=4, kernel_size=1))
        layer = torch.nn.Linear(2, 2)
        wrapper = OPTIM_WRAPPERS.build(dict(
            type='OptimWrapper', optimizer=torch.optim.SGD(layer.parameters(), lr=0.1)))
    assert type(hook).__name__ == 'CheckpointHook' and hook.interval == 2
    assert isinstance(conv, torch.nn.Conv2d)
    assert type(wrapper).__name__ == 'OptimWrapper'


def test_registries_are_children_of_mmengine_with_our_scope():
    from mmengine.registry import MODELS as MMENGINE_MODELS
    assert MODELS.scope == 'bleedorigin'
    assert MODELS.parent is MMENGINE_MODELS
    assert MMENGINE_MODELS.children['bleedorigin'] is MODELS


def test_keypoint_codecs_build_from_our_scope_without_the_fallback():
    """mmpose's codecs are built under our default scope through mmpose's own scope (no
    "Failed to search registry" fallback), and our scope is the default again after."""
    from mmengine.logging import MMLogger

    from bleedorigin.registry import build_keypoint_codec

    cfg = dict(type='MSRAHeatmap', input_size=(64, 48), heatmap_size=(16, 12), sigma=2.0)
    records = []
    handler = type('Collect', (logging.Handler,), {'emit': lambda self, r: records.append(r)})()
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        with DefaultScope.overwrite_default_scope('bleedorigin'):
            codec = build_keypoint_codec(cfg)
            assert DefaultScope.get_current_instance().scope_name == 'bleedorigin'
            # what the plain mmpose registry does under our scope (the old warning)
            from mmpose.registry import KEYPOINT_CODECS
            KEYPOINT_CODECS.build(cfg)
    finally:
        logger.removeHandler(handler)
    assert type(codec).__name__ == 'MSRAHeatmap' and codec.heatmap_size == (16, 12)
    warned = [r for r in records if 'Failed to search registry' in r.getMessage()]
    assert len(warned) == 1  # the plain build only
