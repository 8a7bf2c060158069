"""TrackMetric: bleeding-source tracking accuracy (paper Table 7) with classical baselines.

Evaluation mode (section 4.3): tracking starts at the ground-truth onset frame
from the ground-truth source points; every clip and every ``group_id`` is
tracked to the end of the clip. Reported:

- ``track/err_le_{10,25,50,75,100}`` and ``track/err_avg``: Err≤d (eq. 11-12)
  on the visible annotated frames after the start frame (sparse, as real
  data allows), through the shared ``point_accuracy`` functional;
- ``track_dense/...``: the same on every frame where ``dense_gt.json`` shows
  the source;
- ``track_dense/delta_avg``: TAP-Vid average position accuracy (fraction
  within {1, 2, 4, 8, 16} px after scaling frames to 256x256), and
  ``track_dense/occlusion_acc``: agreement of predicted and true visibility;
- ``track/<method>/...`` and ``track_dense/<method>/...`` for the classical
  baselines (zero motion, chained Lucas-Kanade, chained DIS flow) run on the
  same clips, from the same start, in the same evaluation.
"""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from bleedorigin.constants import POINT_THRESHOLDS
from bleedorigin.registry import METRICS

from ..functional.point_accuracy import frame_diagonal, point_accuracy, point_errors
from ..track_runner import run_trackers_on_clip

TAPVID_THRESHOLDS = (1, 2, 4, 8, 16)


def tapvid_delta_avg(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray,
                     size: Sequence[int]) -> Optional[float]:
    """TAP-Vid < delta^x_avg (percent) on visible points, in 256x256 coordinates.

    Args:
        pred, gt (np.ndarray): (N, 2) pixels. visible (np.ndarray): (N,) bool.
        size (tuple): (W, H) of the frame.
    """
    if not visible.any():
        return None
    scale = np.array([256.0 / size[0], 256.0 / size[1]])
    dist = np.linalg.norm((pred[visible] - gt[visible]) * scale, axis=-1)
    return float(100.0 * np.mean([np.mean(dist < d) for d in TAPVID_THRESHOLDS]))


def sparse_pairs(pred: np.ndarray, sample: dict):
    """Predictions and GT at visible annotated frames after the start frame.

    Args:
        pred (np.ndarray): (T, K, 2) predicted original pixels.
        sample (dict): ``gt_points`` (T, K, 2), ``gt_visible`` and
            ``gt_labelled`` (T, K).

    Returns:
        tuple: (N, 2) predictions and (N, 2) GT.
    """
    mask = np.asarray(sample['gt_labelled']) & np.asarray(sample['gt_visible'])
    mask[0] = False
    return pred[mask], np.asarray(sample['gt_points'])[mask]


def dense_pairs(pred: np.ndarray, vis_pred: Optional[np.ndarray], dense: dict):
    """Per-frame pairs after the start frame from dense GT: pred, gt, gt_visible, pred_visible."""
    defined = np.asarray(dense['defined']).copy()
    defined[0] = False
    visible = np.asarray(dense['visible'])[defined]
    vp = None if vis_pred is None else np.asarray(vis_pred)[defined]
    return pred[defined], np.asarray(dense['points'])[defined], visible, vp


@METRICS.register_module()
class TrackMetric(BaseMetric):
    """Err≤d / Err_avg of tracked bleeding sources, sparse and dense, plus baselines.

    Args:
        thresholds (Sequence[float]): d of Err≤d. Defaults to ``POINT_THRESHOLDS``.
        baselines (Sequence[str]): Classical trackers run on the same clips:
            any of ``zero_motion``, ``lucas_kanade``, ``fb_lucas_kanade``, ``dis_flow``.
        data_root (str, optional): Bench root the evaluated dataset reads
            (needed to decode original frames for the baselines).
        split (str): Split of ``data_root``. Defaults to ``test``.
        chunk (int): Frames decoded at once for the baselines.
        collect_device (str): mmengine collect device.
        prefix (str, optional): Ignored; keys carry their task prefixes.
    """

    default_prefix = None

    def __init__(self, thresholds: Sequence[float] = POINT_THRESHOLDS,
                 baselines: Sequence[str] = ('zero_motion', 'lucas_kanade', 'fb_lucas_kanade',
                                             'dis_flow'),
                 data_root: Optional[str] = None, split: str = 'test', chunk: int = 32,
                 collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        from bleedorigin.models.trackers.baselines import BASELINE_TRACKERS
        unknown = set(baselines) - set(BASELINE_TRACKERS)
        if unknown:
            raise ValueError(f'unknown baselines {sorted(unknown)}; '
                             f'choose from {sorted(BASELINE_TRACKERS)}')
        if baselines and data_root is None:
            raise ValueError('TrackMetric: baselines need data_root to decode original frames')
        self.thresholds = tuple(thresholds)
        self.baselines = tuple(baselines)
        self.data_root = data_root
        self.split = split
        self.chunk = chunk
        self._clips = None

    def _clip(self, rel_dir: str):
        if self._clips is None:
            from bleedorigin.datasets.bench import BenchIndex
            self._clips = {c.rel_dir: c for c in BenchIndex(self.data_root, self.split).clips}
        if rel_dir not in self._clips:
            raise KeyError(f'{self.data_root}: clip {rel_dir} not in split {self.split!r}')
        return self._clips[rel_dir]

    def run_baselines(self, sample: dict) -> Dict[str, np.ndarray]:
        """Track the sample's GT start points with every classical tracker.

        Frames are decoded once, in chunks, and fed to all baselines.

        Returns:
            dict: baseline name -> (T, K, 2) predicted original pixels.
        """
        from bleedorigin.models.trackers.baselines import BASELINE_TRACKERS
        clip = self._clip(sample['rel_dir'])
        start, end = sample['start_frame'], sample['end_frame']
        query = np.asarray(sample['gt_points'])[0]
        trackers = {name: BASELINE_TRACKERS[name]() for name in self.baselines}
        return run_trackers_on_clip(trackers, clip, query, start, end + 1, self.chunk)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store per-clip errors of the model and of every baseline."""
        for sample in data_samples:
            preds = {None: (np.asarray(sample['pred_points']),
                            sample.get('pred_visibility'))}
            if self.baselines:
                for name, pred in self.run_baselines(sample).items():
                    preds[name] = (pred, None)
            result = dict(clip_id=sample['clip_id'], size=tuple(sample['ori_size']), methods={},
                          scenarios=list(sample.get('scenarios') or []) or ['clear'])
            # a NaN prediction is a miss: the frame diagonal, outside every threshold
            miss = frame_diagonal(*result['size'])
            for name, (pred, vis_pred) in preds.items():
                entry = {}
                p, g = sparse_pairs(pred, sample)
                entry['sparse'] = point_errors(p, g, miss) if len(p) else np.zeros(0)
                dense = sample.get('dense_gt')
                if dense is not None:
                    p, g, vis, vp = dense_pairs(pred, vis_pred, dense)
                    entry['dense'] = (point_errors(p[vis], g[vis], miss) if vis.any()
                                      else np.zeros(0))
                    entry['delta'] = tapvid_delta_avg(p, g, vis, result['size'])
                    if vp is not None and len(vis):
                        entry['occlusion'] = (np.asarray(vp, bool) == vis)
                result['methods'][name] = entry
            self.results.append(result)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Aggregate over all clips: errors are pooled over frames, as in eq. 11-12."""
        logger = MMLogger.get_current_instance()
        pooled: Dict[Optional[str], Dict[str, list]] = defaultdict(lambda: defaultdict(list))
        for result in results:
            for name, entry in result['methods'].items():
                for key, value in entry.items():
                    if value is not None:
                        pooled[name][key].append(value)
        metrics: Dict[str, float] = {}
        for name, parts in pooled.items():
            tail = '' if name is None else f'{name}/'
            for kind, task in (('sparse', 'track'), ('dense', 'track_dense')):
                errors = np.concatenate(parts[kind]) if parts.get(kind) else np.zeros(0)
                if errors.size == 0:
                    if name is None:
                        logger.warning(f'TrackMetric: no {kind} ground truth after the start '
                                       f'frame in {len(results)} clips')
                    continue
                for key, value in point_accuracy(errors, self.thresholds).items():
                    metrics[f'{task}/{tail}{key}'] = value
            if parts.get('delta'):
                metrics[f'track_dense/{tail}delta_avg'] = float(np.mean(parts['delta']))
            if parts.get('occlusion'):
                metrics[f'track_dense/{tail}occlusion_acc'] = float(
                    100.0 * np.concatenate(parts['occlusion']).mean())
        metrics.update(self.scenario_breakdown(results))
        metrics['track/num_clips'] = float(len(results))
        return metrics

    def scenario_breakdown(self, results: List[dict]) -> Dict[str, float]:
        """Sparse Err≤d per scenario and method (``track_by_scenario/<sc>/<method>/<key>``).

        A clip with several scenarios counts in each; a clip without one is ``clear``.
        """
        pooled: Dict[str, Dict[str, list]] = defaultdict(lambda: defaultdict(list))
        clips: Dict[str, int] = defaultdict(int)
        for result in results:
            for scenario in result['scenarios']:
                clips[scenario] += 1
                for name, entry in result['methods'].items():
                    pooled[scenario][name or 'ours'].append(entry['sparse'])
        out: Dict[str, float] = {}
        for scenario in sorted(pooled):
            for method, parts in pooled[scenario].items():
                errors = np.concatenate(parts) if parts else np.zeros(0)
                if errors.size == 0:
                    continue
                prefix = f'track_by_scenario/{scenario}/{method}'
                for key, value in point_accuracy(errors, self.thresholds).items():
                    out[f'{prefix}/{key}'] = value
                out[f'{prefix}/num_clips'] = int(clips[scenario])
        return out
