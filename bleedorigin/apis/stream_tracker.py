"""Streaming point-tracking predictor: the online state and the refresh policy.

For a stateless tracker model (``BleedTrackOn``: the online step on an explicit
``TrackState``), :class:`StreamTracker` owns the state of the current video, the
resize-to-model call and the query initialisation, and asks the
:class:`~bleedorigin.apis.refresh_policy.RefreshPolicy` it was given after every step
whether to refresh the memory (section 6.3). The model is never modified: its
``refresh_interval`` only sets its own offline evaluation
(``stream_loop.track_online``, the same per-frame calls). Trackers that keep their own
stream (the classical baselines) are driven through their ``init``/``step``; the policy
then calls their ``refresh`` when they have one.
"""
import time
from typing import Optional, Union

import numpy as np

from .protocols import TRACK_STEP_MEMBERS, StepOutput, missing_members
from .refresh_policy import RefreshPolicy, build_refresh_policy


def default_refresh_policy(model) -> RefreshPolicy:
    """The policy a tracker config asks for: every ``model.refresh_interval`` frames
    (read, never written), none without one."""
    return build_refresh_policy(int(getattr(model, 'refresh_interval', 0) or 0))


class StreamTracker:
    """Online tracker of one stream at a time.

    Implements :class:`~bleedorigin.apis.protocols.StreamingTracker`.

    Args:
        model: A stateless tracker with the online step (``BleedTrackOn``) or a tracker
            that keeps its own stream (``init``/``step``; the classical baselines).
        refresh_policy: Memory refresh, see
            :func:`~bleedorigin.apis.refresh_policy.build_refresh_policy`. ``None``
            never refreshes; ``'model'`` takes :func:`default_refresh_policy`.

    Attributes:
        refreshed (bool): Whether the last :meth:`step` refreshed the memory.
        refresh_ms (float): Time of that refresh (0 without one).
        refreshes (int): Refreshes since :meth:`init`.
    """

    def __init__(self, model, refresh_policy: Union[None, str, int, dict,
                                                    RefreshPolicy] = None) -> None:
        self.model = model
        self.stateless = not missing_members(model, TRACK_STEP_MEMBERS)
        if not self.stateless:
            missing = missing_members(model, ('init', 'step'))
            if missing:
                raise TypeError(f'StreamTracker: {type(model).__name__} has neither the online '
                                f'step ({", ".join(TRACK_STEP_MEMBERS)}) nor init/step')
        if refresh_policy == 'model':
            refresh_policy = default_refresh_policy(model)
        self.refresh_policy = build_refresh_policy(refresh_policy)
        self.state = None
        self.reset()

    def reset(self) -> None:
        """Forget the current video."""
        self.state = None
        self.frames_since_refresh = 0
        self.refreshes = 0
        self.refreshed = False
        self.refresh_ms = 0.0
        self.refresh_policy.reset()
        if not self.stateless and callable(getattr(self.model, 'reset_stream', None)):
            self.model.reset_stream()

    def init(self, frame: np.ndarray, points) -> None:
        """Start tracking (K, 2) original-pixel ``points`` from ``frame``."""
        self.reset()
        if self.stateless:
            self.state = self.model.start_state(frame, self.model.frame_input(frame), points)
        else:
            self.model.init(frame, points)
            self.state = self.model

    def add_points(self, frame: np.ndarray, points) -> None:
        """Add queries on the current frame (the one last passed to init/step)."""
        self._require_state()
        if self.stateless:
            self.model.extend_state(self.state, frame, self.model.frame_input(frame), points)
        else:
            self.model.add_points(frame, points)

    def step(self, frame: np.ndarray) -> StepOutput:
        """Track into the next frame, then refresh if the policy says so.

        Returns:
            tuple: points (K, 2) float32 original px, visibility (K,) bool,
            confidence (K,) float32.
        """
        self._require_state()
        if self.stateless:
            points, visibility, confidence = self.model.advance_state(
                self.state, frame, self.model.frame_input(frame))
        else:
            points, visibility, confidence = self.model.step(frame)
        self.frames_since_refresh += 1
        self.refreshed, self.refresh_ms = False, 0.0
        if self.refresh_policy.should_refresh(self.frames_since_refresh,
                                              np.asarray(confidence, np.float32).reshape(-1),
                                              np.asarray(visibility, bool).reshape(-1)):
            start = time.perf_counter()
            self.refresh()
            self.refresh_ms = (time.perf_counter() - start) * 1e3
            self.refreshed = True
        return points, visibility, confidence

    def refresh(self) -> None:
        """Re-anchor the memory on the current prediction (a no-op for a tracker
        without memory)."""
        self._require_state()
        if self.stateless:
            self.model.refresh_state(self.state)
        elif callable(getattr(self.model, 'refresh', None)):
            self.model.refresh()
        self.frames_since_refresh = 0
        self.refreshes += 1

    def reset_stream(self) -> None:
        """Same as :meth:`reset`."""
        self.reset()

    @property
    def input_size(self) -> Optional[tuple]:
        return getattr(self.model, 'input_size', None)

    def _require_state(self) -> None:
        if self.state is None:
            raise RuntimeError('call StreamTracker.init(frame, points) before '
                               'step/add_points/refresh')

    def __repr__(self) -> str:
        return (f'StreamTracker({type(self.model).__name__}, '
                f'refresh_policy={self.refresh_policy!r})')


def as_stream_tracker(tracker, refresh_policy: Union[None, str, int, dict,
                                                     RefreshPolicy] = None,
                      origin: str = 'tracker') -> StreamTracker:
    """The predictor the pipeline drives for ``tracker`` with ``refresh_policy``.

    A :class:`StreamTracker` is returned as it is unless a policy is given here; then a
    new predictor on the same model takes it (the given one is left untouched).

    Raises:
        TypeError: naming ``origin`` when ``tracker`` can be driven neither way.
    """
    if isinstance(tracker, StreamTracker):
        if refresh_policy is None:
            return tracker
        tracker = tracker.model
    try:
        return StreamTracker(tracker, refresh_policy)
    except TypeError as err:
        raise TypeError(f'{origin}: {err}') from None
