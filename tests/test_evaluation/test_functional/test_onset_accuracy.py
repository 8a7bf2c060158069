import math

import pytest

from bleedorigin.evaluation.functional import onset_accuracy


def test_onset_accuracy_with_miss_and_negatives():
    # positives: exact, +3, -9, miss (gt 40 in a 100-frame clip -> error 60)
    # negatives: one false alarm, one silent
    preds = [10, 23, 41, None, 5, None]
    gts = [10, 20, 50, 40, None, None]
    lengths = [100] * 6
    result = onset_accuracy(preds, gts, lengths)
    assert result['acc_0'] == pytest.approx(25.0)
    assert result['acc_1'] == pytest.approx(25.0)
    assert result['acc_2'] == pytest.approx(25.0)
    assert result['acc_4'] == pytest.approx(50.0)
    assert result['acc_8'] == pytest.approx(50.0)
    assert result['err_avg'] == pytest.approx((0 + 3 + 9 + 60) / 4)
    assert result['bias'] == pytest.approx((0 + 3 - 9) / 3)
    assert result['miss_rate'] == pytest.approx(25.0)
    assert result['false_alarm_rate'] == pytest.approx(50.0)
    assert result['num_positive'] == 4 and result['num_negative'] == 2


def test_onset_accuracy_no_negatives_is_nan():
    result = onset_accuracy([3], [3], [10])
    assert math.isnan(result['false_alarm_rate'])
    assert result['acc_0'] == 100.0


def test_onset_accuracy_length_mismatch():
    with pytest.raises(ValueError, match='differ in length'):
        onset_accuracy([1, 2], [1], [10])
