import pytest

from bleedorigin.evaluation import PointMetric


def test_point_metric_values_and_prior():
    metric = PointMetric()
    samples = [
        dict(pred_point=[100, 100], gt_point=[106, 108], ori_shape=(200, 300)),  # 10 px
        dict(pred_point=[0, 0], gt_point=[60, 80], ori_shape=(200, 300)),  # 100 px
        dict(pred_onset=3, gt_onset=3, num_frames=10),  # onset sample: ignored
    ]
    metric.process({}, samples)
    result = metric.evaluate(size=2)
    assert result['source/err_le_10'] == pytest.approx(50.0)
    assert result['source/err_le_25'] == pytest.approx(50.0)
    assert result['source/err_le_100'] == pytest.approx(100.0)
    assert result['source/err_avg'] == pytest.approx(55.0)
    # centre (150, 100): distances to (106,108) = 44.72..., to (60, 80) = 92.19...
    assert result['source/prior_center/err_le_50'] == pytest.approx(50.0)
    assert result['source/prior_center/err_le_100'] == pytest.approx(100.0)
