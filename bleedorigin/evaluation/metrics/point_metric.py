"""Initial bleeding source metric (paper Table 4) with a constant image-centre prior."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from bleedorigin.constants import POINT_THRESHOLDS
from bleedorigin.registry import METRICS

from ..functional import point_accuracy, point_errors


@METRICS.register_module()
class PointMetric(BaseMetric):
    """Err≤d and Err_avg of the predicted bleeding source, in original-frame pixels.

    The model writes ``pred_point`` (x, y) and ``gt_point`` (x, y) in pixels of
    the original frame and ``ori_shape`` (H, W) into its output data samples;
    samples without ``gt_point`` (negative clips, onset samples) are ignored.
    The prior always answers the image centre; its results are emitted as
    ``prior_center/<metric>``. Baselines a model scored on the same inputs (a data
    sample's ``baseline_points`` dict, e.g. ``red_diff_argmax``) are emitted as
    ``<name>/<metric>`` when every sample carries them.

    Args:
        thresholds (Sequence[float]): Distance thresholds in pixels.
        collect_device (str): Device for collecting results across ranks.
        prefix (str): Key prefix. Defaults to ``'source'``.
    """

    default_prefix = 'source'

    def __init__(self,
                 thresholds: Sequence[float] = POINT_THRESHOLDS,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.thresholds = tuple(thresholds)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if sample.get('gt_point') is None or sample.get('pred_point') is None:
                continue
            height, width = sample['ori_shape'][:2]
            self.results.append(dict(
                pred=np.asarray(sample['pred_point'], dtype=np.float64).reshape(2),
                gt=np.asarray(sample['gt_point'], dtype=np.float64).reshape(2),
                center=np.array([width / 2.0, height / 2.0]),
                baselines={name: np.asarray(point, dtype=np.float64).reshape(2)
                           for name, point in (sample.get('baseline_points') or {}).items()}))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('PointMetric: no source predictions were collected; does the '
                             'evaluated dataset contain positive clips?')
        gts = np.stack([r['gt'] for r in results])
        metrics = point_accuracy(point_errors(np.stack([r['pred'] for r in results]), gts),
                                 self.thresholds)
        prior = point_accuracy(point_errors(np.stack([r['center'] for r in results]), gts),
                               self.thresholds)
        metrics.update({f'prior_center/{k}': v for k, v in prior.items()})
        # baselines the model evaluated on the same inputs, when every sample has them
        names = set.intersection(*[set(r.get('baselines', {})) for r in results])
        for name in sorted(names):
            errors = point_errors(np.stack([r['baselines'][name] for r in results]), gts)
            metrics.update({f'{name}/{k}': v
                            for k, v in point_accuracy(errors, self.thresholds).items()})
        return metrics
