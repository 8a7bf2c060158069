"""Tiny model configs shared by tests in several folders (tests/ is on sys.path)."""
from bleedorigin.registry import MODELS

WINDOW = 8
ONSET_SIZE = (32, 24)
SOURCE_SIZE = (48, 40)
CODEC = dict(type='MSRAHeatmap', input_size=SOURCE_SIZE, heatmap_size=SOURCE_SIZE, sigma=2.0)


def tiny_detector(mdcfm_in_channels=None, mdg_in_channels=(3, 3, 2), **kwargs):
    """A BleedOriginDetector small enough for a unit test (N = ``WINDOW`` frames, onset input
    ``ONSET_SIZE``, source input ``SOURCE_SIZE``); ``kwargs`` override detector arguments."""
    mdcfm = dict(type='MDCFM', channels=4, memory_size=2)
    if mdcfm_in_channels is not None:
        mdcfm['in_channels'] = mdcfm_in_channels
    cfg = dict(
        type='BleedOriginDetector', mdcfm=mdcfm,
        mdg=dict(type='MDGNeck', in_channels=mdg_in_channels, channels=4, out_channels=8),
        onset_head=dict(type='OnsetHead', in_channels=16, window_size=WINDOW, num_layers=1,
                        num_heads=4, ffn_channels=16, dropout=0.0),
        encoder=dict(type='SmallCNNEncoder', in_channels=6, stage_channels=(8, 8, 8),
                     blocks_per_stage=1),
        source_head=dict(type='HeatmapPointHead', in_channels=8, image_channels=6,
                         heatmap_channels=8, embed_dims=8, decoder=CODEC),
        frame_embed_dims=16, train_window_stride=2, onset_input_size=ONSET_SIZE,
        source_input_size=SOURCE_SIZE, reference_offset=3)
    cfg.update(kwargs)
    return MODELS.build(cfg)


#: Overrides of the default detector for the tools that stream the tiny preset: windows of 8
#: frames (the tiny clips are shorter than 60) and every window confident (an untrained
#: head): eq. 2 fires on the first window, 7 frames into every clip (eq. 2 raises the alarm:
#: no confirmation by the refiner, whose answer on these clips the tools do not test).
ALWAYS_FIRING = 'dict(onset_head=dict(window_size=8), conf_thr=0.0, onset_refine_confirm=False)'


def default_detector_on_tiny_data(base, model_overrides):
    """The tiny synthetic preset rendered under ``base`` and the default detector config
    (``configs/bleedorigin/detect.py``) with ``model_overrides`` (a config snippet such as
    ``"dict(onset_head=dict(window_size=8))"``), built with seed 0 and saved untrained.

    Returns:
        tuple: (data root, checkpoint path, config path).
    """
    import os.path as osp

    import torch
    from mmengine.config import Config

    from bleedorigin.datasets.synthetic import ensure_synthetic

    detect = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'configs',
                      'bleedorigin', 'detect.py')
    root = str(base / 'tiny')
    ensure_synthetic(data_root=root, preset='tiny', seed=0, workers=1, progress=False)
    config = str(base / 'detect_tiny.py')
    with open(config, 'w') as f:
        f.write(f'_base_ = [{detect!r}]\nmodel = {model_overrides}\n')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(config).model)
    ckpt = str(base / 'detect.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    return root, ckpt, config
