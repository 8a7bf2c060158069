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


def test_point_metric_scores_model_baselines_on_the_same_samples():
    metric = PointMetric()
    samples = [
        dict(pred_point=[100, 100], gt_point=[106, 108], ori_shape=(200, 300),
             baseline_points={'red_diff_argmax': [106, 128]}),  # 20 px
        dict(pred_point=[0, 0], gt_point=[60, 80], ori_shape=(200, 300),
             baseline_points={'red_diff_argmax': [60, 80]}),  # 0 px
    ]
    metric.process({}, samples)
    result = metric.evaluate(size=2)
    assert result['source/red_diff_argmax/err_le_10'] == pytest.approx(50.0)
    assert result['source/red_diff_argmax/err_le_25'] == pytest.approx(100.0)
    assert result['source/red_diff_argmax/err_avg'] == pytest.approx(10.0)


def test_red_difference_argmax_finds_fresh_red():
    import torch

    from bleedorigin.models.utils import red_difference_argmax

    current = torch.full((3, 20, 30), 0.5)
    current[:, 12, 7] = torch.tensor([0.9, 0.1, 0.1])  # new blood at (7, 12)
    reference = torch.full((3, 20, 30), 0.5)
    assert red_difference_argmax(torch.cat([current, current - reference])) == (7.0, 12.0)
    with pytest.raises(ValueError, match=r'\(6, H, W\)'):
        red_difference_argmax(current)
