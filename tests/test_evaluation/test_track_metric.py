import os.path as osp
import sys

import numpy as np
import pytest

from bleedorigin.evaluation.metrics.track_metric import TrackMetric, tapvid_delta_avg
from bleedorigin.registry import METRICS
from bleedorigin.utils import register_all_modules

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', 'test_datasets'))
from track_tree import make_track_tree  # noqa: E402

register_all_modules()


def hand_sample():
    t, k = 4, 1
    gt = np.array([[[10, 10]], [[20, 10]], [[30, 10]], [[40, 10]]], np.float32)
    pred = gt + np.array([[[0, 0]], [[5, 0]], [[0, 30]], [[120, 0]]], np.float32)
    labelled = np.array([[True], [False], [True], [True]])
    dense = dict(points=gt, visible=np.array([[True], [True], [False], [True]]),
                 defined=np.ones((t, k), bool))
    return dict(clip_id='C', rel_dir='clips/P/C', start_frame=0, end_frame=3, ori_size=(256, 256),
                gt_points=gt, gt_visible=np.ones((t, k), bool), gt_labelled=labelled,
                dense_gt=dense, pred_points=pred,
                pred_visibility=np.array([[True], [True], [True], [True]]))


def test_metric_against_hand_computed_values():
    metric = METRICS.build(dict(type='TrackMetric', baselines=[]))
    metric.process(None, [hand_sample()])
    out = metric.compute_metrics(metric.results)
    # sparse: frames 2 and 3 (frame 0 is the start) -> errors 30, 120
    assert out['track/err_le_25'] == 0.0 and out['track/err_le_50'] == 50.0
    assert out['track/err_avg'] == pytest.approx(75.0)
    # dense visible frames 1 and 3 -> errors 5, 120
    assert out['track_dense/err_le_10'] == 50.0 and out['track_dense/err_avg'] == 62.5
    # TAP-Vid delta on 256x256: error 5 passes 8 and 16, error 120 none -> 2/5 / 2
    assert out['track_dense/delta_avg'] == pytest.approx(100 * (0.4 + 0.0) / 2)
    # visibility: predicted all visible, truth invisible at frame 2 -> 2 of 3 right
    assert out['track_dense/occlusion_acc'] == pytest.approx(200 / 3)


def test_tapvid_delta_scaling():
    pred = np.array([[0.0, 0.0]])
    gt = np.array([[3.0, 0.0]])
    # at 512 px width, 3 px becomes 1.5 px: within 2, 4, 8, 16
    assert tapvid_delta_avg(pred, gt, np.array([True]), (512, 256)) == 80.0


def test_baselines_run_on_same_clips(tmp_path):
    root = make_track_tree(str(tmp_path / 'bench'), num_frames=26, stride=10)
    from bleedorigin.datasets.track_dataset import BleedTrackDataset
    dataset = BleedTrackDataset(root, split='test', mode='test', input_size=(48, 40))
    sample = dict(dataset[0]['data_samples'])
    sample['pred_points'] = np.repeat(sample['gt_points'][:1], len(sample['gt_points']), 0)
    metric = TrackMetric(baselines=['zero_motion', 'lucas_kanade'], data_root=root, split='test')
    metric.process(None, [sample])
    out = metric.compute_metrics(metric.results)
    # our "prediction" is zero motion, so both rows agree exactly
    assert out['track/zero_motion/err_avg'] == pytest.approx(out['track/err_avg'])
    assert out['track/lucas_kanade/err_avg'] < out['track/zero_motion/err_avg']


def test_unknown_baseline_rejected():
    with pytest.raises(ValueError, match='unknown baselines'):
        TrackMetric(baselines=['raft'], data_root='x')


def test_scenario_breakdown_pools_sparse_errors_per_scenario_and_renders():
    from bleedorigin.evaluation.tables import render_metric_tables
    metric = TrackMetric(baselines=[])
    results = [
        dict(clip_id='a', size=(100, 100), scenarios=['water_flushing', 'camera_jitter'],
             methods={None: dict(sparse=np.array([5.0, 20.0])),
                      'zero_motion': dict(sparse=np.array([50.0, 150.0]))}),
        dict(clip_id='b', size=(100, 100), scenarios=['clear'],
             methods={None: dict(sparse=np.array([2.0])),
                      'zero_motion': dict(sparse=np.array([8.0]))}),
    ]
    out = metric.scenario_breakdown(results)
    assert out['track_by_scenario/water_flushing/ours/err_le_10'] == 50.0
    assert out['track_by_scenario/camera_jitter/ours/err_avg'] == 12.5
    assert out['track_by_scenario/water_flushing/zero_motion/err_le_100'] == 50.0
    assert out['track_by_scenario/clear/zero_motion/err_le_10'] == 100.0
    assert out['track_by_scenario/clear/ours/num_clips'] == 1
    assert isinstance(out['track_by_scenario/clear/ours/num_clips'], int)
    table = render_metric_tables(out)
    assert '| water_flushing | 1 | 50.00 | 100.00 | 12.50 | 0.00 | 50.00 | 100.00 |' in table
