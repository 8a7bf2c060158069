"""Pseudo-label generation for one clip: matching -> tracking -> Kalman (eq. 6-7)."""
import os
import os.path as osp
from dataclasses import asdict, dataclass
from typing import List, Optional

import cv2
import numpy as np
import torch

from ..datasets.pseudo_label_io import (
    PSEUDO_DIR,
    VERSION,
    check_pseudo_label_file,
    pseudo_label_path,
)
from ..models.trackers.stream_loop import track_online
from .kalman import smooth_trajectory
from .matching import match_near_source


@dataclass
class PseudoLabelParams:
    """Constants of eq. 6-7 (paper defaults).

    Args:
        radius (float): r, pixels around the annotated source. Defaults to 50.
        min_confidence (float): S, matches kept above it. Defaults to 0.7.
        span (int): Frames between the annotated frames I_t and I_{t+span}. Defaults to 30.
        end_radius (float): Bound on the matched end point's distance to the
            source annotated at t + span (None disables).
        matcher (str): ``sift``, ``orb`` or ``akaze``.
        max_points (int): Most confident matches kept per source.
        track_noise, end_noise, process_noise (float): Kalman noise stds (px).
        refine (bool): Track with the tracker's coarse-to-fine refiner (slower).
    """

    radius: float = 50.0
    min_confidence: float = 0.7
    span: int = 30
    end_radius: Optional[float] = 100.0
    matcher: str = 'sift'
    max_points: int = 64
    track_noise: float = 4.0
    end_noise: float = 1.0
    process_noise: float = 1.0
    refine: bool = False


def clip_segments(clip, span: int) -> List[int]:
    """Start frames t >= onset with annotated t (sources shown) and t + span labelled."""
    if clip.onset_frame is None:
        return []
    return [t for t in clip.annotated_frames
            if t >= clip.onset_frame and clip.sources_at(t) and t + span < clip.num_frames
            and clip.sources_at(t + span) is not None]


@torch.no_grad()
def track_points(tracker, frames: np.ndarray, points: np.ndarray,
                 refine: bool = False) -> np.ndarray:
    """Stage 2: track (N, 2) points from frames[0] through all frames.

    Args:
        tracker (BleedTrackOn): Pretrained tracker (eval mode).
        refine (bool): Use the tracker's coarse-to-fine ``refiner`` (its online step on
            the original frames): more precise, but about 10x slower with the ~36
            points of a segment, so off by default (``--refine`` of the tool).
        frames (np.ndarray): (T, H, W, 3) uint8 RGB original frames.
        points (np.ndarray): (N, 2) original pixels at frames[0].

    Returns:
        np.ndarray: (T, N, 2) original pixels.
    """
    if refine and getattr(tracker, 'refiner', None) is not None:  # coarse to fine, online
        return track_online(tracker, frames, points, tracker.refresh_interval)[0]
    in_w, in_h = tracker.input_size
    h, w = frames.shape[1:3]
    scale = np.array([in_w / w, in_h / h], np.float32)
    small = np.stack([cv2.resize(f, (in_w, in_h), interpolation=cv2.INTER_AREA) for f in frames])
    video = torch.from_numpy(small).permute(0, 3, 1, 2)[None]
    query = torch.from_numpy(points.astype(np.float32) * scale)[None]
    out = tracker.track_clip(video, query, refresh_interval=0)
    return out['points'][0].cpu().numpy() / scale


def generate_segment(tracker, clip, frames: np.ndarray, start: int,
                     params: PseudoLabelParams) -> dict:
    """Pseudo-label document for the segment [start, start + span] of ``clip``.

    Args:
        frames (np.ndarray): (span + 1, H, W, 3) the segment's frames.
    """
    end = start + params.span
    end_sources = {s.group_id: (s.x, s.y) for s in clip.sources_at(end) or []}
    sources = []
    for src in clip.sources_at(start):
        matches = match_near_source(
            frames[0], frames[-1], (src.x, src.y), end_sources.get(src.group_id),
            radius=params.radius, min_confidence=params.min_confidence,
            end_radius=params.end_radius, method=params.matcher)
        order = np.argsort(-matches.confidence)[:params.max_points]
        points = []
        if len(order):
            tracks = track_points(tracker, frames, matches.start[order],
                                  refine=params.refine)  # (T, N, 2)
            for j, m in enumerate(order):
                smoothed = smooth_trajectory(
                    tracks[:, j], matches.end[m], params.track_noise, params.end_noise,
                    params.process_noise)
                smoothed[0] = matches.start[m]
                points.append(dict(confidence=round(float(matches.confidence[m]), 4),
                                   match_end=[round(float(v), 2) for v in matches.end[m]],
                                   trajectory=np.round(smoothed, 2).tolist()))
        sources.append(dict(group_id=src.group_id, points=points))
    return dict(version=VERSION, start_frame=start, end_frame=end, params=asdict(params),
                sources=sources)


def generate_clip(tracker, clip, params: PseudoLabelParams, overwrite: bool = False) -> dict:
    """Write the pseudo labels of every segment of ``clip``; skip segments already written.

    A file already present is trusted only after it has been validated
    (:func:`check_pseudo_label_file`: well-formed, for this segment and span);
    an invalid one (half-written by another program, edited, a symlink) is
    regenerated and counted in ``corrupt``.

    Returns:
        dict: ``segments`` written, ``skipped`` (already present and valid),
        ``corrupt`` (present but invalid, regenerated; included in
        ``segments``), ``points`` (pseudo points in the written segments).
    """
    from mmengine.logging import print_log

    from bleedorigin.utils.io import write_json_atomic

    stats = dict(segments=0, skipped=0, corrupt=0, points=0)
    todo = []
    for start in clip_segments(clip, params.span):
        problem = 'missing' if overwrite else check_pseudo_label_file(
            clip, start, start + params.span)
        if not problem:
            stats['skipped'] += 1
            continue
        if problem != 'missing':
            stats['corrupt'] += 1
            print_log(f'{problem}; regenerating it', logger='current', level=30)
        todo.append(start)
    if not todo:
        return stats
    os.makedirs(osp.join(clip.clip_dir, PSEUDO_DIR), exist_ok=True)
    for start in todo:
        frames = clip.load_frames(range(start, start + params.span + 1))
        doc = generate_segment(tracker, clip, frames, start, params)
        path = pseudo_label_path(clip.clip_dir, start)
        if osp.islink(path):
            os.remove(path)  # replace the link itself, never write through it
        write_json_atomic(path, doc)
        stats['segments'] += 1
        stats['points'] += sum(len(s['points']) for s in doc['sources'])
    return stats
