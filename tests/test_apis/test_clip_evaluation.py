import numpy as np
import pytest

from bleedorigin.apis import align_on_onset, frame_track_errors, latency_statistics


def test_frame_track_errors_by_index_and_nearest():
    # (T=4, K=2) dense ground truth as ClipRecord.dense_tracks returns it
    nan = [np.nan, np.nan]
    gt = dict(points=np.array([[nan, nan], [[10, 10], [50, 50]], [[12, 10], [50, 52]],
                               [[14, 10], [50, 54]]], np.float64),
              visible=np.array([[False, False], [True, True], [True, True], [False, True]]))
    pred = np.full((4, 2, 2), np.nan)
    pred[1] = [[13, 14], [50, 50]]   # errors 5 and 0
    pred[2] = [[12, 10], [56, 60]]   # errors 0 and 10
    pred[3] = [[0, 0], [50, 54]]     # source 0 invisible: only source 1 counts (0)
    errors = frame_track_errors(pred, gt['points'], gt['visible'], match='index')
    assert np.isnan(errors[0])
    assert errors[1:].tolist() == pytest.approx([2.5, 5.0, 0.0])
    one = np.full((4, 1, 2), np.nan)
    one[2, 0] = [47, 48]  # nearest visible source at frame 2 is (50, 52): 5 px
    nearest = frame_track_errors(one, gt['points'], gt['visible'], match='nearest')
    # frame 0 has no visible source (not scored); frames 1 and 3 have one but no
    # prediction: misses (inf), as in evaluation.functional.point_accuracy
    assert nearest[2] == pytest.approx(5.0) and np.isnan(nearest[0])
    assert np.isinf(nearest[[1, 3]]).all()
    diagonal = frame_track_errors(one, gt['points'], gt['visible'], match='nearest',
                                  miss_error=80.0)
    assert diagonal[1:].tolist() == pytest.approx([80.0, 5.0, 80.0])


def test_frame_track_errors_index_counts_a_missing_source_as_a_miss():
    gt_points = np.array([[[10, 10], [50, 50]]], np.float64)
    visible = np.array([[True, True]])
    pred = np.array([[[13, 14], [np.nan, np.nan]]])  # source 1 has no prediction
    assert np.isinf(frame_track_errors(pred, gt_points, visible)[0])
    assert frame_track_errors(pred, gt_points, visible, miss_error=95.0)[0] == \
        pytest.approx((5.0 + 95.0) / 2)
    # one prediction column for two sources: the second source is a miss too
    assert frame_track_errors(pred[:, :1], gt_points, visible, miss_error=95.0)[0] == \
        pytest.approx(50.0)
    with pytest.raises(ValueError, match="'index' or 'nearest'"):
        frame_track_errors(pred, gt_points, visible, match='closest')


def test_latency_statistics():
    stats = latency_statistics([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, None, -3])
    assert stats['clips'] == 12 and stats['alerts'] == 11 and stats['misses'] == 1
    assert stats['early_alerts'] == 1
    assert stats['median'] == pytest.approx(8.0)
    assert stats['p90'] == pytest.approx(np.percentile([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, -3],
                                                       90))
    assert stats['miss_rate'] == pytest.approx(100 / 12)
    empty = latency_statistics([None])
    assert empty['median'] is None and empty['miss_rate'] == 100.0


def test_align_on_onset():
    curve = align_on_onset([np.array([9, 9, 1, 2, 3.]), np.array([9, 3, np.nan, 5.])], [2, 1])
    assert curve.tolist() == pytest.approx([2.0, 2.0, 4.0])
