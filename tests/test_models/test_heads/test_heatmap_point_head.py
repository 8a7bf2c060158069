import numpy as np
import torch
from mmengine.structures import InstanceData, PixelData
from mmpose.structures import PoseDataSample

import bleedorigin  # noqa: F401
from bleedorigin.registry import MODELS

CODEC = dict(type='MSRAHeatmap', input_size=(48, 40), heatmap_size=(48, 40), sigma=2.0)


def _head():
    return MODELS.build(dict(type='HeatmapPointHead', in_channels=8, image_channels=6,
                             heatmap_channels=8, embed_dims=8, decoder=CODEC))


def _sample(x, y, codec, pseudo=False):
    from mmpose.registry import KEYPOINT_CODECS
    enc = KEYPOINT_CODECS.build(codec).encode(np.array([[[x, y]]], dtype=np.float32),
                                              np.ones((1, 1), dtype=np.float32))
    sample = PoseDataSample(metainfo=dict(is_pseudo_label=pseudo))
    sample.gt_fields = PixelData(heatmaps=torch.from_numpy(enc['heatmaps']))
    sample.gt_instances = InstanceData() if pseudo else InstanceData(
        transformed_keypoints=np.array([[[x, y]]], dtype=np.float32))
    return sample


def test_heatmap_point_head_overfits_and_decodes():
    torch.manual_seed(0)
    head = _head()
    image = torch.rand(2, 6, 40, 48) * 0.3
    image[0, 0, 10:14, 30:34] = 1.0  # red spots where the sources are
    image[1, 0, 25:29, 8:12] = 1.0
    feats = (image, torch.randn(2, 8, 5, 6))
    samples = [_sample(32, 12, CODEC), _sample(10, 27, CODEC, pseudo=True)]
    optim = torch.optim.Adam(head.parameters(), lr=5e-3)
    first = None
    for _ in range(120):
        losses = head.loss(feats, samples)
        assert set(losses) == {'loss_heatmap', 'loss_pseudo', 'loss_point'}
        total = sum(losses.values())
        first = float(total) if first is None else first
        optim.zero_grad()
        total.backward()
        optim.step()
    assert float(total) < 0.5 * first
    preds = head.predict(feats, samples)
    assert np.abs(preds[0].keypoints.reshape(2) - np.array([32, 12])).max() <= 3


def test_heatmap_point_head_in_mmpose_topdown_estimator():
    """Mixing: an mmpose TopdownPoseEstimator with bleedorigin's encoder and head."""
    from mmpose.registry import MODELS as POSE_MODELS
    from mmpose.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    model = POSE_MODELS.build(dict(
        _scope_='mmpose',
        type='TopdownPoseEstimator',
        data_preprocessor=dict(type='PoseDataPreprocessor'),
        backbone=dict(type='bleedorigin.SmallCNNEncoder', in_channels=6,
                      stage_channels=(8, 8, 8), blocks_per_stage=1, with_input=True),
        head=dict(type='bleedorigin.HeatmapPointHead', in_channels=8, image_channels=6,
                  heatmap_channels=8, embed_dims=8, decoder=CODEC),
        test_cfg=dict(flip_test=False)))
    inputs = torch.rand(2, 6, 40, 48)
    samples = [_sample(20, 20, CODEC), _sample(5, 30, CODEC)]
    for sample in samples:
        sample.set_metainfo(dict(input_size=(48, 40), input_center=np.array([24.0, 20.0]),
                                 input_scale=np.array([48.0, 40.0])))
        sample.gt_instances.bboxes = np.array([[0, 0, 48, 40]], dtype=np.float32)
        sample.gt_instances.bbox_scores = np.ones(1, dtype=np.float32)
    losses = model(inputs, samples, mode='loss')
    assert torch.isfinite(sum(losses.values()))
    results = model(inputs, samples, mode='predict')
    assert results[0].pred_instances.keypoints.shape == (1, 1, 2)


def test_heatmap_starts_flat_and_pixel_ce_localises_fast():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='HeatmapPointHead', in_channels=8, image_channels=6,
                             heatmap_channels=8, embed_dims=8, decoder=CODEC,
                             loss_ce_weight=1.0))
    image = torch.rand(2, 6, 40, 48) * 0.3
    image[0, 0, 10:14, 30:34] = 1.0
    image[1, 0, 25:29, 8:12] = 1.0
    feats = (image, torch.randn(2, 8, 5, 6))
    # zero-initialised output layers: a flat heatmap, no random peak to unlearn
    assert float(head(feats).abs().max()) == 0.0
    samples = [_sample(32, 12, CODEC), _sample(10, 27, CODEC)]
    optim = torch.optim.Adam(head.parameters(), lr=5e-3)
    history = []
    for _ in range(40):
        losses = head.loss(feats, samples)
        history.append(float(losses['loss_heatmap_ce']))
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
    # uniform over 48 x 40 pixels: CE = log(1920) ~ 7.6 at the start
    assert history[0] > 7.0 and history[-1] < 0.6 * history[0]
    preds = head.predict(feats, samples)
    assert np.abs(preds[1].keypoints.reshape(2) - np.array([10, 27])).max() <= 3
