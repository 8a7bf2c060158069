"""The one registered transform set: every transform is used by a config, and the tracking
augmentation (formerly BleedTrackDataset._augment) as registered transforms."""
import glob
import os.path as osp
import random

import numpy as np
import pytest
from track_tree import make_track_tree

import bleedorigin.datasets.transforms  # noqa: F401  (registers the transforms)
from bleedorigin.datasets.track_dataset import BleedTrackDataset
from bleedorigin.registry import TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _track_results(t=5, k=2, h=6, w=8):
    frames = np.arange(t * h * w * 3, dtype=np.int64).reshape(t, h, w, 3) % 200
    points = np.stack([np.full((t, 2), [1.5, 2.0]), np.full((t, 2), [6.0, 0.5])], axis=1)
    visible = np.ones((t, k), bool)
    return dict(frames=frames.astype(np.uint8), track_points=points[:, :k].astype(np.float32),
                track_visible=visible, track_valid=visible.copy())


def test_every_registered_transform_is_used_by_a_config():
    configs = ''.join(open(p).read() for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                                                         recursive=True))
    ours = [name for name, cls in TRANSFORMS.module_dict.items()
            if cls.__module__.startswith('bleedorigin.')]
    assert 'SequenceTimeReverse' in ours and 'SequenceGainJitter' in ours
    unused = [name for name in ours if f"'{name}'" not in configs]
    assert not unused, f'registered but in no config pipeline: {unused}'


def test_gain_jitter_hand_computed():
    results = _track_results()
    jitter = TRANSFORMS.build(dict(type='SequenceGainJitter', gain=(2.0, 2.0), bias=(10, 10),
                                   drift=0.0))
    out = jitter(dict(results, frames=results['frames'].copy()))['frames']
    expected = np.clip(results['frames'].astype(np.float32) * 2 + 10, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)
    # a drift leaves the first frame alone and scales the last one by (1 + drift)
    random.seed(0)
    drifted = TRANSFORMS.build(dict(type='SequenceGainJitter', gain=(1, 1), bias=(0, 0),
                                    drift=0.5))(dict(results, frames=results['frames'].copy()))
    np.testing.assert_array_equal(drifted['frames'][0], results['frames'][0])
    assert not np.array_equal(drifted['frames'][-1], results['frames'][-1])
    with pytest.raises(ValueError, match='gain'):
        TRANSFORMS.build(dict(type='SequenceGainJitter', gain=(1.2, 0.8)))


def test_horizontal_flip_moves_track_points_and_keeps_their_dtype():
    results = _track_results()
    flip = TRANSFORMS.build(dict(type='SequenceRandomFlip', prob=1.0,
                                 directions=('horizontal', )))
    out = flip({k: v.copy() for k, v in results.items()})
    np.testing.assert_array_equal(out['frames'], results['frames'][:, :, ::-1])
    assert out['track_points'].dtype == np.float32
    np.testing.assert_array_equal(out['track_points'][0], [[8 - 1.5, 2.0], [8 - 6.0, 0.5]])
    both = TRANSFORMS.build(dict(type='SequenceRandomFlip', prob=1.0))(
        dict(gt_point_input=[1.0, 2.0], frames=results['frames'].copy()))
    np.testing.assert_array_equal(both['gt_point_input'], [7.0, 4.0])  # (W - x, H - y)
    with pytest.raises(ValueError, match='directions'):
        TRANSFORMS.build(dict(type='SequenceRandomFlip', directions=('diagonal', )))


def test_time_reverse_only_when_the_last_frame_is_a_visible_label():
    results = _track_results()
    results['track_points'][:, 0, 0] = np.arange(5)
    rev = TRANSFORMS.build(dict(type='SequenceTimeReverse', prob=1.0, max_length=5))
    out = rev({k: v.copy() for k, v in results.items()})
    assert out['track_points'][:, 0, 0].tolist() == [4, 3, 2, 1, 0]
    np.testing.assert_array_equal(out['frames'], results['frames'][::-1])
    hidden = {k: v.copy() for k, v in results.items()}
    hidden['track_visible'][-1, 0] = False
    assert rev(hidden)['track_points'][:, 0, 0].tolist() == [0, 1, 2, 3, 4]
    too_long = TRANSFORMS.build(dict(type='SequenceTimeReverse', prob=1.0, max_length=4))
    assert too_long({k: v.copy() for k, v in results.items()})['track_points'][0, 0, 0] == 0


@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    return make_track_tree(str(tmp_path_factory.mktemp('bench')), num_frames=40, onset=5,
                           stride=10)


def test_track_dataset_applies_its_configured_pipeline(tree):
    kwargs = dict(mode='short', short_length=11, input_size=(48, 40), use_pseudo_labels=False)
    plain = BleedTrackDataset(tree, 'train', **kwargs)[0]
    flipped = BleedTrackDataset(tree, 'train', pipeline=[
        dict(type='SequenceRandomFlip', prob=1.0, directions=('horizontal', ))], **kwargs)[0]
    np.testing.assert_array_equal(flipped['inputs'].numpy(), plain['inputs'].numpy()[..., ::-1])
    a, b = plain['data_samples'], flipped['data_samples']
    np.testing.assert_allclose(b['target_points'][..., 0], 48 - a['target_points'][..., 0])
    np.testing.assert_allclose(b['query_points'][:, 0], 48 - a['query_points'][:, 0])
    # test samples are never augmented
    test = BleedTrackDataset(tree, 'test', mode='test', input_size=(48, 40), pipeline=[
        dict(type='SequenceRandomFlip', prob=1.0)])[0]
    untouched = BleedTrackDataset(tree, 'test', mode='test', input_size=(48, 40))[0]
    np.testing.assert_array_equal(test['inputs'].numpy(), untouched['inputs'].numpy())
