import cv2
import numpy as np
import pytest

from bleedorigin.models.utils import align_to


def _texture(size=(96, 128), seed=0):
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (size[0] // 4, size[1] // 4, 3), dtype=np.uint8)
    return cv2.GaussianBlur(cv2.resize(noise, size[::-1], interpolation=cv2.INTER_CUBIC),
                            (5, 5), 0)


def test_align_to_compensates_a_camera_shift_and_ignores_fresh_blood():
    big = _texture((140, 180))
    fixed = np.ascontiguousarray(big[20:116, 20:148])
    moving = np.ascontiguousarray(big[23:119, 26:154])  # camera moved by (6, 3) px
    fixed = fixed.copy()
    cv2.circle(fixed, (64, 48), 8, (200, 15, 25), -1)  # blood only in the fixed frame
    aligned = align_to(moving, fixed)
    assert aligned.shape == fixed.shape and aligned.dtype == np.uint8
    outside = np.ones(fixed.shape[:2], bool)
    cv2.circle(outside.view(np.uint8), (64, 48), 12, 0, -1)
    inner = (slice(8, -8), slice(8, -8))
    before = np.abs(moving.astype(int) - fixed)[inner][outside[inner]].mean()
    after = np.abs(aligned.astype(int) - fixed)[inner][outside[inner]].mean()
    assert after < 0.35 * before


def test_align_to_rejects_mismatched_frames():
    with pytest.raises(ValueError, match='shapes differ'):
        align_to(np.zeros((10, 12, 3), np.uint8), np.zeros((10, 10, 3), np.uint8))
