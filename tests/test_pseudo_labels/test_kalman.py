import numpy as np
import pytest

from bleedorigin.pseudo_labels import smooth_trajectory


def test_smoothing_reduces_noise_on_constant_velocity_track():
    rng = np.random.default_rng(0)
    t = np.arange(31)
    truth = np.stack([100 + 2.0 * t, 50 + 1.0 * t], axis=1)
    noisy = truth + rng.normal(0, 3.0, truth.shape)
    noisy[0] = truth[0]
    smoothed = smooth_trajectory(noisy, end_point=truth[-1], track_noise=3.0)
    err_noisy = np.linalg.norm(noisy - truth, axis=1).mean()
    err_smooth = np.linalg.norm(smoothed - truth, axis=1).mean()
    assert smoothed.shape == (31, 2)
    assert err_smooth < 0.6 * err_noisy


def test_end_point_corrects_drift_backwards():
    t = np.arange(31, dtype=np.float64)
    truth = np.stack([10 + t, 20 + 0 * t], axis=1)
    drifted = truth + np.stack([0.5 * t, 0 * t], axis=1)  # tracker drifts 15 px by the end
    smoothed = smooth_trajectory(drifted, end_point=truth[-1], track_noise=4.0, end_noise=0.5)
    assert abs(smoothed[-1, 0] - truth[-1, 0]) < 1.0  # the matched end point wins
    mid = 15
    assert abs(smoothed[mid, 0] - truth[mid, 0]) < abs(drifted[mid, 0] - truth[mid, 0])
    unsmoothed_end = smooth_trajectory(drifted, end_point=None)
    assert abs(unsmoothed_end[-1, 0] - truth[-1, 0]) > 10


def test_bad_trajectory_rejected():
    with pytest.raises(ValueError, match='trajectory'):
        smooth_trajectory(np.zeros((5, 3)))
    with pytest.raises(ValueError, match='finite'):
        smooth_trajectory(np.array([[0, 0], [np.nan, 1]]))
