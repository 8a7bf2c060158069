"""DetectSelectMetric: the detector's checkpoint-selection score, by hand."""
import pytest

from bleedorigin.evaluation.metrics import DetectSelectMetric, OnsetMetric


def onset(gt, pred, conf=1.0):
    return dict(gt_onset=gt, pred_onset=pred, max_confidence=conf, num_frames=100)


def source(pred, gt=(100.0, 100.0)):
    return dict(gt_sources=[list(gt)], ori_shape=(480, 640), pred_point=pred)


SAMPLES = [
    onset(10, 12),               # 2 frames off
    onset(20, None, conf=0.25),  # miss: 60 * (2 - 0.25) = 105
    onset(None, None),           # quiet negative clip: 0
    source([103.0, 100.0]),      # 3 px
    source([100.0, 108.0]),      # 8 px
    source([115.0, 100.0]),      # 15 px: off
    source(None),                # no prediction: off
]


def evaluate(metric, samples):
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_select_err_by_hand():
    out = evaluate(DetectSelectMetric(source_weight=10.0, miss_error=60.0), SAMPLES)
    assert out['onset_err'] == pytest.approx((2 + 105 + 0) / 3)
    assert out['source_off'] == pytest.approx(0.5)  # 2 of 4 sources within 10 px
    assert out['select_err'] == pytest.approx((2 + 105 + 0) / 3 + 10.0 * 0.5)


def test_without_the_source_term_it_is_the_onset_metric_score():
    plain = evaluate(DetectSelectMetric(source_weight=0.0, miss_error=60.0), SAMPLES)
    onset_only = evaluate(OnsetMetric(miss_error=60.0), SAMPLES[:3])
    assert plain['select_err'] == pytest.approx(onset_only['select_err'])


def test_an_onset_tie_goes_to_the_better_source_branch():
    # the seed-1 case: the same onset score, 70 % against 91 % of sources within 10 px
    early = [onset(10, 10)] + [source([100.0, 100.0])] * 7 + [source([150.0, 100.0])] * 3
    late = [onset(10, 10)] + [source([100.0, 100.0])] * 9 + [source([150.0, 100.0])] * 1
    assert evaluate(DetectSelectMetric(), early)['onset_err'] == evaluate(
        DetectSelectMetric(), late)['onset_err']
    assert evaluate(DetectSelectMetric(), late)['select_err'] < evaluate(
        DetectSelectMetric(), early)['select_err']


def test_bad_arguments_and_inputs_are_named():
    with pytest.raises(ValueError, match='source_weight >= 0'):
        DetectSelectMetric(source_weight=-1.0)
    with pytest.raises(ValueError, match='no onset predictions'):
        evaluate(DetectSelectMetric(), [source([1.0, 1.0])])
    # onset clips alone: no source term
    assert evaluate(DetectSelectMetric(), [onset(5, 5)])['source_off'] == 0.0


def test_default_detector_config_selects_on_it():
    from mmengine.config import Config
    cfg = Config.fromfile('configs/bleedorigin/detect.py')
    assert cfg.default_hooks.checkpoint.save_best == 'detect/select_err'
    assert 'DetectSelectMetric' in [m['type'] for m in cfg.val_evaluator]
    # tools/test.py prints Tables 3 and 4 only
    assert 'DetectSelectMetric' not in [m['type'] for m in cfg.test_evaluator]
