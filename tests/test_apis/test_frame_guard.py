import numpy as np

from bleedorigin.apis import FrameGuard


def _frame(height=48, width=64, value=120):
    frame = np.full((height, width, 3), value, np.uint8)
    frame[::4, ::4, 0] = 200
    return frame


def test_guard_counts_every_fault_and_keeps_reference_size():
    guard = FrameGuard()
    out, status = guard(_frame(), 0)
    assert status == 'ok' and out.shape == (48, 64, 3)
    out, status = guard(None, 1)
    assert out is None and status == 'dropped'
    out, status = guard(np.zeros((48, 64, 3), np.uint8), 2)
    assert out is None and status == 'black'
    out, status = guard(_frame(96, 128), 3)
    assert status == 'resized' and out.shape == (48, 64, 3)
    out, status = guard(_frame()[:, :, 0], 4)
    assert status == 'converted' and out.shape == (48, 64, 3)
    out, status = guard(_frame().astype(np.float32), 5)
    assert out is None and status == 'dropped'
    out, status = guard(np.zeros((0, 0, 3), np.uint8), 6)
    assert status == 'dropped'
    out, status = guard(np.full((48, 64, 4), 90, np.uint8), 7)
    assert status == 'converted' and out.shape == (48, 64, 3)
    counts = guard.counts.as_dict()
    assert counts == dict(frames=8, ok=1, dropped=3, resized=1, converted=2, black=1)


def test_guard_fixed_size_and_dark_but_not_black():
    guard = FrameGuard(frame_size=(32, 24), black_threshold=8.0)
    out, status = guard(_frame(value=20), 0)  # dark endoscopic view is not black
    assert status == 'resized' and out.shape == (24, 32, 3)
    guard.reset()
    assert guard.frame_size == (32, 24)
