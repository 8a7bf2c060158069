import numpy as np
import pytest

from bleedorigin.evaluation.functional import point_accuracy, point_errors


def test_point_errors_l2():
    errors = point_errors([[0, 0], [3, 4], [10, 10]], [[0, 0], [0, 0], [10, 20]])
    np.testing.assert_allclose(errors, [0, 5, 10])


def test_point_accuracy_hand_computed():
    # errors 5, 10, 30, 80, 120 -> <=10: 2/5, <=25: 2/5, <=50: 3/5, <=75: 3/5, <=100: 4/5
    result = point_accuracy([5, 10, 30, 80, 120])
    assert result == pytest.approx(dict(err_le_10=40.0, err_le_25=40.0, err_le_50=60.0,
                                        err_le_75=60.0, err_le_100=80.0, err_avg=49.0))


def test_point_inputs_rejected():
    with pytest.raises(ValueError, match='shape'):
        point_errors([[0, 0, 0]], [[0, 0, 0]])
    with pytest.raises(ValueError, match='gt shape'):
        point_errors([[0, 0]], [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match='no errors'):
        point_accuracy([])
