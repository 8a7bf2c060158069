import pytest

from bleedorigin.evaluation import OnsetMetric


def _samples():
    return [
        dict(clip_id='a', pred_onset=30, gt_onset=30, num_frames=100),
        dict(clip_id='b', pred_onset=None, gt_onset=50, num_frames=100),  # miss: error 50
        dict(clip_id='c', pred_onset=12, gt_onset=None, num_frames=100,
             max_confidence=0.8),  # false alarm
        dict(clip_id='d', pred_point=[1, 2], gt_point=[1, 2], ori_shape=(10, 10)),  # ignored
    ]


def test_onset_metric_keys_and_values():
    metric = OnsetMetric(prior_onset=40)
    metric.process({}, _samples())
    result = metric.evaluate(size=3)
    assert result['onset/acc_0'] == pytest.approx(50.0)
    assert result['onset/acc_8'] == pytest.approx(50.0)
    assert result['onset/err_avg'] == pytest.approx(25.0)
    assert result['onset/bias'] == pytest.approx(0.0)
    assert result['onset/miss_rate'] == pytest.approx(50.0)
    assert result['onset/false_alarm_rate'] == pytest.approx(100.0)
    # the highest window confidence on a negative clip (the positive clips' are not read)
    assert result['onset/negative_max_conf'] == pytest.approx(0.8)
    # prior 40: errors 10 and 10, always fires on negatives
    assert result['onset/prior_median/acc_8'] == pytest.approx(0.0)
    assert result['onset/prior_median/err_avg'] == pytest.approx(10.0)
    assert result['onset/prior_median/false_alarm_rate'] == pytest.approx(100.0)


def test_onset_metric_prior_from_dataset_meta():
    metric = OnsetMetric()
    metric.dataset_meta = dict(prior_onset_frame=50)
    metric.process({}, _samples()[:2])
    result = metric.evaluate(size=2)
    assert result['onset/prior_median/acc_0'] == pytest.approx(50.0)


def test_onset_metric_empty_raises():
    metric = OnsetMetric()
    metric.process({}, _samples()[3:])
    with pytest.raises(ValueError, match='no onset predictions'):
        metric.compute_metrics(metric.results)


def test_onset_metric_negative_margin_only_with_negative_clips():
    quiet = [dict(clip_id='n1', pred_onset=None, gt_onset=None, num_frames=80,
                  max_confidence=0.21),
             dict(clip_id='n2', pred_onset=None, gt_onset=None, num_frames=80,
                  max_confidence=0.03),
             dict(clip_id='p', pred_onset=40, gt_onset=40, num_frames=80, max_confidence=0.99)]
    metric = OnsetMetric(prior_onset=40)
    metric.process({}, quiet)
    result = metric.evaluate(size=3)
    # no false alarm, but the margin shows how close n1 came
    assert result['onset/false_alarm_rate'] == 0.0
    assert result['onset/negative_max_conf'] == pytest.approx(0.21)
    metric = OnsetMetric(prior_onset=40)
    metric.process({}, quiet[2:])
    assert 'onset/negative_max_conf' not in metric.evaluate(size=1)
