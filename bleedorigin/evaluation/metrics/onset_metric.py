"""Onset-frame metric (paper Table 3) with a constant-prior row."""
from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from bleedorigin.constants import ONSET_TOLERANCES, WINDOW_SIZE
from bleedorigin.registry import METRICS

from ..functional import onset_accuracy
from ..priors import prior_onset_predictions


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

    ``select_err`` (frames, lower is better) is the score the checkpoint hook selects
    on: the mean over all clips of ``min(|t_pred - t_gt|, miss_error)`` for a detected
    positive clip, ``miss_error * (2 - max S_conf)`` for a missed one (so two detectors
    that never fire still differ by how close they came), and ``miss_error`` for a
    false alarm on a negative clip (0 without alarm). Unlike Acc±8 it does not tie at 0
    between a detector that never fires and one that almost does.

    ``negative_max_conf`` (emitted when the split holds a negative clip) is the highest
    window S_conf on any negative clip: the detector's margin on video that never bleeds
    (eq. 2 alarms above ``conf_thr``, 0.5). A false-alarm rate of 0 hides how close a
    detector came; this does not (issue 11, nineteenth step: colour augmentation took it
    from 0.03 to 0.21 on validation while the false-alarm rate stayed 0).

    Args:
        tolerances (Sequence[int]): Frame tolerances k. Defaults to ``ONSET_TOLERANCES``.
        miss_error (float): Frame error counted for a miss or a false alarm in
            ``select_err`` (the window length N by default).
        prior_onset (int, optional): Onset frame of the constant prior. Defaults to
            ``dataset_meta['prior_onset_frame']`` (set by ``BleedOnsetDataset``).
        collect_device (str): Device for collecting results across ranks.
        prefix (str): Key prefix. Defaults to ``'onset'``.
    """

    default_prefix = 'onset'

    def __init__(self,
                 tolerances: Sequence[int] = ONSET_TOLERANCES,
                 prior_onset: Optional[int] = None,
                 miss_error: float = float(WINDOW_SIZE),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.tolerances = tuple(int(k) for k in tolerances)
        self.miss_error = float(miss_error)
        self.prior_onset = prior_onset

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'gt_onset' not in sample or 'pred_onset' not in sample:
                continue
            self.results.append(dict(
                clip_id=sample.get('clip_id'),
                pred_onset=sample['pred_onset'],
                gt_onset=sample['gt_onset'],
                max_confidence=float(sample.get('max_confidence', 0.0) or 0.0),
                pred_onset_state=sample.get('pred_onset_state', 'absent'),
                pred_onset_coarse=sample.get('pred_onset_coarse', 'absent'),
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
        metrics['select_err'] = selection_error(results, self.miss_error)
        negatives = [r['max_confidence'] for r in results if r['gt_onset'] is None]
        if negatives:
            metrics['negative_max_conf'] = float(max(negatives))
        if all(r.get('pred_onset_state', 'absent') != 'absent' for r in results):
            # the detector's per-frame state decoder, a row beside eq. 2
            for key, value in onset_accuracy([r['pred_onset_state'] for r in results], gts,
                                             lengths, self.tolerances).items():
                if not key.startswith('num_'):
                    metrics[f'state_decoder/{key}'] = value
        if all(r.get('pred_onset_coarse', 'absent') != 'absent' for r in results):
            # eq. 2 before the onset refiner moved it, a row beside the refined onset
            for key, value in onset_accuracy([r['pred_onset_coarse'] for r in results], gts,
                                             lengths, self.tolerances).items():
                if not key.startswith('num_'):
                    metrics[f'eq2_unrefined/{key}'] = value
        prior = self._prior()
        if prior is not None:
            prior_preds = prior_onset_predictions(prior, lengths)
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


def selection_error(results: Sequence[dict], miss_error: float = 60.0) -> float:
    """Continuous checkpoint-selection score of :class:`OnsetMetric` (frames, lower is
    better); ``results`` hold ``pred_onset``, ``gt_onset`` and ``max_confidence``."""
    errors = []
    for r in results:
        pred, gt = r['pred_onset'], r['gt_onset']
        if gt is None:
            errors.append(miss_error if pred is not None else 0.0)
        elif pred is None:
            conf = min(max(float(r.get('max_confidence', 0.0)), 0.0), 1.0)
            errors.append(miss_error * (2.0 - conf))
        else:
            errors.append(min(abs(int(pred) - int(gt)), miss_error))
    return float(sum(errors) / len(errors)) if errors else float('nan')
