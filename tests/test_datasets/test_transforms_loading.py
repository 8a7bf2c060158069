"""Tests of LoadClipFrames and the clip geometry/photometric transforms."""
import json
import os

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose

from bleedorigin.datasets.bench import BenchIndex
from bleedorigin.datasets.transforms import (
    ColorJitterClip,
    RandomCropClip,
    RandomFlipClip,
    ResizeClip,
    points_to_original,
    to_original,
)
from bleedorigin.registry import TRANSFORMS

W, H = 40, 30


@pytest.fixture
def clip(tmp_path):
    """A 5-frame png clip written by hand; frame t is filled with value 10 * t."""
    root = tmp_path / 'bench'
    clip_dir = root / 'clips' / 'P01' / 'C001'
    os.makedirs(clip_dir / 'frames')
    (root / 'splits.json').write_text(json.dumps({'train': ['P01'], 'val': [], 'test': []}))
    (clip_dir / 'clip.json').write_text(json.dumps({
        'clip_id': 'C001', 'patient_id': 'P01', 'fps': 30, 'num_frames': 5, 'width': W,
        'height': H, 'video': 'frames', 'onset_frame': None, 'site': None, 'scenarios': [],
        'annotation_stride': 30, 'source': 'hand'}))
    for t in range(5):
        cv2.imwrite(str(clip_dir / 'frames' / f'{t:06d}.png'), np.full((H, W, 3), 10 * t, np.uint8))
    return BenchIndex(str(root)).clips[0]


def marker_clip(points, frames=3, width=W, height=H):
    """Frames with a distinct colour at the pixel under each (x, y) pixel-centre point."""
    imgs = np.zeros((frames, height, width, 3), np.uint8)
    for k, (x, y) in enumerate(points):
        imgs[:, int(y), int(x)] = (255, 40 * k, 7)
    return imgs


def test_load_clip_frames_from_registry(clip):
    load = TRANSFORMS.build({'type': 'LoadClipFrames'})
    results = load({'clip': clip, 'frame_indices': [4, 1]})
    assert results['imgs'].shape == (2, H, W, 3) and results['imgs'].dtype == np.uint8
    assert results['imgs'][:, 0, 0, 0].tolist() == [40, 10]
    assert results['ori_shape'] == (H, W) and results['img_shape'] == (H, W)
    assert results['scale_factor'] == (1.0, 1.0)
    assert np.array_equal(results['homography_matrix'], np.eye(3))
    assert load({'clip': clip})['imgs'].shape[0] == 5  # whole clip by default
    with pytest.raises(KeyError, match='LoadClipFrames: results\\["clip"\\] must be a ClipRecord'):
        load({'frame_indices': [0]})
    with pytest.raises(IndexError):
        load({'clip': clip, 'frame_indices': [5]})


def test_resize_scales_points_and_round_trips():
    points = np.array([[3.5, 4.5], [30.5, 20.5]], np.float32)
    results = {'imgs': marker_clip(points), 'points': points.copy()}
    results = TRANSFORMS.build({'type': 'ResizeClip', 'scale': (80, 45)})(results)
    assert results['imgs'].shape == (3, 45, 80, 3)
    assert results['img_shape'] == (45, 80) and results['scale_factor'] == (2.0, 1.5)
    np.testing.assert_allclose(results['points'], [[7.0, 6.75], [61.0, 30.75]])
    np.testing.assert_allclose(to_original(results['points'], results['scale_factor']), points)
    np.testing.assert_allclose(
        points_to_original(results['points'], results['homography_matrix']), points, atol=1e-5)
    # the marker is still under the scaled point (nearest keeps it crisp)
    results = ResizeClip(scale=(80, 60), interpolation='nearest')(
        {'imgs': marker_clip(points), 'points': points.copy()})
    x, y = results['points'][1]
    assert results['imgs'][0, int(y), int(x)].tolist() == [255, 40, 7]


def test_resize_keep_ratio_and_bad_args():
    results = ResizeClip(scale=(20, 20), keep_ratio=True)({'imgs': marker_clip([])})
    assert results['img_shape'] == (15, 20) and results['scale_factor'] == (0.5, 0.5)
    results = ResizeClip(scale_factor=0.5)(results)  # cumulative, from the rounded sizes
    assert results['img_shape'] == (8, 10)
    assert results['scale_factor'] == pytest.approx((10 / 40, 8 / 30))
    with pytest.raises(ValueError, match='exactly one of'):
        ResizeClip()
    with pytest.raises(ValueError, match='interpolation'):
        ResizeClip(scale=(4, 4), interpolation='magic')
    with pytest.raises(KeyError, match='put LoadClipFrames before it'):
        ResizeClip(scale=(4, 4))({})


def test_random_crop_moves_points_with_the_pixels():
    np.random.seed(0)
    points = np.array([[12.5, 9.5], [25.5, 18.5]])
    for _ in range(20):
        results = {'imgs': marker_clip(points), 'points': points.copy(),
                   'points_visible': np.array([True, True])}
        results = RandomCropClip(crop_size=(20, 15))(results)
        assert results['imgs'].shape == (3, 15, 20, 3)
        assert results['points_visible'].all()  # keep_points_inside found a window
        for k, (x, y) in enumerate(results['points']):
            assert results['imgs'][1, int(y), int(x)].tolist() == [255, 40 * k, 7]
        np.testing.assert_allclose(
            points_to_original(results['points'], results['homography_matrix']), points)
        x0, y0, x1, y1 = results['crop_bbox']
        assert (x1 - x0, y1 - y0) == (20, 15)


def test_random_crop_hides_points_that_leave_the_window():
    np.random.seed(1)
    points = np.array([[1.5, 1.5], [38.5, 28.5], [np.nan, np.nan]])
    seen_hidden = False
    for _ in range(10):
        results = RandomCropClip(crop_size=(10, 10), keep_points_inside=False)({
            'imgs': marker_clip(points[:2]), 'points': points.copy(),
            'points_visible': np.array([True, True, False])})
        p = results['points']
        inside = (p[:, 0] >= 0) & (p[:, 0] <= 10) & (p[:, 1] >= 0) & (p[:, 1] <= 10)
        assert np.array_equal(results['points_visible'], inside & [True, True, False])
        assert np.isnan(p[2]).all()
        seen_hidden |= not results['points_visible'][:2].all()
    assert seen_hidden
    with pytest.raises(ValueError, match='crop_ratio_range'):
        RandomCropClip(crop_ratio_range=(0.5, 1.5))


def test_random_crop_ratio_keeps_aspect():
    np.random.seed(2)
    results = RandomCropClip(crop_ratio_range=(0.5, 0.5))({'imgs': marker_clip([])})
    assert results['img_shape'] == (15, 20)


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_mirrors_points_and_pixels(direction):
    points = np.array([[3.5, 4.5], [30.5, 20.5]])
    flip = TRANSFORMS.build({'type': 'RandomFlipClip', 'prob': 1.0, 'direction': direction})
    results = flip({'imgs': marker_clip(points), 'points': points.copy()})
    assert results['flip'] and results['flip_direction'] == direction
    for k, (x, y) in enumerate(results['points']):
        assert results['imgs'][2, int(y), int(x)].tolist() == [255, 40 * k, 7]
    np.testing.assert_allclose(
        points_to_original(results['points'], results['homography_matrix']), points)
    if direction == 'horizontal':
        np.testing.assert_allclose(results['points'], [[36.5, 4.5], [9.5, 20.5]])
    skip = RandomFlipClip(prob=0.0)({'imgs': marker_clip(points), 'points': points.copy()})
    assert skip['flip'] is False and np.array_equal(skip['points'], points)


def test_pipeline_round_trip_to_original_pixels(clip):
    np.random.seed(3)
    pipeline = Compose([TRANSFORMS.build(cfg) for cfg in (
        {'type': 'LoadClipFrames'},
        {'type': 'RandomFlipClip', 'prob': 1.0},
        {'type': 'RandomCropClip', 'crop_ratio_range': (0.6, 0.9)},
        {'type': 'ResizeClip', 'scale': (64, 48)},
        {'type': 'ColorJitterClip'},
    )])
    points = np.array([[[10.0, 12.0]], [[20.0, 5.0]]], np.float32)  # (T, K, 2)
    results = pipeline({'clip': clip, 'frame_indices': [0, 3], 'points': points.copy()})
    assert results['imgs'].shape == (2, 48, 64, 3)
    assert results['ori_shape'] == (H, W)
    np.testing.assert_allclose(
        points_to_original(results['points'], results['homography_matrix']), points, atol=1e-4)


def test_color_jitter_same_for_all_frames():
    rng = np.random.RandomState(0)
    frame = rng.randint(0, 256, (8, 8, 3)).astype(np.uint8)
    imgs = np.stack([frame, frame, frame[::-1]])
    np.random.seed(4)
    out = ColorJitterClip(brightness=0.5, contrast=0.5, saturation=0.5, hue=0.1)(
        {'imgs': imgs.copy()})['imgs']
    assert out.dtype == np.uint8 and out.shape == imgs.shape
    assert np.array_equal(out[0], out[1])  # one draw for the whole clip
    assert not np.array_equal(out[0], imgs[0])
    assert np.array_equal(out[2], out[0][::-1])  # per-pixel ops commute with the flip
    same = ColorJitterClip.jitter(imgs, 1.0, 1.0, 1.0, 0.0)
    assert np.array_equal(same, imgs)
    red = np.zeros((1, 2, 2, 3), np.uint8)
    red[..., 0] = 255
    cyan = ColorJitterClip.jitter(red, 1.0, 1.0, 1.0, 0.5)
    assert cyan[0, 0, 0].tolist() == [0, 255, 255]
    darker = ColorJitterClip.jitter(imgs.astype(np.float32), 0.5, 1.0, 1.0, 0.0)
    np.testing.assert_allclose(darker, imgs * 0.5, atol=1e-4)
    with pytest.raises(ValueError, match='hue must be in'):
        ColorJitterClip(hue=0.7)
