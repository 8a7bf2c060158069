"""What the streaming pipeline needs from a detector and a tracker (typed protocols).

``BleedOriginNet``, the benchmark and the tools talk to predictors through these
protocols only. Two kinds of model fit each role:

- a stateless network that exposes an online step on an explicit state
  (:class:`OnsetStepModel`: ``BleedOriginDetector``; :class:`TrackStepModel`:
  ``BleedTrackOn``) is wrapped by :class:`~bleedorigin.apis.StreamDetector` /
  :class:`~bleedorigin.apis.StreamTracker`, which own the state;
- an object that already keeps its own stream (:class:`StreamingDetector`:
  ``YOLOBleedingDetector`` of ``projects/yolo_baselines``; :class:`StreamingTracker`:
  the classical trackers) is used as it is (a tracker still goes through
  ``StreamTracker`` for the refresh policy).

``runtime_checkable`` checks only that the methods exist; :func:`missing_members` names
the ones that do not, for error messages.
"""
from typing import Iterable, List, Optional, Protocol, Tuple, runtime_checkable

import numpy as np

StepOutput = Tuple[np.ndarray, np.ndarray, np.ndarray]


@runtime_checkable
class StreamingDetector(Protocol):
    """An onset + source detector fed one frame at a time."""

    def reset_stream(self) -> None:
        """Forget every frame seen (start of a new video)."""

    def stream_step(self, frame: np.ndarray) -> dict:
        """Consume one (H, W, 3) uint8 RGB frame; returns at least ``frame_index``,
        ``onset_frame`` (None until the alarm) and ``confidence``."""

    def locate_source(self, frame: np.ndarray) -> Tuple[float, float, float]:
        """(x, y, score) of the bleeding source in ``frame``, its pixels."""


@runtime_checkable
class StreamingTracker(Protocol):
    """A point tracker fed one frame at a time (``refresh`` may be a no-op)."""

    def init(self, frame: np.ndarray, points) -> None:
        """Start tracking (K, 2) original-pixel ``points`` from ``frame``."""

    def step(self, frame: np.ndarray) -> StepOutput:
        """Points (K, 2), visibility (K,) and confidence (K,) in the next frame."""

    def add_points(self, frame: np.ndarray, points) -> None:
        """Add queries on the current frame."""

    def refresh(self) -> None:
        """Re-anchor the tracker's memory on its current prediction."""


@runtime_checkable
class OnsetStepModel(Protocol):
    """A stateless onset detector: the online step on an explicit
    :class:`~bleedorigin.models.utils.OnsetStreamState` (see
    :func:`~bleedorigin.models.utils.onset_stream_update`)."""

    window_size: int
    reference_offset: int

    def onset_inputs(self, frame: np.ndarray) -> tuple:
        """The one preprocessing step of a streamed frame."""

    def frame_feature(self, current: tuple, previous: tuple, memory) -> tuple:
        """(D,) feature and MDCFM logits of one frame."""

    def window_prediction(self, window):
        """theta (B,) and S_conf (B,) of (B, N, D) windows (B = 1, or one per flip view)."""

    def locate(self, frame: np.ndarray, reference: Optional[np.ndarray] = None,
               reference_small: Optional[np.ndarray] = None) -> Tuple[float, float, float]:
        """(x, y, score) given the frame and an explicit reference."""


@runtime_checkable
class TrackStepModel(Protocol):
    """A stateless tracker: the online step on an explicit ``TrackState``."""

    def frame_input(self, frame: np.ndarray) -> tuple:
        """Resize-to-model: (input tensor, scale)."""

    def start_state(self, frame: np.ndarray, inputs: tuple, points):
        """A new state tracking ``points`` from ``frame``."""

    def advance_state(self, state, frame: np.ndarray, inputs: tuple) -> StepOutput:
        """Track into the next frame (never refreshes by itself)."""

    def extend_state(self, state, frame: np.ndarray, inputs: tuple, points) -> None:
        """Add queries on the current frame."""

    def refresh_state(self, state) -> None:
        """Re-anchor the memory of ``state`` on its current prediction."""


DETECTOR_MEMBERS = ('reset_stream', 'stream_step', 'locate_source')
TRACKER_MEMBERS = ('init', 'step', 'add_points', 'refresh')
ONSET_STEP_MEMBERS = ('onset_inputs', 'frame_feature', 'window_prediction', 'locate')
TRACK_STEP_MEMBERS = ('frame_input', 'start_state', 'advance_state', 'extend_state',
                      'refresh_state')


def missing_members(obj: object, members: Iterable[str]) -> List[str]:
    """Names of ``members`` that ``obj`` lacks or that are not callable."""
    return [name for name in members if not callable(getattr(obj, name, None))]
