"""The per-video colour anchor: a hand-made frame's mucosa hue, the turn that undoes a hue
turn of the video, the dead zone that leaves videos like the training ones alone."""
import cv2
import numpy as np
import pytest

from bleedorigin.models.utils import ColourAnchor, anchor_steps, mucosa_hue, turn_hue


def mucosa(hue_deg, shape=(48, 64)):
    """A frame of one colour of hue ``hue_deg`` (OpenCV HSV, S 120, V 190) with a grey
    instrument (no hue vote) and a dark corner (no vote)."""
    hsv = np.zeros(shape + (3, ), np.uint8)
    hsv[...] = (int(round(hue_deg / 2)) % 180, 120, 190)
    frame = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    frame[:, 50:] = (128, 128, 128)  # grey: saturation 0
    frame[:8, :8] = (10, 5, 5)  # dark: value below the threshold
    return frame


@pytest.mark.parametrize('hue', [0.0, 10.0, -20.0, 90.0])
def test_mucosa_hue_is_the_hue_of_the_coloured_pixels(hue):
    assert mucosa_hue(mucosa(hue)) == pytest.approx(hue, abs=1.0)


def test_mucosa_hue_averages_around_the_circle():
    frame = mucosa(8.0)
    frame[:, :25] = mucosa(-8.0)[:, :25]  # 352 deg: the mean of 352 and 8 is 0, not 180
    assert abs(mucosa_hue(frame)) < 2.0


def test_a_frame_without_lit_coloured_pixels_has_no_hue_and_no_turn():
    dark = np.full((48, 64, 3), 12, np.uint8)
    grey = np.full((48, 64, 3), 128, np.uint8)
    assert mucosa_hue(dark) is None and mucosa_hue(grey) is None
    assert anchor_steps(dark, 10.0, 4.0, 30.0) == 0
    with pytest.raises(ValueError, match='uint8'):
        mucosa_hue(dark.astype(np.float32))


def test_the_anchor_undoes_a_hue_turn_of_the_video():
    frame = mucosa(10.0)
    turned = turn_hue(frame, -8)  # the probe's hue-16 look
    steps = anchor_steps(turned, reference=10.0, dead_zone=4.0, max_turn=30.0)
    assert steps == 8
    anchor = ColourAnchor(10.0, 4.0, 30.0)
    assert anchor.start(turned) == 8
    back = anchor.apply(turned)
    assert np.abs(back.astype(int) - frame.astype(int)).max() <= 2


def test_the_dead_zone_and_the_largest_turn():
    frame = mucosa(10.0)
    # within the dead zone: no turn, the frame object itself comes back
    anchor = ColourAnchor(14.0, 4.0, 30.0)
    assert anchor.start(frame) == 0 and anchor.apply(frame) is frame
    assert ColourAnchor(16.0, 4.0, 30.0).start(frame) == 3  # 6 deg: turned
    # at most max_turn, in whole 2-degree steps, either way
    assert anchor_steps(frame, 70.0, 4.0, 30.0) == 15
    assert anchor_steps(frame, -50.0, 4.0, 30.0) == -15
    # across 180 deg the shorter way round
    assert anchor_steps(mucosa(170.0), -170.0, 4.0, 30.0) == 10


def test_bad_settings_are_rejected_with_the_key():
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['refrence'\]"):
        ColourAnchor.build(dict(refrence=10.0, dead_zone=4.0, max_turn=30.0))
    with pytest.raises(ValueError, match='must be >= 0'):
        ColourAnchor.build(dict(reference=10.0, dead_zone=-1.0, max_turn=30.0))
    assert ColourAnchor.build(None) is None
    anchor = ColourAnchor.build(dict(reference=10.0, dead_zone=4.0, max_turn=30.0))
    assert 'reference=10' in repr(anchor)
