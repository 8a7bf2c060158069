import numpy as np
import pytest
import torch
from detect_tree import make_detect_tree

from bleedorigin.datasets import BleedSourceDataset

CODEC = dict(type='MSRAHeatmap', input_size=(48, 40), heatmap_size=(48, 40), sigma=2.0)
TRAIN_PIPELINE = [
    dict(type='LoadSourceFrames', with_pseudo=True),
    dict(type='SequenceRandomFlip', prob=0.5),
    dict(type='SourceRandomAffine'),
    dict(type='SequenceColorJitter'),
    dict(type='GenerateSourceHeatmap', encoder=CODEC),
    dict(type='PackSourceInputs'),
]


def test_source_dataset_targets_follow_the_point(tmp_path):
    root = make_detect_tree(tmp_path / 'bench')
    dataset = BleedSourceDataset(root, 'train', input_size=(48, 40), reference_offset=5,
                                 pseudo_offset=4, cache_dir=str(tmp_path / 'cache'),
                                 pipeline=TRAIN_PIPELINE)
    assert len(dataset) == 3  # the positive train clips
    for index in range(len(dataset)):
        item = dataset[index]
        inputs, sample = item['inputs'], item['data_samples']
        assert inputs.shape == (2, 6, 40, 48) and inputs.dtype == torch.float32
        real, pseudo = sample.frame_samples
        assert pseudo.metainfo['is_pseudo_label'] and not real.metainfo['is_pseudo_label']
        x, y = real.gt_instances.transformed_keypoints.reshape(2)
        heatmap = real.gt_fields.heatmaps[0]
        peak = np.unravel_index(int(heatmap.argmax()), heatmap.shape)
        assert abs(peak[1] - x) <= 1 and abs(peak[0] - y) <= 1
        assert sample.metainfo['scale_factor'] == pytest.approx((0.5, 0.5))


def test_source_dataset_test_mode_and_pseudo_label(tmp_path):
    root = make_detect_tree(tmp_path / 'bench')
    dataset = BleedSourceDataset(
        root, 'val', input_size=(48, 40), reference_offset=5, pseudo_offset=4,
        cache_dir=str(tmp_path / 'cache'), test_mode=True,
        pipeline=[dict(type='LoadSourceFrames', with_pseudo=False),
                  dict(type='PackSourceInputs')])
    item = dataset[0]
    assert item['inputs'].shape == (1, 6, 40, 48)
    assert item['data_samples'].metainfo['gt_point'] == [58.0, 45.0]
    # every onset source reaches the metric (PointMetric scores the nearest)
    assert item['data_samples'].metainfo['gt_sources'] == [[58.0, 45.0]]
    cache = np.load(dataset.data_list[0]['cache_path'])
    # the spot does not move in the rendered clip: the flow pseudo-label stays close
    assert np.abs(cache['pseudo_point'] - np.array([58.0, 45.0])).max() < 6
