"""The one Lucas-Kanade helper (models/utils/flow.py): pixel convention and the
forward-backward check, on hand-made frames whose motion is known."""
import numpy as np
import pytest

from bleedorigin.models.utils import forward_backward_lucas_kanade, lucas_kanade


def _blob_frame(cx: float, cy: float, size=(96, 80)) -> np.ndarray:
    """(H, W) uint8 grey frame with a smooth Gaussian blob centred at (cx, cy) in our
    convention (pixel i covers [i, i + 1), its centre is i + 0.5)."""
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    blob = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * 4.0 ** 2))
    return (30 + 200 * blob).astype(np.uint8)


def test_lk_follows_a_known_shift_in_our_pixel_convention():
    prev, nxt = _blob_frame(40.5, 30.5), _blob_frame(43.5, 32.5)  # moved by (+3, +2)
    moved, ok = lucas_kanade(prev, nxt, np.array([[40.5, 30.5]], np.float32))
    assert ok.tolist() == [True]
    assert moved.dtype == np.float64
    np.testing.assert_allclose(moved[0], [43.5, 32.5], atol=0.15)


def test_lk_static_frame_keeps_the_point_exactly_where_it_was():
    frame = _blob_frame(40.5, 30.5)
    points = np.array([[40.5, 30.5], [43.25, 28.75]], np.float64)
    moved, ok = lucas_kanade(frame, frame, points)
    assert ok.all()
    np.testing.assert_allclose(moved, points, atol=1e-3)


def test_lk_initial_guess_is_used():
    prev, nxt = _blob_frame(30.5, 30.5), _blob_frame(50.5, 30.5)  # 20 px: beyond one level
    point = np.array([[30.5, 30.5]])
    guided, ok = lucas_kanade(prev, nxt, point, guess=np.array([[49.5, 30.5]]), max_level=0)
    assert ok[0]
    np.testing.assert_allclose(guided[0], [50.5, 30.5], atol=0.2)


def test_forward_backward_round_trip_small_on_true_motion():
    prev, nxt = _blob_frame(40.5, 30.5), _blob_frame(42.5, 31.5)
    for start in ('forward', 'query'):
        moved, ok, round_trip = forward_backward_lucas_kanade(
            prev, nxt, np.array([[40.5, 30.5]]), backward_start=start)
        assert ok[0]
        np.testing.assert_allclose(moved[0], [42.5, 31.5], atol=0.15)
        assert round_trip[0] < 0.1


def test_forward_backward_matches_two_plain_calls():
    prev, nxt = _blob_frame(40.5, 30.5), _blob_frame(42.5, 31.5)
    points = np.array([[40.5, 30.5], [10.5, 10.5]])
    moved, ok, round_trip = forward_backward_lucas_kanade(prev, nxt, points,
                                                          backward_start='query', max_level=1)
    fwd, ok1 = lucas_kanade(prev, nxt, points, max_level=1)
    bwd, ok2 = lucas_kanade(nxt, prev, fwd, guess=points, max_level=1)
    np.testing.assert_array_equal(moved, fwd)
    np.testing.assert_array_equal(ok, ok1 & ok2)
    np.testing.assert_array_equal(round_trip, np.linalg.norm(bwd - points, axis=1))


def test_forward_backward_rejects_unknown_start():
    frame = _blob_frame(40.5, 30.5)
    with pytest.raises(ValueError, match='backward_start'):
        forward_backward_lucas_kanade(frame, frame, np.zeros((1, 2)), backward_start='middle')
