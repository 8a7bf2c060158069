import numpy as np
import pytest

from bleedorigin.apis import FrameResult
from bleedorigin.visualization import draw_bleeding_overlay


def _result(index, state='bleeding', alert=10, point=(60.0, 40.0)):
    return FrameResult(frame_index=index, state=state, onset_frame=8, alert_frame=alert,
                       points=np.array([point], np.float32), visibility=np.array([True]),
                       confidence=np.array([0.83], np.float32))


def _red_box_pixels(image, centre=(60, 40), half=8):
    """Strongly red pixels on the outline of the alert box."""
    cx, cy = centre
    ring = np.zeros(image.shape[:2], bool)
    ring[cy - half - 1:cy + half + 2, cx - half - 1:cx + half + 2] = True
    ring[cy - half + 3:cy + half - 2, cx - half + 3:cx + half - 2] = False
    red = (image[..., 0] > 180) & (image[..., 1] < 80) & (image[..., 2] < 80)
    return int((red & ring).sum())


def test_label_colour_and_flashing_box():
    frame = np.full((96, 128, 3), 90, np.uint8)
    kwargs = dict(fps=20.0, flash_seconds=1.0, flash_period=4, box_fraction=8 / 96)
    non_bleeding = draw_bleeding_overlay(
        frame, FrameResult(frame_index=3), **kwargs)
    top_left = non_bleeding[:20, :70]
    assert ((top_left[..., 1] > 180) & (top_left[..., 0] < 100)).any()  # green label
    assert not ((top_left[..., 0] > 180) & (top_left[..., 1] < 80)).any()
    assert (frame == 90).all()  # input untouched

    on = draw_bleeding_overlay(frame, _result(10), **kwargs)       # 0 frames after alert
    off = draw_bleeding_overlay(frame, _result(14), **kwargs)      # second flash phase: off
    on_again = draw_bleeding_overlay(frame, _result(18), **kwargs)
    after = draw_bleeding_overlay(frame, _result(31), **kwargs)    # > 1 s after the alert
    assert _red_box_pixels(on) > 20
    assert _red_box_pixels(on_again) > 20
    assert _red_box_pixels(off) == 0
    assert _red_box_pixels(after) == 0
    assert ((on[:20, :70, 0] > 180) & (on[:20, :70, 1] < 80)).any()  # red "Bleeding" label
    # tracked point drawn green at its position, confidence text beside it
    assert on[40, 60, 1] > 180 and on[40, 60, 0] < 100
    assert (on[25:40, 64:100] > 200).all(axis=-1).any()


def test_overlay_rejects_bad_frame_and_draws_gt():
    with pytest.raises(ValueError, match='expected \\(H, W, 3\\) uint8 RGB'):
        draw_bleeding_overlay(np.zeros((8, 8), np.uint8), FrameResult(frame_index=0))
    frame = np.full((64, 64, 3), 90, np.uint8)
    drawn = draw_bleeding_overlay(frame, FrameResult(frame_index=0), gt_points=[[30, 40]])
    assert drawn[40, 30, 2] > 200 and drawn[40, 30, 0] < 100  # blue ground truth
