"""Onset-frame metric (paper Table 3) with a constant-prior row."""
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from bleedorigin.constants import ONSET_TOLERANCES
from bleedorigin.registry import METRICS

from ..functional import onset_accuracy


@METRICS.register_module()
class OnsetMetric(BaseMetric):
    """Acc±k, Err_avg^ibf, bias, miss rate and false-alarm rate of onset detection.

    Every prediction is one clip. The model writes ``pred_onset`` (int or None
    when no window fired), ``gt_onset`` (None for a negative clip) and
    ``num_frames`` into its output data sample; samples without ``gt_onset``
    key (e.g. source-localisation samples of a mixed loader) are ignored.

    The constant prior predicts the median onset frame of the training split for
    every clip; its results are emitted as ``prior_median/<metric>`` so that a
    model that only learnt where onsets usually are is exposed.

    Args:
        tolerances (Sequence[int]): Frame tolerances k. Defaults to ``ONSET_TOLERANCES``.
        prior_onset (int, optional): Onset frame of the constant prior. Defaults to
            ``dataset_meta['prior_onset_frame']`` (set by ``BleedOnsetDataset``).
        collect_device (str): Device for collecting results across ranks.
        prefix (str): Key prefix. Defaults to ``'onset'``.
    """

    default_prefix = 'onset'

    def __init__(self,
                 tolerances: Sequence[int] = ONSET_TOLERANCES,
                 prior_onset: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.tolerances = tuple(int(k) for k in tolerances)
        self.prior_onset = prior_onset

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'gt_onset' not in sample or 'pred_onset' not in sample:
                continue
            self.results.append(dict(
                clip_id=sample.get('clip_id'),
                pred_onset=sample['pred_onset'],
                gt_onset=sample['gt_onset'],
                num_frames=int(sample['num_frames'])))

    def _prior(self) -> Optional[int]:
        if self.prior_onset is not None:
            return int(self.prior_onset)
        meta = self.dataset_meta or {}
        prior = meta.get('prior_onset_frame')
        return None if prior is None else int(prior)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('OnsetMetric: no onset predictions were collected; does the '
                             'evaluated dataset contain onset clips?')
        gts = [r['gt_onset'] for r in results]
        lengths = [r['num_frames'] for r in results]
        metrics = onset_accuracy([r['pred_onset'] for r in results], gts, lengths,
                                 self.tolerances)
        prior = self._prior()
        if prior is not None:
            prior_preds = [min(prior, n - 1) for n in lengths]
            for key, value in onset_accuracy(prior_preds, gts, lengths,
                                             self.tolerances).items():
                if not key.startswith('num_'):
                    metrics[f'prior_median/{key}'] = value
        # the clip counts go to the log, not into the result keys (tools/test.py --out)
        num_positive, num_negative = metrics.pop('num_positive'), metrics.pop('num_negative')
        MMLogger.get_current_instance().info(
            f'OnsetMetric: {num_positive} positive and {num_negative} negative clips, '
            f'Acc±8 {metrics.get("acc_8", float("nan")):.2f}')
        return metrics
