"""Coarse-to-fine stage of BleedOrigin-Track: a flow motion prior and a drift-free anchor.

The learned tracker (:class:`BleedTrackOn`) works at 256x192 on a stride-8 grid,
about 24 original pixels per cell: robust, but not precise. This module supplies
what it lacks, at a working resolution of 512x384 (about 1.5 original pixels
per working pixel on 780x670 frames), around each tracked point:

1. **Motion prior (chained flow).** Pyramidal Lucas-Kanade (OpenCV) moves a
   disc of neighbourhood points from the previous frame to the current one and
   back; points whose forward-backward round trip misses by more than
   ``fb_threshold`` (occluders: instruments, water, smoke, specular highlights
   that move with the light) are dropped, and a similarity transform fitted by
   RANSAC to the survivors moves the tracked point. The tracked point's own
   pixels are not trusted more than its neighbours': blood spreading from the
   source changes them.
2. **Anchor (re-detection against the first template).** The neighbourhood of
   the frame where the point was initialised is matched directly to the current
   frame, Lucas-Kanade initialised by the accumulated anchor->current transform
   (so large accumulated motion costs nothing), forward-backward checked; when
   enough points agree, the anchor->current similarity replaces the chained one.
   Chained flow drifts like a random walk; the anchor does not.

Each point reports a reliability: 1 when the anchor held, the inlier fraction
(halved) when only the chained prior held, 0 when neither did (the point is
held still). State is bounded: the previous grey frame, one grey frame per
anchor still referenced (at most K + 1), and a 2x3 transform per point.
"""
import copy
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from bleedorigin.registry import MODELS

from ..utils.flow import forward_backward_lucas_kanade


def disc_offsets(radius: float, step: float) -> np.ndarray:
    """Grid offsets (G, 2) inside a disc, the centre (0, 0) first."""
    if radius <= 0 or step <= 0:
        raise ValueError(f'radius and step must be > 0, got {radius}, {step}')
    ticks = np.arange(-np.floor(radius / step), np.floor(radius / step) + 1) * step
    gx, gy = np.meshgrid(ticks, ticks)
    offsets = np.stack([gx.ravel(), gy.ravel()], -1)
    offsets = offsets[(offsets ** 2).sum(-1) <= radius ** 2 + 1e-6]
    order = np.argsort((offsets ** 2).sum(-1), kind='stable')
    return offsets[order].astype(np.float32)


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply (..., 2, 3) affine matrices to (..., N, 2) points."""
    return points @ np.swapaxes(matrix[..., :, :2], -1, -2) + matrix[..., None, :, 2]


def compose_affine(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``outer`` after ``inner`` for 2x3 affine matrices."""
    return np.concatenate([outer[:, :2] @ inner[:, :2],
                           (outer[:, :2] @ inner[:, 2:] + outer[:, 2:])], axis=1)


def fit_similarity(src: np.ndarray, dst: np.ndarray, threshold: float,
                   min_inliers: int, model: str = 'similarity'
                   ) -> Tuple[Optional[np.ndarray], int]:
    """RANSAC similarity (rotation, uniform scale, translation) or affine from src to dst.

    Returns:
        tuple: 2x3 float64 matrix or None, number of inliers.
    """
    if len(src) < max(min_inliers, 3):
        return None, 0
    estimate = cv2.estimateAffine2D if model == 'affine' else cv2.estimateAffinePartial2D
    matrix, inliers = estimate(
        src.astype(np.float32), dst.astype(np.float32), method=cv2.RANSAC,
        ransacReprojThreshold=threshold, maxIters=200, confidence=0.99, refineIters=10)
    if matrix is None or inliers is None:
        return None, 0
    count = int(inliers.sum())
    if count < min_inliers:
        return None, count
    return matrix.astype(np.float64), count


@MODELS.register_module()
class AnchoredFlowRefiner:
    """Flow motion prior plus first-template anchor for K points (original pixels in/out).

    Args:
        work_size (tuple[int, int]): (W, H) working resolution; smaller frames are
            processed at their own size (never upsampled). Defaults to (512, 384).
        radius (float): Neighbourhood radius of the chained prior, working px.
        grid_step (float): Spacing of its neighbourhood grid, working px.
        anchor_radius (float): Neighbourhood radius of the anchor match, working px.
        anchor_grid_step (float): Spacing of the anchor grid, working px.
        win_size (int): Lucas-Kanade window side.
        max_level (int): Pyramid levels of the chained prior.
        anchor_max_level (int): Pyramid levels of the anchor match (it may have to
            recover a larger error after an occlusion).
        fb_threshold (float): Forward-backward round-trip tolerance, working px.
        ransac_threshold (float): RANSAC reprojection tolerance, working px.
        min_inliers (int): Inliers needed by the chained prior.
        anchor_min_inliers (int): Inliers needed by the anchor (of 78 grid points at
            the default radius and step). A deforming or changed neighbourhood
            fits one similarity with fewer: the chained prior is trusted then.
        anchor_max_jump (float): An anchor estimate farther than this (working px)
            from the chained estimate is rejected (a wrong lock), unless the chained
            prior failed or most of the anchor's neighbourhood agrees.
        anchor_model (str): ``similarity`` or ``affine`` motion of the anchor
            neighbourhood. Defaults to ``similarity``.
        rekey_fraction (float): When fewer than this fraction of the anchor's
            points survive while the chained prior holds, the current frame
            becomes the point's new anchor (keyframe), so a changed appearance
            (spreading blood, deforming tissue) does not end anchoring; 0
            keeps the first frame for ever. Defaults to 0.5.
    """

    def __init__(self, work_size: Sequence[int] = (512, 384), radius: float = 24.0,
                 grid_step: float = 6.0, anchor_radius: float = 40.0,
                 anchor_grid_step: float = 8.0, win_size: int = 15, max_level: int = 2,
                 anchor_max_level: int = 3, fb_threshold: float = 1.0,
                 ransac_threshold: float = 1.0, min_inliers: int = 6,
                 anchor_min_inliers: int = 30, anchor_max_jump: float = 12.0,
                 anchor_model: str = 'similarity', rekey_fraction: float = 0.5):
        if anchor_model not in ('similarity', 'affine'):
            raise ValueError(f'anchor_model must be similarity or affine, got {anchor_model!r}')
        if len(work_size) != 2 or min(work_size) < 16:
            raise ValueError(f'work_size must be (W, H) >= 16, got {work_size}')
        self.work_size = (int(work_size[0]), int(work_size[1]))
        self.offsets = disc_offsets(radius, grid_step)
        self.anchor_offsets = disc_offsets(anchor_radius, anchor_grid_step)
        self.win_size = int(win_size)
        self.max_level = int(max_level)
        self.anchor_max_level = int(anchor_max_level)
        self.fb_threshold = float(fb_threshold)
        self.ransac_threshold = float(ransac_threshold)
        self.min_inliers = int(min_inliers)
        self.anchor_min_inliers = int(anchor_min_inliers)
        self.anchor_max_jump = float(anchor_max_jump)
        self.anchor_model = anchor_model
        self.rekey_fraction = float(rekey_fraction)
        self.reset_stream()

    # ----------------------------------------------------------------- state
    def new_stream(self) -> 'AnchoredFlowRefiner':
        """A refiner with these settings and a fresh stream (one per video: the tracker's
        TrackState holds it, so the model itself keeps no stream)."""
        other = copy.copy(self)
        other.reset_stream()
        return other

    def reset_stream(self) -> None:
        """Forget the current video."""
        self.scale = np.ones(2, np.float32)  # working px per original px (x, y)
        self.frame_shape: Optional[Tuple[int, int]] = None
        self.frame_work_size = self.work_size  # (W, H) of this video's working frames
        self.prev_gray: Optional[np.ndarray] = None  # previous grey frame
        self.anchor_frames: List[Optional[np.ndarray]] = []  # grey anchor frames
        self.anchor_ids = np.zeros(0, np.int64)
        self.anchor_points = np.zeros((0, 2), np.float64)  # working px in the anchor frame
        self.transforms = np.zeros((0, 2, 3), np.float64)  # anchor frame -> current frame
        self.points = np.zeros((0, 2), np.float64)  # working px, current frame
        self.reliability = np.zeros(0, np.float32)
        self.mode = np.zeros(0, np.int8)  # 2 anchor, 1 chained, 0 held

    def __len__(self) -> int:
        return len(self.points)

    def _gray(self, frame: np.ndarray) -> np.ndarray:
        if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f'frame must be an HxWx3 uint8 RGB array, got '
                             f'{getattr(frame, "shape", type(frame))}')
        if self.frame_shape is not None and frame.shape[:2] != self.frame_shape:
            raise ValueError(f'frame size changed mid-stream: {frame.shape[1]}x{frame.shape[0]} '
                             f'!= {self.frame_shape[1]}x{self.frame_shape[0]}')
        gray = cv2.cvtColor(np.ascontiguousarray(frame, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
        if (gray.shape[1], gray.shape[0]) != self.frame_work_size:
            gray = cv2.resize(gray, self.frame_work_size, interpolation=cv2.INTER_AREA)
        return gray

    def _to_work(self, points) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if not np.isfinite(pts).all():
            raise ValueError('points must be finite (K, 2) pixel coordinates')
        return pts * self.scale

    def init(self, frame: np.ndarray, points) -> None:
        """Start tracking ``points`` (K, 2) original pixels on ``frame``."""
        self.reset_stream()
        h, w = frame.shape[:2] if isinstance(frame, np.ndarray) and frame.ndim == 3 else (0, 0)
        # never upsample: a frame smaller than work_size is processed as it is
        self.frame_work_size = (min(self.work_size[0], w), min(self.work_size[1], h))
        gray = self._gray(frame)
        self.frame_shape = (h, w)
        self.scale = np.array([self.frame_work_size[0] / max(w, 1),
                               self.frame_work_size[1] / max(h, 1)], np.float64)
        self.prev_gray = gray
        self._add(self._to_work(points))

    def add_points(self, frame: np.ndarray, points) -> None:
        """Add points on the current frame (the one last passed to init/step)."""
        if self.prev_gray is None:
            raise RuntimeError('call init(frame, points) before add_points')
        self._add(self._to_work(points))

    def _anchor_slot(self, gray: np.ndarray) -> int:
        """Store an anchor frame in a free slot (the list never grows past K slots)."""
        used = set(self.anchor_ids.tolist())
        for slot, frame in enumerate(self.anchor_frames):
            if frame is None or slot not in used:
                self.anchor_frames[slot] = gray
                return slot
        self.anchor_frames.append(gray)
        return len(self.anchor_frames) - 1

    def _add(self, pts: np.ndarray) -> None:
        n = len(pts)
        self.anchor_ids = np.r_[self.anchor_ids, np.full(n, self._anchor_slot(self.prev_gray))]
        self.anchor_points = np.concatenate([self.anchor_points, pts])
        eye = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (n, 1, 1))
        self.transforms = np.concatenate([self.transforms, eye])
        self.points = np.concatenate([self.points, pts])
        self.reliability = np.r_[self.reliability, np.ones(n, np.float32)]
        self.mode = np.r_[self.mode, np.full(n, 2, np.int8)]

    def correct(self, index: int, point) -> None:
        """Move point ``index`` to ``point`` (original px), e.g. a learned re-detection.

        The accumulated transform is translated with it, so the anchor match
        starts from the corrected position.
        """
        new = self._to_work(point)[0]
        delta = new - self.points[index]
        self.transforms[index, :, 2] += delta
        self.points[index] = new

    # ------------------------------------------------------------------ step
    def _checked_flow(self, prev_gray, next_gray, pts, guess, level):
        """Forward flow and a mask of points that pass the round trip and stay inside."""
        fwd, ok, round_trip = forward_backward_lucas_kanade(
            prev_gray, next_gray, pts, guess, backward_start='query', win_size=self.win_size,
            max_level=level, iterations=10, epsilon=0.03)
        w, h = self.frame_work_size
        inside = (fwd[:, 0] >= 0) & (fwd[:, 0] < w) & (fwd[:, 1] >= 0) & (fwd[:, 1] < h) & \
            (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        good = ok & inside & (round_trip < self.fb_threshold)
        return fwd, good

    def step(self, frame: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Move every point into ``frame``.

        Returns:
            tuple: points (K, 2) float32 original px and reliability (K,) in [0, 1].
        """
        if self.prev_gray is None:
            raise RuntimeError('call init(frame, points) before step')
        gray = self._gray(frame)
        k, g = len(self.points), len(self.offsets)
        new_points = self.points.copy()
        new_transforms = self.transforms.copy()
        reliability = np.zeros(k, np.float32)
        mode = np.zeros(k, np.int8)
        rekey: List[int] = []
        if k:
            # 1. chained motion prior
            grids = (self.points[:, None] + self.offsets[None]).reshape(-1, 2)
            fwd, good = self._checked_flow(self.prev_gray, gray, grids, None, self.max_level)
            fwd, good = fwd.reshape(k, g, 2), good.reshape(k, g)
            grids = grids.reshape(k, g, 2)
            for i in range(k):
                matrix, count = fit_similarity(grids[i][good[i]], fwd[i][good[i]],
                                               self.ransac_threshold, self.min_inliers)
                if matrix is None:
                    continue
                new_points[i] = apply_affine(matrix, self.points[i][None])[0]
                new_transforms[i] = compose_affine(matrix, self.transforms[i])
                reliability[i] = 0.5 * count / g
                mode[i] = 1
            # 2. anchor against the frame each point started on, from two guesses: the
            # chained estimate and the previous frame's transform (no motion), since the
            # chained prior may have followed an occluder
            for anchor in np.unique(self.anchor_ids):
                idx = np.flatnonzero(self.anchor_ids == anchor)
                ga = len(self.anchor_offsets)
                agrid = self.anchor_points[idx][:, None] + self.anchor_offsets[None]  # (n, G, 2)
                best = [(None, 0)] * len(idx)
                todo = np.arange(len(idx))  # second guess only where the first was weak
                for transforms in (new_transforms[idx], self.transforms[idx]):
                    if not len(todo):
                        break
                    guess = apply_affine(transforms[todo], agrid[todo])
                    fwd, good = self._checked_flow(self.anchor_frames[anchor], gray,
                                                   agrid[todo].reshape(-1, 2),
                                                   guess.reshape(-1, 2), self.anchor_max_level)
                    fwd, good = fwd.reshape(len(todo), ga, 2), good.reshape(len(todo), ga)
                    for row, j in enumerate(todo):
                        fit = fit_similarity(agrid[j][good[row]], fwd[row][good[row]],
                                             self.ransac_threshold, self.anchor_min_inliers,
                                             self.anchor_model)
                        if fit[1] > best[j][1] and fit[0] is not None:
                            best[j] = fit
                    todo = np.array([j for j in todo if best[j][1] < 0.5 * ga], np.int64)
                for j, i in enumerate(idx):
                    matrix, count = best[j]
                    if matrix is None:
                        continue
                    point = apply_affine(matrix, self.anchor_points[i][None])[0]
                    # a far jump from the chained estimate needs a clear majority of
                    # the anchor's neighbourhood (the chained prior may have followed
                    # an occluder; a weak anchor may be a wrong lock)
                    if mode[i] == 1 and count < 0.5 * ga and \
                            np.linalg.norm(point - new_points[i]) > self.anchor_max_jump:
                        continue
                    new_points[i] = point
                    new_transforms[i] = matrix
                    reliability[i] = 1.0
                    mode[i] = 2
                    if count < self.rekey_fraction * ga:
                        rekey.append(i)
                for j, i in enumerate(idx):
                    if mode[i] == 1 and best[j][1] < self.rekey_fraction * ga:
                        rekey.append(i)
        self.points, self.transforms = new_points, new_transforms
        self.reliability, self.mode = reliability, mode
        self.prev_gray = gray
        if rekey:
            self._rekey(np.array(sorted(set(rekey))), gray)
        self._drop_unused_anchors()
        return self.original_points(), reliability.copy()

    def _rekey(self, indices: np.ndarray, gray: np.ndarray) -> None:
        """Make the current frame the anchor of ``indices`` (keyframe update)."""
        self.anchor_ids[indices] = self._anchor_slot(gray)
        self.anchor_points[indices] = self.points[indices]
        self.transforms[indices] = np.array([[1.0, 0, 0], [0, 1.0, 0]])

    def original_points(self) -> np.ndarray:
        """Current points (K, 2) in original pixels."""
        return (self.points / self.scale).astype(np.float32)

    def _drop_unused_anchors(self) -> None:
        used = set(self.anchor_ids.tolist())
        for a in range(len(self.anchor_frames)):
            if a not in used:
                self.anchor_frames[a] = None
