"""The detector's checkpoint-selection score: the onset branch and the source branch."""
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric

from bleedorigin.constants import POINT_THRESHOLDS, SELECT_SOURCE_WEIGHT, WINDOW_SIZE
from bleedorigin.registry import METRICS

from ..functional import score_source_predictions
from .onset_metric import OnsetMetric, selection_error
from .point_metric import PointMetric


@METRICS.register_module()
class DetectSelectMetric(BaseMetric):
    """``select_err`` (frames, lower is better) of a detector that finds the onset and
    locates the source: :class:`OnsetMetric`'s ``select_err`` plus ``source_weight``
    times the share of positive clips whose located source is more than
    ``source_radius`` px from the nearest true one.

    Selecting on the onset score alone kept a validation whose source branch was still
    half-trained when a later one scored the same onset error (seed 1 of the default
    config: iteration 1,200 with 70 % of the validation sources within 10 px, where
    iteration 2,400 had the same onset score and 91 %; docs/detect.md, issue 11,
    fourteenth step). With the source term the later one wins.

    Reads the same data samples as :class:`OnsetMetric` and :class:`PointMetric` (a
    mixed loader gives both kinds); emits ``select_err``, ``onset_err`` (the onset part)
    and ``source_off`` (the share of sources off, 0-1).

    Args:
        source_weight (float): Frames of onset error one unit of ``source_off`` costs.
        source_radius (float): Pixel radius of a located source (Err<=d of Table 4).
        miss_error (float): ``OnsetMetric``'s frame error of a miss or a false alarm.
        collect_device (str): Device for collecting results across ranks.
        prefix (str): Key prefix. Defaults to ``'detect'``.
    """

    default_prefix = 'detect'

    def __init__(self,
                 source_weight: float = SELECT_SOURCE_WEIGHT,
                 source_radius: float = float(POINT_THRESHOLDS[0]),
                 miss_error: float = float(WINDOW_SIZE),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if source_weight < 0 or source_radius <= 0:
            raise ValueError(f'DetectSelectMetric: need source_weight >= 0 and '
                             f'source_radius > 0, got {source_weight}, {source_radius}')
        self.source_weight = float(source_weight)
        self.source_radius = float(source_radius)
        self.miss_error = float(miss_error)
        # the two metrics' own sample parsing, one copy of each
        self._readers = (('onset', OnsetMetric(miss_error=miss_error)),
                         ('source', PointMetric(thresholds=(self.source_radius,))))

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for task, reader in self._readers:
            reader.results = []
            reader.process(data_batch, data_samples)
            self.results.extend((task, r) for r in reader.results)

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        onset = [r for task, r in results if task == 'onset']
        source = [r for task, r in results if task == 'source']
        if not onset:
            raise ValueError('DetectSelectMetric: no onset predictions were collected; does '
                             'the evaluated dataset contain onset clips?')
        onset_err = selection_error(onset, self.miss_error)
        source_off = 0.0
        if source:
            scores = score_source_predictions([r['pred'] for r in source],
                                              [r['sources'] for r in source],
                                              [r['size'] for r in source],
                                              (self.source_radius,))
            within = next(v for k, v in scores.items() if k.startswith('err_le_'))
            source_off = 1.0 - float(within) / 100.0
        return dict(select_err=onset_err + self.source_weight * source_off,
                    onset_err=onset_err, source_off=source_off)
