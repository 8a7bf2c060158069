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
