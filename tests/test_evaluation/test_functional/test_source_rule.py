"""One rule for every metric path (PointMetric of tools/test.py, the benchmark's source
scoring, point_errors / point_accuracy): several sources -> the nearest, no prediction
-> a miss, NaN point -> a miss. Hand-computed cases."""
import math

import numpy as np
import pytest

from bleedorigin.datasets.bench import ClipRecord, SourcePoint
from bleedorigin.evaluation import PointMetric
from bleedorigin.evaluation.bench_scoring import source_metrics, track_errors
from bleedorigin.evaluation.functional import (
    nearest_source_errors,
    point_accuracy,
    point_errors,
    score_source_predictions,
)

W, H = 300, 400  # frame diagonal 500 px
TWO_SOURCES = [(10.0, 10.0), (210.0, 10.0)]  # 200 px apart


def _two_source_clip(**kw) -> ClipRecord:
    base = dict(clip_id='P01_C01', patient_id='P01', split='test', clip_dir='/nonexistent',
                fps=30.0, num_frames=4, width=W, height=H, video='frames', onset_frame=1,
                site=None, scenarios=[], annotation_stride=1, source='test',
                annotations={1: [SourcePoint(0, *TWO_SOURCES[0]),
                                 SourcePoint(1, *TWO_SOURCES[1])]},
                rel_dir='clips/P01/P01_C01')
    base.update(kw)
    return ClipRecord(**base)


def _point_metric(samples):
    metric = PointMetric()
    metric.process({}, samples)
    return metric.evaluate(size=len(samples))


def test_prediction_near_the_second_source_scores_5px_in_both_paths():
    pred = (213.0, 14.0)  # 5 px from the second source, 203.04 px from the first
    bench = source_metrics(None, [pred], [_two_source_clip()])
    assert bench['source/err_avg'] == pytest.approx(5.0)
    assert bench['source/err_le_10'] == 100.0
    test_py = _point_metric([dict(pred_point=list(pred), gt_sources=TWO_SOURCES,
                                  gt_point=list(TWO_SOURCES[0]), ori_shape=(H, W))])
    assert test_py['source/err_avg'] == pytest.approx(5.0)
    assert test_py['source/err_le_10'] == 100.0
    assert test_py['source/miss_rate'] == 0.0


def test_missing_and_nan_predictions_are_misses_in_both_paths():
    # hit 5 px, no prediction, NaN point: Err<=10 1/3, Err_avg (5 + 500 + 500) / 3
    preds = [(213.0, 14.0), None, (float('nan'), 3.0)]
    expected_avg = (5.0 + 500.0 + 500.0) / 3
    bench = source_metrics(None, preds, [_two_source_clip()] * 3)
    assert bench['source/err_le_10'] == pytest.approx(100 / 3)
    assert bench['source/err_le_100'] == pytest.approx(100 / 3)
    assert bench['source/err_avg'] == pytest.approx(expected_avg)
    assert bench['source/miss_rate'] == pytest.approx(200 / 3)
    samples = [dict(pred_point=list(p) if p is not None else None, gt_sources=TWO_SOURCES,
                    ori_shape=(H, W)) for p in preds]
    test_py = _point_metric(samples)
    assert test_py['source/err_le_10'] == pytest.approx(100 / 3)
    assert test_py['source/err_avg'] == pytest.approx(expected_avg)
    assert test_py['source/miss_rate'] == pytest.approx(200 / 3)


def test_a_miss_never_counts_as_a_hit_even_beyond_the_diagonal():
    scores = score_source_predictions([None, (10.0, 10.0)], [TWO_SOURCES] * 2, [(W, H)] * 2,
                                      thresholds=(1000, ))
    assert scores['err_le_1000'] == 50.0 and scores['err_avg'] == pytest.approx(250.0)


def test_point_errors_nan_prediction_is_inf_or_the_given_miss_error():
    errors = point_errors([[3, 4], [np.nan, 0]], [[0, 0], [0, 0]])
    assert errors[0] == 5.0 and math.isinf(errors[1])
    np.testing.assert_array_equal(
        point_errors([[3, 4], [np.nan, 0]], [[0, 0], [0, 0]], miss_error=500.0), [5.0, 500.0])
    with pytest.raises(ValueError, match='gt must be finite'):
        point_errors([[0, 0]], [[np.nan, 0]])


def test_point_accuracy_needs_a_miss_error_for_misses():
    with pytest.raises(ValueError, match='miss_error'):
        point_accuracy([5.0, np.inf])
    result = point_accuracy([5.0, np.inf], thresholds=(10, ), miss_error=[0.0, 95.0])
    assert result == dict(err_le_10=50.0, err_avg=50.0)
    with pytest.raises(ValueError, match='non-negative'):
        point_accuracy([np.nan])


def test_nearest_source_errors_rules_and_bad_inputs():
    errors = nearest_source_errors([(213.0, 14.0), None], [TWO_SOURCES, TWO_SOURCES])
    assert errors[0] == pytest.approx(5.0) and math.isinf(errors[1])
    with pytest.raises(ValueError, match='no ground-truth source'):
        nearest_source_errors([(0.0, 0.0)], [[]])
    with pytest.raises(ValueError, match='2 predictions'):
        nearest_source_errors([(0.0, 0.0), None], [TWO_SOURCES])


def test_point_metric_without_sources_falls_back_to_gt_point_and_ignores_negatives():
    result = _point_metric([dict(pred_point=[3, 4], gt_point=[0, 0], ori_shape=(H, W)),
                            dict(pred_point=[1, 1], ori_shape=(H, W))])  # no GT: ignored
    assert result['source/err_avg'] == 5.0 and result['source/miss_rate'] == 0.0


def test_track_errors_nan_prediction_is_a_miss_at_the_frame_diagonal():
    clip = _two_source_clip(annotations={1: [SourcePoint(0, 10.0, 10.0)],
                                         2: [SourcePoint(0, 13.0, 14.0)],
                                         3: [SourcePoint(0, 10.0, 10.0)]})
    preds = np.array([[[10, 10]], [[10, 10]], [[np.nan, np.nan]]], np.float32)  # frames 1..3
    sparse, dense = track_errors(clip, np.array([0]), preds)
    assert sparse.tolist() == [5.0, 500.0] and dense.size == 0
