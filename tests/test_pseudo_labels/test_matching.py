import cv2
import numpy as np

from bleedorigin.pseudo_labels import match_near_source, ratio_confidence, select_matches


def test_ratio_confidence_values():
    np.testing.assert_allclose(ratio_confidence([0.0, 50.0, 100.0], [100.0, 100.0, 100.0]),
                               [1.0, 0.75, 0.0])


def test_select_matches_respects_radius_threshold_and_end():
    start = np.array([[0, 0], [30, 40], [51, 0], [10, 10], [10, 10]], float)
    end = np.array([[0, 0], [30, 40], [51, 0], [10, 10], [500, 500]], float)
    conf = np.array([0.9, 0.71, 0.95, 0.7, 0.9])
    keep = select_matches(start, end, conf, (0, 0), (0, 0), radius=50, min_confidence=0.7,
                          end_radius=100)
    # inside r=50 (50 exactly counts), conf > 0.7 strictly, end near the end source
    assert keep.tolist() == [True, True, False, False, False]


def test_match_near_source_on_shifted_texture():
    rng = np.random.default_rng(1)
    img = cv2.resize(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8), (320, 240),
                     interpolation=cv2.INTER_NEAREST)
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    shift = np.array([7.0, -4.0])
    m = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    moved = cv2.warpAffine(img, m, (320, 240), borderMode=cv2.BORDER_REFLECT)
    source = (150.0, 120.0)
    result = match_near_source(img, moved, source, (source[0] + 7, source[1] - 4),
                               radius=50, min_confidence=0.7)
    assert len(result) >= 5
    assert (np.linalg.norm(result.start - np.array(source), axis=1) <= 50).all()
    assert (result.confidence > 0.7).all()
    np.testing.assert_allclose(result.end - result.start, np.tile(shift, (len(result), 1)),
                               atol=1.0)
