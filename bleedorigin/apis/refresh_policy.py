"""When to refresh the tracker's memory during long-clip tracking (section 6.3).

The paper clears the tracker memory every N frames (N in {30, 60, 90}, 60 is
best) and re-initialises it from the current prediction. Its future work
asks for a content-aware rule; :class:`ConfidenceAdaptiveRefresh` refreshes
when the tracker's confidence recovers after a drop (for example once water
flushing ends), so the memory is re-grounded on a clean view instead of the
frames seen during the disturbance.

A policy only decides; :class:`~bleedorigin.apis.StreamTracker` (which
:class:`~bleedorigin.apis.BleedOriginNet` builds with the policy it is given) asks it
after every step and refreshes the memory of its state; the model is never modified.
"""
from typing import Dict, Optional, Union

import numpy as np

from bleedorigin.constants import REFRESH_INTERVAL


class RefreshPolicy:
    """Base class: never refresh (the original Track-On behaviour)."""

    name = 'none'

    def reset(self) -> None:
        """Forget everything; called when tracking (re)starts."""

    def should_refresh(self, frames_since_refresh: int, confidence: np.ndarray,
                       visibility: np.ndarray) -> bool:
        """Decide after a tracker step.

        Args:
            frames_since_refresh (int): Tracker steps since the last
                initialisation or refresh, this one included.
            confidence (np.ndarray): (K,) tracker confidence of this frame.
            visibility (np.ndarray): (K,) bool visibility of this frame.

        Returns:
            bool: Whether to refresh the memory now.
        """
        return False

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


class FixedIntervalRefresh(RefreshPolicy):
    """Refresh every ``interval`` tracked frames (paper: N = 60 by default).

    Args:
        interval (int): N, frames between refreshes. Defaults to 60.
    """

    def __init__(self, interval: int = REFRESH_INTERVAL) -> None:
        if int(interval) <= 0:
            raise ValueError(f'FixedIntervalRefresh: interval must be > 0, got {interval}')
        self.interval = int(interval)
        self.name = f'fixed{self.interval}'

    def should_refresh(self, frames_since_refresh, confidence, visibility) -> bool:
        return frames_since_refresh >= self.interval

    def __repr__(self) -> str:
        return f'FixedIntervalRefresh(interval={self.interval})'


class ConfidenceAdaptiveRefresh(RefreshPolicy):
    """Refresh once the confidence recovers after a drop.

    The mean confidence over the sources is smoothed with an exponential
    moving average. When it falls below ``drop_threshold`` the policy is
    armed; when it then stays above ``recover_threshold`` for
    ``recover_frames`` consecutive frames, the memory is refreshed (the view
    is clean again, so the current prediction is a good new reference and
    the memory no longer holds the disturbed frames). ``max_interval``
    (0 disables) adds a fixed fallback for clips without any drop.

    Args:
        drop_threshold (float): Smoothed confidence that arms the policy.
            Defaults to 0.5.
        recover_threshold (float): Smoothed confidence that counts as
            recovered. Defaults to 0.65.
        recover_frames (int): Consecutive recovered frames needed. Defaults
            to 3.
        min_interval (int): Never refresh sooner than this after the last
            refresh. Defaults to 10.
        max_interval (int): Fallback fixed interval; 0 disables. Defaults to 90.
        momentum (float): EMA weight of the previous value. Defaults to 0.5.
    """

    name = 'adaptive'

    def __init__(self, drop_threshold: float = 0.5, recover_threshold: float = 0.65,
                 recover_frames: int = 3, min_interval: int = 10, max_interval: int = 90,
                 momentum: float = 0.5) -> None:
        if not 0.0 <= drop_threshold < recover_threshold <= 1.0:
            raise ValueError('ConfidenceAdaptiveRefresh: need 0 <= drop_threshold < '
                             f'recover_threshold <= 1, got {drop_threshold}, {recover_threshold}')
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f'ConfidenceAdaptiveRefresh: momentum must be in [0, 1), '
                             f'got {momentum}')
        self.drop_threshold = float(drop_threshold)
        self.recover_threshold = float(recover_threshold)
        self.recover_frames = int(recover_frames)
        self.min_interval = int(min_interval)
        self.max_interval = int(max_interval)
        self.momentum = float(momentum)
        self.reset()

    def reset(self) -> None:
        self.smoothed: Optional[float] = None
        self.armed = False
        self.recovered_run = 0

    def should_refresh(self, frames_since_refresh, confidence, visibility) -> bool:
        confidence = np.asarray(confidence, np.float32).reshape(-1)
        current = float(confidence.mean()) if confidence.size else 0.0
        if self.smoothed is None:
            self.smoothed = current
        else:
            self.smoothed = self.momentum * self.smoothed + (1 - self.momentum) * current
        if self.smoothed < self.drop_threshold:
            self.armed = True
            self.recovered_run = 0
        elif self.armed and self.smoothed >= self.recover_threshold:
            self.recovered_run += 1
        else:
            self.recovered_run = 0
        if frames_since_refresh < self.min_interval:
            return False
        if self.armed and self.recovered_run >= self.recover_frames:
            self.armed = False
            self.recovered_run = 0
            return True
        return self.max_interval > 0 and frames_since_refresh >= self.max_interval

    def __repr__(self) -> str:
        return (f'ConfidenceAdaptiveRefresh(drop={self.drop_threshold}, '
                f'recover={self.recover_threshold}, max_interval={self.max_interval})')


_POLICIES = dict(
    RefreshPolicy=RefreshPolicy,
    FixedIntervalRefresh=FixedIntervalRefresh,
    ConfidenceAdaptiveRefresh=ConfidenceAdaptiveRefresh,
)


def build_refresh_policy(cfg: Union[None, str, int, Dict, RefreshPolicy]) -> RefreshPolicy:
    """Build a policy from a short name, an interval or a config dict.

    Args:
        cfg: ``None``/``'none'``/``0`` (never), an int N or ``'fixed<N>'``
            (every N frames), ``'adaptive'``, a dict with ``type`` (one of
            ``RefreshPolicy``, ``FixedIntervalRefresh``,
            ``ConfidenceAdaptiveRefresh``) and its arguments, or a policy.

    Returns:
        RefreshPolicy: The policy.
    """
    if isinstance(cfg, RefreshPolicy):
        return cfg
    if cfg is None or cfg == 0 or cfg == 'none':
        return RefreshPolicy()
    if isinstance(cfg, int):
        return FixedIntervalRefresh(cfg)
    if isinstance(cfg, str):
        if cfg == 'adaptive':
            return ConfidenceAdaptiveRefresh()
        if cfg.startswith('fixed') and cfg[5:].isdigit():
            return FixedIntervalRefresh(int(cfg[5:]))
        raise ValueError(f'unknown refresh policy {cfg!r}: use none, fixed<N> (e.g. fixed60), '
                         'adaptive or a dict with a type')
    if isinstance(cfg, dict):
        args = dict(cfg)
        kind = args.pop('type', None)
        if kind not in _POLICIES:
            raise ValueError(f'refresh policy type {kind!r} is not one of {sorted(_POLICIES)}')
        return _POLICIES[kind](**args)
    raise TypeError(f'cannot build a refresh policy from {type(cfg).__name__}')
