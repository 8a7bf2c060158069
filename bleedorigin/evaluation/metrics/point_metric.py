"""Initial bleeding source metric (paper Table 4) with a constant image-centre prior."""
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from bleedorigin.constants import POINT_THRESHOLDS
from bleedorigin.registry import METRICS

from ..functional import score_source_predictions


@METRICS.register_module()
class PointMetric(BaseMetric):
    """Err≤d and Err_avg of the predicted bleeding source, in original-frame pixels.

    The model writes ``pred_point`` (x, y, or ``None``), ``gt_sources`` (every
    ground-truth source of the onset frame, (K, 2); ``gt_point`` alone is read
    as one source) in pixels of the original frame and ``ori_shape`` (H, W)
    into its output data samples; samples without ground truth (negative
    clips, onset samples) are ignored. Scoring follows the package's one rule
    (:func:`~bleedorigin.evaluation.functional.score_source_predictions`, also
    used by the benchmark): the nearest source counts, and a sample without a
    prediction or with a NaN point is a miss (outside every threshold, the
    frame diagonal in Err_avg; ``miss_rate`` reports them).
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
            sources = sample.get('gt_sources')
            if sources is None and sample.get('gt_point') is not None:
                sources = [sample['gt_point']]
            if sources is None or not len(sources):
                continue
            height, width = sample['ori_shape'][:2]
            pred = sample.get('pred_point')
            self.results.append(dict(
                pred=None if pred is None else np.asarray(pred, np.float64).reshape(2),
                sources=np.asarray(sources, dtype=np.float64).reshape(-1, 2),
                size=(int(width), int(height)),
                baselines={name: np.asarray(point, dtype=np.float64).reshape(2)
                           for name, point in (sample.get('baseline_points') or {}).items()}))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            raise ValueError('PointMetric: no source samples were collected; does the '
                             'evaluated dataset contain positive clips?')
        sources = [r['sources'] for r in results]
        sizes = [r['size'] for r in results]

        def score(preds) -> Dict[str, float]:
            return score_source_predictions(preds, sources, sizes, self.thresholds)

        metrics = score([r['pred'] for r in results])
        num_clips = metrics.pop('num_clips')
        prior = score([(w / 2.0, h / 2.0) for w, h in sizes])
        metrics.update({f'prior_center/{k}': v for k, v in prior.items()
                        if k not in ('num_clips', 'miss_rate')})
        # baselines the model evaluated on the same inputs, when every sample has them
        names = set.intersection(*[set(r.get('baselines', {})) for r in results])
        for name in sorted(names):
            scores = score([r['baselines'][name] for r in results])
            metrics.update({f'{name}/{k}': v for k, v in scores.items()
                            if k not in ('num_clips', 'miss_rate')})
        MMLogger.get_current_instance().info(
            f'PointMetric: {num_clips} clips, {metrics["miss_rate"]:.1f} % without a '
            'prediction')
        return metrics
