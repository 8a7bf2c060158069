"""Per-frame output of the streaming pipeline (Algorithm 1)."""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

NON_BLEEDING = 'non_bleeding'
BLEEDING = 'bleeding'

# What happened to the input frame before the models saw it.
FRAME_OK = 'ok'
FRAME_RESIZED = 'resized'
FRAME_CONVERTED = 'converted'
FRAME_BLACK = 'black'
FRAME_DROPPED = 'dropped'
FRAME_MODEL_ERROR = 'model_error'


def _empty_points() -> np.ndarray:
    return np.zeros((0, 2), np.float32)


@dataclass
class FrameResult:
    """What the pipeline knows after one frame of the stream.

    Note:
        K: number of tracked bleeding sources (0 before the onset).

    Attributes:
        frame_index (int): 0-based index of the frame in the input stream,
            counting dropped frames, so it matches the video's time line.
        state (str): ``'non_bleeding'`` or ``'bleeding'`` (the label shown
            top-left in Figure 14).
        onset_frame (int | None): Initial bleeding frame driving the
            pipeline: the detected one in deployment mode, the injected
            ground truth in evaluation mode. ``None`` until known.
        detected_onset_frame (int | None): Onset predicted by the detector
            (eq. 2), in both modes.
        alert_frame (int | None): Stream index at which the pipeline switched
            to ``'bleeding'`` (the detector needs frames after the onset
            before it can fire, so ``alert_frame >= onset_frame``).
        onset_confidence (float): Latest S_conf of the onset detector.
        source_point (np.ndarray | None): (2,) bleeding source located in the
            onset frame by the detector's point branch, px.
        source_score (float | None): Score of ``source_point``.
        points (np.ndarray): (K, 2) float32 tracked source points in this
            frame, px of the stream's frame size.
        visibility (np.ndarray): (K,) bool.
        confidence (np.ndarray): (K,) float tracker confidence.
        status (str): ``ok``, ``resized``, ``converted``, ``black``,
            ``dropped`` or ``model_error``; a frame that is not ``ok``/
            ``resized``/``converted`` was not given to the models and the
            result repeats the last known state.
        refreshed (bool): Whether the tracker memory was refreshed here.
        latency_ms (dict): Stage name -> milliseconds spent on this frame.
    """
    frame_index: int
    state: str = NON_BLEEDING
    onset_frame: Optional[int] = None
    detected_onset_frame: Optional[int] = None
    alert_frame: Optional[int] = None
    onset_confidence: float = 0.0
    source_point: Optional[np.ndarray] = None
    source_score: Optional[float] = None
    points: np.ndarray = field(default_factory=_empty_points)
    visibility: np.ndarray = field(default_factory=lambda: np.zeros((0, ), bool))
    confidence: np.ndarray = field(default_factory=lambda: np.zeros((0, ), np.float32))
    status: str = FRAME_OK
    refreshed: bool = False
    latency_ms: Dict[str, float] = field(default_factory=dict)

    @property
    def is_bleeding(self) -> bool:
        return self.state == BLEEDING

    def to_dict(self) -> dict:
        """JSON-serialisable record (one per frame in ``tools/demo.py --json``)."""

        def _floats(values) -> List[float]:
            return [round(float(v), 3) for v in np.asarray(values).reshape(-1)]

        return dict(
            frame_index=int(self.frame_index),
            state=self.state,
            onset_frame=self.onset_frame,
            detected_onset_frame=self.detected_onset_frame,
            alert_frame=self.alert_frame,
            onset_confidence=round(float(self.onset_confidence), 4),
            source_point=None if self.source_point is None else _floats(self.source_point),
            source_score=None if self.source_score is None else round(float(self.source_score), 4),
            points=[_floats(p) for p in np.asarray(self.points).reshape(-1, 2)],
            visibility=[bool(v) for v in np.asarray(self.visibility).reshape(-1)],
            confidence=_floats(self.confidence),
            status=self.status,
            refreshed=bool(self.refreshed),
            latency_ms={k: round(float(v), 3) for k, v in self.latency_ms.items()},
        )
