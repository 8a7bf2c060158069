"""Bleeding-source tracking clips of BleedOrigin-Bench (paper 4.2.1, Figure 6B/C).

Training modes:

- ``short``: 31 consecutive frames ``[a, a + 30]`` whose first and last frames
  are annotated (``a`` = onset, onset + 30, ...);
- ``long``: the clip from the onset to its end (61-301 frames in the paper,
  capped at ``long_max_frames``), supervised at every annotated frame;
- ``hybrid``: both sample lists together;
- ``test``: every positive clip from the GT onset frame and points to the end
  (evaluation mode of section 4.3), with sparse and, when present, dense GT.

Pseudo labels written by ``tools/gen_pseudo_labels.py`` (see
:mod:`bleedorigin.datasets.pseudo_label_io`) are loaded when present and
``use_pseudo_labels`` is on; each pseudo point becomes an extra query whose
trajectory supervises eq. 8's second term.
"""
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from bleedorigin.registry import DATASETS, FUNCTIONS

from .bench import BenchIndex, ClipRecord
from .onset_dataset import build_pipeline

MODES = ('short', 'long', 'hybrid', 'test')


@DATASETS.register_module()
class BleedTrackDataset(Dataset):
    """Tracking samples from a BleedOrigin-Bench root.

    Note:
        T: frames of a sample, K: queries (GT sources first, then pseudo
        points), H, W: ``input_size`` reversed.

    Args:
        data_root (str): Bench root (``splits.json``, ``clips/``).
        split (str): ``train``, ``val`` or ``test``.
        mode (str): One of ``short``, ``long``, ``hybrid``, ``test``.
        input_size (tuple[int, int]): (W, H) the tracker's input size; frames
            are resized to it and points scaled accordingly.
        short_length (int): Frames of a short clip (31 = stride + 1).
        long_max_frames (int): Cap on long-clip length (CPU budget).
        use_pseudo_labels (bool): Load pseudo labels when present.
        max_pseudo_points (int): Pseudo points kept per sample (random subset).
        pipeline (Sequence[dict]): Transforms of training samples (registered in
            ``datasets/transforms``, e.g. ``SequenceGainJitter``,
            ``SequenceRandomFlip``, ``SequenceTimeReverse``). They see ``frames``
            (T, H, W, 3) uint8 at the input size, ``track_points`` (T, K, 2) in
            input pixels, ``track_visible`` and ``track_valid`` (T, K). Not
            applied in ``test`` mode.
        seed (int): Seed of the pseudo-point subsampling.
    """

    def __init__(self, data_root: str, split: str = 'train', mode: str = 'hybrid',
                 input_size: Tuple[int, int] = (256, 192), short_length: int = 31,
                 long_max_frames: int = 121, use_pseudo_labels: bool = True,
                 max_pseudo_points: int = 24, pipeline: Sequence = (), seed: int = 0):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.data_root = data_root
        self.split = split
        self.mode = mode
        self.input_size = tuple(input_size)
        self.short_length = short_length
        self.long_max_frames = long_max_frames
        self.use_pseudo_labels = use_pseudo_labels
        self.max_pseudo_points = max_pseudo_points
        self.pipeline = build_pipeline(pipeline)
        self.rng = np.random.default_rng(seed)
        self.index = BenchIndex(data_root, split=split)
        self.metainfo = dict(task='track', split=split, mode=mode)
        self.samples = self._build_samples()

    # ------------------------------------------------------------ indexing
    def _build_samples(self) -> List[Tuple[ClipRecord, int, int]]:
        """(clip, start frame, end frame inclusive) per sample."""
        samples = []
        for clip in self.index.clips:
            onset = clip.onset_frame
            if onset is None or not clip.sources_at(onset):
                continue
            if self.mode in ('short', 'hybrid'):
                span = self.short_length - 1
                for start in clip.annotated_frames:
                    end = start + span
                    if start >= onset and end < clip.num_frames and clip.sources_at(start) \
                            and clip.sources_at(end) is not None:
                        samples.append((clip, start, end))
            if self.mode in ('long', 'hybrid'):
                end = min(clip.num_frames - 1, onset + self.long_max_frames - 1)
                if end - onset + 1 > self.short_length:
                    samples.append((clip, onset, end))
            if self.mode == 'test' and onset < clip.num_frames - 1:
                samples.append((clip, onset, clip.num_frames - 1))
        return samples

    def __len__(self) -> int:
        return len(self.samples)

    # -------------------------------------------------------------- loading
    def _load_window(self, clip: ClipRecord, start: int, end: int) -> np.ndarray:
        frames = clip.load_frames(range(start, end + 1))
        in_w, in_h = self.input_size
        return np.stack([cv2.resize(f, (in_w, in_h), interpolation=cv2.INTER_AREA)
                         for f in frames])

    @staticmethod
    def _gt_tracks(clip: ClipRecord, start: int, end: int, group_ids: Sequence[int]):
        """Sparse GT in original pixels: (T, K, 2) (0 where absent), visible (T, K),
        labelled (T, K)."""
        sparse = clip.sparse_tracks(group_ids, start, end + 1)
        points = np.nan_to_num(sparse['points'], nan=0.0).astype(np.float32)
        return points, sparse['visible'], sparse['labelled']

    @staticmethod
    def _dense_tracks(clip: ClipRecord, start: int, end: int, group_ids: Sequence[int]):
        """Dense GT in original pixels: points (T, K, 2) (0 where undefined), visible,
        defined; ``None`` without ``dense_gt.json``."""
        dense = clip.dense_tracks(group_ids, start, end + 1)
        if dense is None:
            return None
        return dict(points=np.nan_to_num(dense['points'], nan=0.0).astype(np.float32),
                    visible=dense['visible'], defined=dense['defined'])

    def _pseudo_tracks(self, clip: ClipRecord, start: int, end: int):
        """Pseudo trajectories starting at ``start``: (T, N, 2), valid (T, N)."""
        from .pseudo_label_io import read_pseudo_labels
        t_len = end - start + 1
        labels = read_pseudo_labels(clip, start)
        if labels is None:
            return np.zeros((t_len, 0, 2), np.float32), np.zeros((t_len, 0), bool)
        trajs = [np.asarray(p['trajectory'], np.float32)
                 for s in labels['sources'] for p in s['points']]
        if not trajs:
            return np.zeros((t_len, 0, 2), np.float32), np.zeros((t_len, 0), bool)
        length = min(t_len, len(trajs[0]))
        points = np.zeros((t_len, len(trajs), 2), np.float32)
        valid = np.zeros((t_len, len(trajs)), bool)
        for j, traj in enumerate(trajs):
            points[:length, j] = traj[:length]
            valid[:length, j] = True
        if len(trajs) > self.max_pseudo_points:
            keep = np.sort(self.rng.choice(len(trajs), self.max_pseudo_points, replace=False))
            points, valid = points[:, keep], valid[:, keep]
        return points, valid

    def __getitem__(self, index: int) -> dict:
        clip, start, end = self.samples[index]
        group_ids = [s.group_id for s in clip.sources_at(start)]
        frames = self._load_window(clip, start, end)
        sx, sy = self.input_size[0] / clip.width, self.input_size[1] / clip.height
        scale = np.array([sx, sy], np.float32)
        gt_points, gt_visible, gt_labelled = self._gt_tracks(clip, start, end, group_ids)
        meta = dict(clip_id=clip.clip_id, patient_id=clip.patient_id, rel_dir=clip.rel_dir,
                    start_frame=start, end_frame=end, group_ids=group_ids,
                    scale=tuple(scale.tolist()), ori_size=(clip.width, clip.height),
                    scenarios=list(clip.scenarios))
        if self.mode == 'test':
            sample = dict(meta, query_points=gt_points[0] * scale,
                          gt_points=gt_points, gt_visible=gt_visible, gt_labelled=gt_labelled,
                          dense_gt=self._dense_tracks(clip, start, end, group_ids))
            return dict(inputs=torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous(),
                        data_samples=sample)

        pseudo_points = np.zeros((len(frames), 0, 2), np.float32)
        pseudo_valid = np.zeros((len(frames), 0), bool)
        if self.use_pseudo_labels:
            pseudo_points, pseudo_valid = self._pseudo_tracks(clip, start, end)
        points = np.concatenate([gt_points, pseudo_points], axis=1) * scale
        visible = np.concatenate([gt_visible, pseudo_valid], axis=1)
        valid = np.concatenate([gt_labelled, pseudo_valid], axis=1)
        is_pseudo = np.r_[np.zeros(len(group_ids), bool), np.ones(pseudo_points.shape[1], bool)]
        if self.pipeline:
            results = dict(frames=frames, track_points=points, track_visible=visible,
                           track_valid=valid)
            for transform in self.pipeline:
                results = transform(results)
            frames, points, visible, valid = (results[k] for k in (
                'frames', 'track_points', 'track_visible', 'track_valid'))
        # a query must exist at frame 0: drop pseudo points that start later
        keep = valid[0] & visible[0]
        sample = dict(meta, query_points=points[0][keep], target_points=points[:, keep],
                      target_visible=visible[:, keep], target_valid=valid[:, keep],
                      is_pseudo=is_pseudo[keep])
        return dict(inputs=torch.from_numpy(np.ascontiguousarray(frames)).permute(
            0, 3, 1, 2).contiguous(), data_samples=sample)


@FUNCTIONS.register_module()
def track_collate(batch: List[dict]) -> Dict[str, list]:
    """Keep samples as lists (clips may differ in length and query count)."""
    return dict(inputs=[b['inputs'] for b in batch],
                data_samples=[b['data_samples'] for b in batch])
