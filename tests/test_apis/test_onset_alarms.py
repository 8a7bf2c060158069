import numpy as np
import pytest

from bleedorigin.apis import latency_statistics
from bleedorigin.apis.onset_alarms import alert_latencies, false_alarms_per_hour, stream_alarms


class FiringDetector:
    """Fires (eq. 2 style: the onset stays set) ``delay`` frames after every red frame."""

    def __init__(self, delay=3):
        self.delay = delay
        self.resets = 0

    def reset_stream(self):
        self.resets += 1
        self.index, self.onset, self.seen = -1, None, None

    def stream_step(self, frame):
        self.index += 1
        if self.seen is None and frame[0, 0, 0] > 200:
            self.seen = self.index
        if self.seen is not None and self.index >= self.seen + self.delay:
            self.onset = self.seen if self.onset is None else self.onset
        return dict(frame_index=self.index, onset_frame=self.onset, confidence=0.0)


def frames(num, red_at=()):
    out = []
    for t in range(num):
        frame = np.zeros((4, 4, 3), np.uint8)
        if t in red_at:
            frame[0, 0, 0] = 255
        out.append(frame)
    return out


def test_stream_alarms_rearms_after_each_alarm():
    detector = FiringDetector(delay=3)
    out = stream_alarms(detector, frames(100, red_at=(10, 50, 51)))
    # alarm at 13 (onset 10); reset; 50 seen again at stream index 50 -> alarm at 53
    assert out['alerts'] == [13, 53] and out['onsets'] == [10, 50]
    assert out['num_frames'] == 100
    once = stream_alarms(FiringDetector(delay=3), frames(100, red_at=(10, 50)), rearm=False)
    assert once['alerts'] == [13] and once['num_frames'] == 100


def test_false_alarms_per_hour_and_latency():
    assert false_alarms_per_hour(2, 30 * 60 * 30, 30) == pytest.approx(4.0)  # 2 in 30 min
    with pytest.raises(ValueError):
        false_alarms_per_hour(1, 0, 30)
    latencies = alert_latencies([13, None, 5], [10, 20, 8])
    assert latencies == [3, None, -3]
    stats = latency_statistics(latencies)
    assert stats['misses'] == 1 and stats['early_alerts'] == 1 and stats['median'] == 0.0


def test_replay_alarms_gate_and_dismissals():
    from bleedorigin.apis.onset_alarms import replay_alarms

    # N = 4: no window before frame 3; theta 0.5 puts every window's onset at t - 1
    thetas = [None] * 3 + [0.5] * 9
    confs = [0.0] * 3 + [0.9, 0.1, 0.8, 0.8, 0.8, 0.2, 0.2, 0.2, 0.2]
    # eq. 2: the blip at 3 fires; the watch resumes with no window for N - 1 frames
    # (4, 5, 6), then window 7 fires again (onset 6)
    assert replay_alarms(thetas, confs, 4, 0.5) == dict(alerts=[3, 7], onsets=[2, 6],
                                                        num_frames=12)
    # K = 2: the blip is ignored; the run 5-6 fires at 6 with its earliest onset, 4
    assert replay_alarms(thetas, confs, 4, 0.5, confirm=2)['alerts'] == [6]
    assert replay_alarms(thetas, confs, 4, 0.5, confirm=2)['onsets'] == [4]
    assert replay_alarms(thetas, confs, 4, 0.5, confirm=3) == dict(alerts=[7], onsets=[4],
                                                                   num_frames=12)
    assert replay_alarms(thetas, confs, 4, 0.5, confirm=4)['alerts'] == []
    # without dismissals: the first alarm, and the onset eq. 2 settles on (window 3's 2
    # is not lowered by the later ones, window 5's 4 is kept under K = 2)
    assert replay_alarms(thetas, confs, 4, 0.5, rearm=False)['onsets'] == [2]
    with pytest.raises(ValueError, match='3 thetas for 2'):
        replay_alarms([None] * 3, [0.0] * 2, 4, 0.5)


def test_replay_alarms_is_the_stream_on_a_positive_clip():
    """One trace of ``StreamDetector`` replayed under gate K gives what a stream of the
    same detector with ``onset_confirm = K`` announces, for every K."""
    import torch
    from tiny_models import tiny_detector

    from bleedorigin.apis import StreamDetector
    from bleedorigin.apis.onset_alarms import replay_alarms

    rng = np.random.default_rng(0)
    clip = np.repeat(rng.integers(80, 180, (1, 24, 32, 3), dtype=np.uint8), 20, 0)
    clip[11:, 8:14, 10:16] = (200, 10, 10)
    torch.manual_seed(0)
    model = tiny_detector(mdg_in_channels=(3, 3, 2)).eval()

    def stream(confirm):
        model.onset_confirm = confirm
        detector = StreamDetector(model)
        return [detector.step(np.ascontiguousarray(f)) for f in clip]

    trace = stream(1)
    confs = [s['confidence'] for s in trace if s['theta'] is not None]
    # a threshold that some windows pass and others do not
    model.conf_thr = float(np.median(confs))
    assert 0 < sum(c > model.conf_thr for c in confs) < len(confs)
    fired = 0
    for confirm in (1, 2, 3, 6):
        states = stream(confirm)
        first = next((s['frame_index'] for s in states if s['onset_frame'] is not None), None)
        replay = replay_alarms([s['theta'] for s in trace], [s['confidence'] for s in trace],
                               model.window_size, model.conf_thr, confirm, rearm=False)
        assert replay['alerts'] == ([] if first is None else [first])
        if first is not None:
            fired += 1
            assert replay['onsets'] == [states[-1]['onset_frame']]
    assert fired >= 1


def test_streams_alarm_rate_over_streams_of_different_frame_rates():
    from bleedorigin.apis.onset_alarms import streams_alarm_rate

    # a minute at 30 fps and a minute at 15 fps: one alarm in two minutes = 30 per hour
    rate = streams_alarm_rate([(1, 1800, 30.0), (0, 900, 15.0)])
    assert rate['alarms'] == 1 and rate['frames'] == 2700
    assert rate['minutes'] == pytest.approx(2.0)
    assert rate['false_alarms_per_hour'] == pytest.approx(30.0)
    with pytest.raises(ValueError, match='no frame'):
        streams_alarm_rate([])


class WindowDetector(FiringDetector):
    """FiringDetector with windows of 4 frames (theta/confidence from frame 3 on, the
    confidence rising 0.1 per frame) and a refiner that moves the onset one frame early."""

    def stream_step(self, frame):
        out = super().stream_step(frame)
        if self.index >= 3:
            out.update(theta=0.5, confidence=0.1 * (self.index - 2))
        if out['onset_frame'] is not None:
            out.update(coarse_onset_frame=out['onset_frame'], onset_frame=out['onset_frame'] - 1)
        return out


def test_onset_trace_records_every_frame_without_rearming():
    from bleedorigin.apis.onset_alarms import onset_trace

    detector = WindowDetector(delay=2)
    trace = onset_trace(detector, frames(12, red_at=(5, 9)))
    assert detector.resets == 1 and trace['num_frames'] == 12
    assert trace['theta'] == [None] * 3 + [0.5] * 9
    assert trace['confidence'][:3] == [None] * 3
    assert trace['confidence'][3:] == pytest.approx([0.1 * k for k in range(1, 10)])
    # red at 5, seen 2 frames later: the alarm at frame 7 reports 4 (refined), 5 (eq. 2);
    # the second red frame at 9 does not reset the stream (one positive clip)
    assert trace['first_alert'] == 7
    assert trace['onset'] == [None] * 7 + [4] * 5
    assert trace['coarse_onset'] == [None] * 7 + [5] * 5
    never = onset_trace(WindowDetector(), frames(6))
    assert never['first_alert'] is None and never['onset'] == [None] * 6


def test_replay_confirmed_alarms_by_hand():
    """The cascade replayed from a trace: N = 4, theta 0.5 (each window's onset is its end
    - 1), windows of candidate c at c and c + 3, R = 1 (a window at c is asked at c + 1)."""
    from bleedorigin.apis.onset_alarms import replay_confirmed_alarms
    from bleedorigin.models.utils.onset_refine import RefineCascade

    thetas = [None] * 3 + [0.5] * 9
    confs = [0.0] * 3 + [0.9, 0.1, 0.8, 0.8, 0.8, 0.2, 0.2, 0.2, 0.2]

    def replay(named, thr=0.5, rearm=False):
        asked = []

        def ask(centre):
            asked.append(centre)
            return centre if centre in named else None
        out = replay_confirmed_alarms(thetas, confs, 4, thr,
                                      lambda: RefineCascade(lambda c: [c, c + 3], 1), ask,
                                      rearm)
        return out, asked

    # candidates 2 (t = 3), 4 (t = 5), 5 (t = 6), 6 (t = 7); only window 6 names a frame:
    # 2's windows (2, 5) and 4's first (4) name none; 6 is asked at 7 and raises the alarm
    out, asked = replay({6})
    assert out == dict(alerts=[7], onsets=[6], num_frames=12) and asked == [2, 4, 5, 6]
    # window 5 names 5: candidate 2 is confirmed at 6, when its second window is ready
    assert replay({5})[0]['alerts'] == [6] and replay({5})[0]['onsets'] == [5]
    # only window 3's 0.9 passes 0.85: candidate 2, whose windows name none: no alarm
    assert replay({6}, thr=0.85)[0]['alerts'] == []
    # dismissals: alarm at 3 (onset 2); no window in 4-6; candidate 6 (t = 7) is dropped
    # at 7 and its second window (9) names 9 at 10: a second alarm
    out, _ = replay({2, 9}, rearm=True)
    assert out['alerts'] == [3, 10] and out['onsets'] == [2, 9]
    assert replay({2, 9}, rearm=False)[0]['alerts'] == [3]
    with pytest.raises(ValueError, match='2 thetas for 3'):
        replay_confirmed_alarms([None] * 2, [0.0] * 3, 4, 0.5, None, None)


def _confirming_clip_and_detector(seed):
    """A 30-frame clip whose red patch appears at frame 11, and a tiny detector with a
    refiner that confirms eq. 2's candidates (one search window)."""
    import torch
    from tiny_models import tiny_detector

    rng = np.random.default_rng(seed)
    clip = np.repeat(rng.integers(80, 180, (1, 40, 48, 3), dtype=np.uint8), 30, 0)
    clip[11:, 8:14, 10:16] = (200, 10, 10)
    torch.manual_seed(0)
    model = tiny_detector(
        onset_refiner=dict(type='OnsetRefiner', radius=2, crop=16, channels=(8, 8),
                           temporal_channels=8), onset_refine_size=(48, 40),
        onset_refine_search=(1, ), onset_refine_confirm=True).eval()
    return clip, model


def test_replay_confirmed_alarms_is_the_stream_on_a_positive_clip():
    """One trace of ``StreamDetector`` with the refiner's confirmation, replayed at each
    candidate threshold, gives the alarm and onset of a stream confirming at it."""

    from bleedorigin.apis import StreamDetector
    from bleedorigin.apis.onset_alarms import replay_confirmed_alarms

    clip, model = _confirming_clip_and_detector(0)
    model.refine_window = lambda centre, read_frames: centre + 1 if centre % 3 == 0 else None

    def stream(thr):
        model.onset_candidate_thr = thr
        detector = StreamDetector(model)
        return [detector.step(np.ascontiguousarray(f)) for f in clip]

    trace = stream(0.0)
    confs = sorted(s['confidence'] for s in trace if s['theta'] is not None)
    fired = 0
    for thr in (0.0, confs[len(confs) // 2], confs[-2], 0.999):
        states = stream(thr)
        first = next((s['frame_index'] for s in states if s['onset_frame'] is not None), None)
        replay = replay_confirmed_alarms(
            [s['theta'] for s in trace], [s['confidence'] for s in trace], model.window_size,
            thr, model.make_refine_cascade, lambda c: model.refine_window(c, None), False)
        assert replay['alerts'] == ([] if first is None else [first])
        if first is not None:
            fired += 1
            assert replay['onsets'] == [states[-1]['onset_frame']]
    assert fired >= 2


def test_refiner_off_traces_the_same_windows_without_asking_the_refiner():
    """Tracing with the refiner switched off gives the window outputs of the stream with
    the refiner's confirmation, never asks the refiner, and restores it afterwards."""

    from bleedorigin.apis import StreamDetector
    from bleedorigin.apis.onset_alarms import onset_trace, refiner_off

    clip, model = _confirming_clip_and_detector(1)
    model.onset_candidate_thr = 0.0
    asked = []
    model.refine_window = lambda centre, read_frames: asked.append(centre) or centre
    refiner = model.onset_refiner
    with_refiner = onset_trace(StreamDetector(model), clip)
    assert asked  # the stream with the confirmation asks the refiner
    asked.clear()
    with refiner_off(model) as off:
        assert off.onset_refiner is None and not off.onset_refine_confirm
        without = onset_trace(StreamDetector(model), clip)
    assert not asked
    assert without['theta'] == with_refiner['theta']
    assert without['confidence'] == with_refiner['confidence']
    assert model.onset_refiner is refiner and model.onset_refine_confirm
    with refiner_off(None):  # nothing to switch off
        pass
