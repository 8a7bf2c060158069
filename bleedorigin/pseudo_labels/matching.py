"""Stage 1 of the pseudo-label pipeline (paper eq. 6): feature matching near the source.

XFeat is not available here, so the matcher is OpenCV SIFT (ORB/AKAZE
selectable) with a documented confidence built from Lowe's ratio test:

    confidence = 1 - (d1 / d2) ** 2

where d1, d2 are the descriptor distances of the best and second-best
candidate in the other frame. With the paper's threshold S = 0.7 a match is
kept when d1 / d2 < sqrt(0.3) = 0.548, a strict version of Lowe's 0.8. Matches
must also be mutual nearest neighbours, start inside the radius r of the
annotated source in I_t (eq. 6), and end inside ``end_radius`` of the source
annotated in I_{t+30} when that frame shows it.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np


@dataclass
class MatchResult:
    """Kept matches between I_t and I_{t+30}.

    Args:
        start (np.ndarray): (N, 2) points in I_t, pixels (corner origin).
        end (np.ndarray): (N, 2) matched points in I_{t+30}.
        confidence (np.ndarray): (N,) ratio-test confidence in [0, 1].
    """

    start: np.ndarray
    end: np.ndarray
    confidence: np.ndarray

    def __len__(self) -> int:
        return len(self.confidence)


def ratio_confidence(d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Confidence ``1 - (d1 / d2)^2`` of a match from its two best distances."""
    d1 = np.asarray(d1, np.float64)
    d2 = np.asarray(d2, np.float64)
    ratio = np.where(d2 > 0, d1 / np.maximum(d2, 1e-12), 1.0)
    return np.clip(1.0 - ratio ** 2, 0.0, 1.0)


def _detector(name: str):
    if name == 'sift':
        return cv2.SIFT_create(nfeatures=4000, contrastThreshold=0.01), cv2.NORM_L2
    if name == 'orb':
        return cv2.ORB_create(nfeatures=4000, fastThreshold=5), cv2.NORM_HAMMING
    if name == 'akaze':
        return cv2.AKAZE_create(threshold=1e-4), cv2.NORM_HAMMING
    raise ValueError(f'matcher must be sift, orb or akaze, got {name!r}')


def match_near_source(frame_t: np.ndarray, frame_end: np.ndarray, source_t: Tuple[float, float],
                      source_end: Optional[Tuple[float, float]] = None, radius: float = 50.0,
                      min_confidence: float = 0.7, end_radius: Optional[float] = 100.0,
                      method: str = 'sift') -> MatchResult:
    """Match keypoints within ``radius`` of the source in I_t to I_{t+30} (eq. 6).

    Args:
        frame_t (np.ndarray): (H, W, 3) uint8 RGB, frame I_t.
        frame_end (np.ndarray): (H, W, 3) uint8 RGB, frame I_{t+30}.
        source_t (tuple): Annotated source (x, y) in I_t.
        source_end (tuple, optional): Annotated source in I_{t+30} (None if
            invisible); used with ``end_radius`` to reject far-off matches.
        radius (float): r of eq. 6 in pixels. Defaults to 50.
        min_confidence (float): S of eq. 6; kept matches have confidence > S.
        end_radius (float, optional): Bound on the end point's distance to
            ``source_end``; None disables it.
        method (str): ``sift``, ``orb`` or ``akaze``.

    Returns:
        MatchResult: kept matches, possibly empty.
    """
    detector, norm = _detector(method)
    gray_t = cv2.cvtColor(frame_t, cv2.COLOR_RGB2GRAY)
    gray_e = cv2.cvtColor(frame_end, cv2.COLOR_RGB2GRAY)
    mask = np.zeros(gray_t.shape, np.uint8)
    # cv2 pixel centres are integers, ours at +0.5
    cv2.circle(mask, (int(round(source_t[0] - 0.5)), int(round(source_t[1] - 0.5))),
               int(radius) + 2, 255, -1)
    kp_t, des_t = detector.detectAndCompute(gray_t, mask)
    kp_e, des_e = detector.detectAndCompute(gray_e, None)
    empty = MatchResult(np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32),
                        np.zeros(0, np.float32))
    if des_t is None or des_e is None or len(kp_t) == 0 or len(kp_e) < 2:
        return empty
    matcher = cv2.BFMatcher(norm)
    forward = matcher.knnMatch(des_t, des_e, k=2)
    backward = {m[0].queryIdx: m[0].trainIdx for m in matcher.knnMatch(des_e, des_t, k=1) if m}
    start, end, conf = [], [], []
    for pair in forward:
        if len(pair) < 2:
            continue
        best, second = pair
        if backward.get(best.trainIdx) != best.queryIdx:  # mutual nearest neighbours only
            continue
        c = float(ratio_confidence(best.distance, second.distance))
        p = np.asarray(kp_t[best.queryIdx].pt, np.float64) + 0.5
        q = np.asarray(kp_e[best.trainIdx].pt, np.float64) + 0.5
        start.append(p)
        end.append(q)
        conf.append(c)
    if not conf:
        return empty
    start_arr, end_arr, conf_arr = np.array(start), np.array(end), np.array(conf)
    keep = select_matches(start_arr, end_arr, conf_arr, source_t, source_end, radius,
                          min_confidence, end_radius)
    return MatchResult(start_arr[keep].astype(np.float32), end_arr[keep].astype(np.float32),
                       conf_arr[keep].astype(np.float32))


def select_matches(start: np.ndarray, end: np.ndarray, confidence: np.ndarray,
                   source_t, source_end=None, radius: float = 50.0,
                   min_confidence: float = 0.7, end_radius: Optional[float] = 100.0
                   ) -> np.ndarray:
    """Boolean mask of matches satisfying eq. 6 (pure function, no images).

    Args:
        start, end (np.ndarray): (N, 2) match end points in I_t and I_{t+30}.
        confidence (np.ndarray): (N,).
        source_t, source_end: annotated sources (x, y); ``source_end`` may be None.
        radius, min_confidence, end_radius: see :func:`match_near_source`.

    Returns:
        np.ndarray: (N,) bool.
    """
    start = np.asarray(start, np.float64).reshape(-1, 2)
    end = np.asarray(end, np.float64).reshape(-1, 2)
    keep = np.linalg.norm(start - np.asarray(source_t, np.float64), axis=1) <= radius
    keep &= np.asarray(confidence) > min_confidence
    if end_radius is not None and source_end is not None:
        keep &= np.linalg.norm(end - np.asarray(source_end, np.float64), axis=1) <= end_radius
    return keep
