"""Accuracy of the onset refiner on windows with a known coarse error."""
from typing import Any, Dict, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from bleedorigin.registry import METRICS


@METRICS.register_module()
class RefineMetric(BaseMetric):
    """Exact and ±1 accuracy of the refined onset, and of the coarse onset kept as is.

    Each sample is one window of ``OnsetRefineDataset`` (metainfo ``offset`` = coarse
    error o, ``target``; prediction ``pred_target``). The refined onset is off by
    ``pred_target - target`` frames; "none" keeps the coarse onset (off by o).
    ``select_err`` is the mean absolute refined error (lower is better).

    Args:
        collect_device (str): Device for collecting results across ranks.
        prefix (str): Key prefix. Defaults to ``'refine'``.
    """

    default_prefix = 'refine'

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:  # the evaluator's dicts (metainfo and fields flattened)
            self.results.append(dict(offset=int(sample['offset']), target=int(sample['target']),
                                     radius=int(sample['radius']),
                                     pred=int(sample['pred_target'])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        refined, coarse = [], []
        for r in results:
            none = 2 * r['radius'] + 1
            if r['pred'] == none:  # the coarse onset is kept
                err = abs(r['offset'])
            elif r['target'] == none:  # the onset is outside: the candidate's distance to it
                err = abs(r['offset'] + r['pred'] - r['radius'])
            else:
                err = abs(r['pred'] - r['target'])
            refined.append(err)
            coarse.append(abs(r['offset']))
        refined, coarse = np.array(refined, float), np.array(coarse, float)
        return dict(acc_0=100.0 * float((refined == 0).mean()),
                    acc_1=100.0 * float((refined <= 1).mean()),
                    coarse_acc_0=100.0 * float((coarse == 0).mean()),
                    select_err=float(refined.mean()))
