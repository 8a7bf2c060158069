"""The windows eq. 2 slides over a clip and their decoding (offline and streaming alike)."""
import pytest

from bleedorigin.models.utils import (
    WindowRun,
    newest_window,
    onset_from_windows,
    update_window_onset,
    window_frame_index,
    window_starts,
)


def test_window_starts_without_warmup():
    assert window_starts(10, 4) == [0, 1, 2, 3, 4, 5, 6]
    assert window_starts(10, 4, first=2, stride=2) == [2, 4, 6]
    # a first start past the last one gives the last window
    assert window_starts(10, 4, first=9) == [6]
    # a clip shorter than N: one window at 0 (right-padded), negative first ignored
    assert window_starts(3, 4) == [0]
    assert window_starts(3, 4, first=-2) == [0]


def test_window_starts_with_warmup_end_at_every_frame():
    starts = window_starts(6, 4, warmup=True)
    assert starts == [-3, -2, -1, 0, 1, 2]
    # every frame ends exactly one window, as in the stream
    assert [s + 4 - 1 for s in starts] == list(range(6))
    assert window_starts(2, 4, warmup=True) == [-3, -2]
    assert window_starts(10, 4, first=-2, stride=3, warmup=True) == [-2, 1, 4]
    # first below the window ending at frame 0 is clamped to it
    assert window_starts(5, 4, first=-10, warmup=True) == [-3, -2, -1, 0, 1]
    assert window_starts(5, 4, first=3, warmup=True) == [1]


def test_warmup_windows_need_min_frames_real_frames():
    # N = 4, min_frames = 2: the first window ends at frame 1 (start -2)
    assert window_starts(6, 4, warmup=True, min_frames=2) == [-2, -1, 0, 1, 2]
    assert window_starts(6, 4, first=-3, warmup=True, min_frames=2) == [-2, -1, 0, 1, 2]
    # min_frames = N is the window without warm-up on a clip of N frames or more
    assert window_starts(6, 4, warmup=True, min_frames=4) == window_starts(6, 4)
    # a clip shorter than min_frames has no window; min_frames is ignored without warm-up
    assert window_starts(2, 4, warmup=True, min_frames=3) == []
    assert window_starts(2, 4, min_frames=3) == [0]
    assert newest_window(0, 4, warmup=True, min_frames=2) is None
    assert newest_window(1, 4, warmup=True, min_frames=2) == (-2, [0, 0, 0, 1])
    for bad in (0, 5):
        with pytest.raises(ValueError, match='min_frames must be in'):
            window_starts(6, 4, warmup=True, min_frames=bad)
        with pytest.raises(ValueError, match='min_frames must be in'):
            newest_window(3, 4, warmup=True, min_frames=bad)


def test_window_frame_index_repeats_the_first_and_last_frame():
    assert window_frame_index([-2, 0, 3], 4, 6) == [[0, 0, 0, 1], [0, 1, 2, 3], [3, 4, 5, 5]]
    assert window_frame_index([0], 4, 1) == [[0, 0, 0, 0]]


@pytest.mark.parametrize('call', [lambda: window_starts(0, 4), lambda: window_starts(5, 0),
                                  lambda: window_starts(5, 4, stride=0),
                                  lambda: window_frame_index([0], 4, 0),
                                  lambda: newest_window(-1, 4), lambda: newest_window(0, 0)])
def test_bad_window_arguments(call):
    with pytest.raises(ValueError, match='>= [01]'):
        call()


def test_eq2_on_warmup_windows():
    # window [-3, 0] of N = 4: theta 3/4 -> frame 0
    assert onset_from_windows([-3], [0.75], [0.9], 4) == 0
    # an onset in the padding of a warm-up window is frame 0, never negative
    assert onset_from_windows([-3], [0.25], [0.9], 4) == 0
    # earliest over confident windows; the unconfident warm-up window does not count
    assert onset_from_windows([-2, -1, 0], [0.75, 0.75, 0.5], [0.4, 0.8, 0.9], 4) == 2
    assert onset_from_windows([-2, -1], [0.75, 0.75], [0.5, 0.2], 4) is None


def test_newest_window_is_the_online_window_starts():
    # without warm-up: no window before frame N - 1, then the kept N features in order
    assert newest_window(2, 4) is None
    assert newest_window(3, 4) == (0, [0, 1, 2, 3])
    assert newest_window(9, 4) == (6, [0, 1, 2, 3])
    # with warm-up: a window at every frame; frame 0 (position 0 of the kept features)
    # fills the tokens before the stream
    assert newest_window(0, 4, warmup=True) == (-3, [0, 0, 0, 0])
    assert newest_window(2, 4, warmup=True) == (-1, [0, 0, 1, 2])
    assert newest_window(5, 4, warmup=True) == (2, [0, 1, 2, 3])


@pytest.mark.parametrize('warmup', [False, True])
def test_newest_window_gathers_what_predict_gathers(warmup):
    # frame t's window from the last min(t + 1, N) frames equals predict's window of
    # the same start over the whole clip, for every frame of a clip of T frames
    size, total = 4, 9
    starts = window_starts(total, size, warmup=warmup)
    offline = dict(zip(starts, window_frame_index(starts, size, total)))
    online = {}
    for t in range(total):
        newest = newest_window(t, size, warmup)
        if newest is None:
            continue
        start, tokens = newest
        kept = list(range(max(t - size + 1, 0), t + 1))
        online[start] = [kept[i] for i in tokens]
    assert online == offline


def test_alarm_gate_needs_consecutive_confident_windows():
    # N = 10; window starts 0..6, theta 0.5 -> candidate start + 5
    starts = list(range(7))
    thetas = [0.5] * 7
    # a one-window blip at start 0, then a run of three from start 3
    confs = [0.9, 0.2, 0.1, 0.8, 0.7, 0.9, 0.3]
    assert onset_from_windows(starts, thetas, confs, 10) == 5  # eq. 2: the blip fires
    assert onset_from_windows(starts, thetas, confs, 10, confirm=1) == 5
    # K = 2 and 3: the run from start 3, its earliest frame 3 + 5
    assert onset_from_windows(starts, thetas, confs, 10, confirm=2) == 8
    assert onset_from_windows(starts, thetas, confs, 10, confirm=3) == 8
    assert onset_from_windows(starts, thetas, confs, 10, confirm=4) is None
    # clipped to the clip like eq. 2
    assert onset_from_windows(starts, thetas, confs, 10, num_frames=8, confirm=3) == 7


def test_alarm_gate_online_is_offline_window_by_window():
    starts = list(range(8))
    thetas = [0.9, 0.1, 0.5, 0.0, 0.3, 0.9, 0.2, 0.1]
    confs = [0.6, 0.7, 0.2, 0.9, 0.9, 0.9, 0.4, 0.8]
    # announced at the K-th window of the first run of K confident windows
    for confirm, announced in ((1, 0), (2, 1), (3, 5), (4, None)):
        run, onset, history = WindowRun(confirm), None, []
        for start, theta, conf in zip(starts, thetas, confs):
            onset = update_window_onset(onset, start, theta, conf, 10, 0.5, run)
            history.append(onset)
        assert onset == onset_from_windows(starts, thetas, confs, 10, confirm=confirm)
        assert next((i for i, o in enumerate(history) if o is not None), None) == announced
    # K = 2: the run at starts 0-1 (frames 9 and 2) gives 2; a later window lowers it
    assert onset_from_windows(starts, thetas, confs, 10, confirm=2) == 2
    # K = 3: the run at starts 3-5 (frames 3, 7, 14), then window 7 (frame 8): 3
    assert onset_from_windows(starts, thetas, confs, 10, confirm=3) == 3
    # K = 4 never happens
    assert onset_from_windows(starts, thetas, confs, 10, confirm=4) is None


def test_alarm_gate_rejects_zero():
    with pytest.raises(ValueError, match='confirm must be >= 1'):
        WindowRun(0)
    with pytest.raises(ValueError, match='confirm must be >= 1'):
        onset_from_windows([0], [0.5], [0.9], 10, confirm=0)
