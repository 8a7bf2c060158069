"""PointVisualizationHook writes what tools/test.py --show-dir promises."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from bleedorigin.engine.hooks.point_visualization_hook import (
    PointVisualizationHook,
    draw_onset_timeline,
    draw_source_prediction,
)


class _Runner:
    def __init__(self, work_dir):
        self.work_dir = str(work_dir)


def test_enabled_hook_needs_out_dir():
    with pytest.raises(ValueError, match='out_dir'):
        PointVisualizationHook(enable=True)


def test_hook_writes_source_and_onset_images(tmp_path):
    hook = PointVisualizationHook(enable=True, out_dir='vis')
    hook.before_test(_Runner(tmp_path))
    inputs = [torch.zeros(1, 6, 40, 50), {'rgb': torch.zeros(3, 3, 8, 8)}]
    samples = [BaseDataElement(metainfo=dict(scale_factor=(0.5, 0.5))), BaseDataElement()]
    source = BaseDataElement(metainfo=dict(task='source', clip_id='C1'))
    source.pred_point, source.gt_point = [20.0, 30.0], [26.0, 38.0]
    onset = BaseDataElement(metainfo=dict(task='onset', clip_id='C2'))
    onset.num_frames, onset.pred_onset, onset.gt_onset = 10, 4, 5
    hook.after_test_iter(_Runner(tmp_path), 0, dict(inputs=inputs, data_samples=samples),
                         [source, onset])
    written = sorted(p.name for p in (tmp_path / 'vis').iterdir())
    assert written == ['00000_0_C1_source.png', '00000_1_C2_onset.png']
    assert cv2.imread(str(tmp_path / 'vis' / written[0])).shape == (40, 50, 3)


def test_source_drawing_places_points_in_input_pixels():
    image = draw_source_prediction(np.zeros((40, 50, 3), np.uint8), (0.5, 0.5), [40.0, 60.0])
    # prediction (40, 60) original px -> (20, 30) input px: the green cross is there
    assert image[30, 20, 1] == 200 and image[30, 20, 0] == 0
    assert image[5, 45].sum() == 0


def test_onset_timeline_marks_gt_and_prediction_columns():
    strip = draw_onset_timeline(10, pred_onset=7, gt_onset=2, px_per_frame=4, height=48)
    assert strip.shape == (48, 40, 3)
    assert tuple(strip[2, 9]) == (255, 128, 0)   # GT block at frame 2 (x 8..11), top half
    assert tuple(strip[30, 29]) == (0, 200, 0)   # prediction block at frame 7, bottom half
