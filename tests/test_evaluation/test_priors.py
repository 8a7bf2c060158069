"""The constant onset prior is fitted once (datasets.onset_dataset.median_onset) and applied
once (evaluation.priors.prior_onset_predictions): tools/test.py's OnsetMetric and the
benchmark give the same prior row."""
from types import SimpleNamespace

import pytest

from bleedorigin.datasets.bench import SourcePoint
from bleedorigin.datasets.onset_dataset import median_onset
from bleedorigin.evaluation import OnsetMetric
from bleedorigin.evaluation.bench_scoring import onset_metrics
from bleedorigin.evaluation.priors import prior_onset_predictions, prior_predictions


def _clip(onset, num_frames=100, source=(50.0, 20.0)):
    annotations = {} if onset is None else {onset: [SourcePoint(0, *source)]}
    clip = SimpleNamespace(onset_frame=onset, num_frames=num_frames, width=100, height=40,
                           annotations=annotations)
    clip.onset_sources = lambda: annotations.get(onset, []) if onset is not None else []
    return clip


def test_median_onset_rounds_to_the_nearest_frame():
    assert median_onset([_clip(10), _clip(13), _clip(None)]) == 12  # median 11.5
    assert median_onset([_clip(10), _clip(11), _clip(30)]) == 11
    assert median_onset([_clip(None)]) is None


def test_prior_is_clipped_to_the_last_frame():
    assert prior_onset_predictions(60, [100, 40, 61]) == [60, 39, 60]


def test_onset_metric_and_benchmark_score_the_same_prior():
    train = [_clip(10), _clip(13), _clip(30)]
    clips = [_clip(12, num_frames=50), _clip(40, num_frames=12), _clip(None, num_frames=30)]
    onsets, sources = prior_predictions(train, clips, clips[:2])
    assert onsets == [13, 11, 13]
    assert sources == [pytest.approx((50.0, 20.0))] * 2
    bench = onset_metrics('prior_median', onsets, clips)
    metric = OnsetMetric(prior_onset=median_onset(train))
    metric.process({}, [dict(pred_onset=None, gt_onset=c.onset_frame, num_frames=c.num_frames)
                        for c in clips])
    test_py = metric.evaluate(size=len(clips))
    for key in ('acc_0', 'acc_1', 'acc_2', 'err_avg', 'false_alarm_rate'):
        assert test_py[f'onset/prior_median/{key}'] == pytest.approx(
            bench[f'onset/prior_median/{key}']), key
