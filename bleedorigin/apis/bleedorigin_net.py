"""BleedOrigin-Net: streaming onset detection -> source localisation -> tracking.

Algorithm 1 of the paper (section 4.3) as an online API that consumes one
frame at a time:

- **deployment** mode: the onset detector (eq. 2) watches the stream; once a
  window fires, the bleeding source is located in the predicted onset frame
  (which lies up to one window in the past, so recent frames are kept in a
  bounded buffer), the tracker is initialised there and caught up to the
  current frame, and from then on only the tracker runs.
- **evaluation** mode: the ground-truth onset frame and source point(s) are
  injected (:meth:`BleedOriginNet.set_ground_truth`); tracking starts from them
  at the true onset, the source branch is still run on the true onset frame
  and the detector's own prediction is reported alongside, so all three
  stages are assessed independently as in the paper.

State is bounded whatever the stream length: a ring buffer of recent frames
(only before the alert), scalar counters, and the bounded state of the two
predictors (:class:`~bleedorigin.apis.StreamDetector`,
:class:`~bleedorigin.apis.StreamTracker`) that wrap the models. The models given
are never modified.
"""
import time
import traceback
from collections import deque
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import print_log
from torch import nn

from ..structures.frame_result import (
    BLEEDING,
    FRAME_MODEL_ERROR,
    FRAME_OK,
    NON_BLEEDING,
    FrameResult,
)
from .frame_guard import FrameGuard
from .model_builder import build_stream_model
from .protocols import StreamingDetector, StreamingTracker
from .refresh_policy import RefreshPolicy
from .stream_detector import as_stream_detector
from .stream_tracker import as_stream_tracker

MODES = ('deployment', 'evaluation')
EVALUATION_DETECTOR = ('until_fired', 'until_onset', 'off')


class BleedOriginNet:
    """Streaming BleedOrigin pipeline (Algorithm 1).

    Note:
        K: number of tracked bleeding sources (1 in deployment mode).

    Args:
        detector: A stateless detector model (``BleedOriginDetector``, wrapped in a
            :class:`~bleedorigin.apis.StreamDetector`), a ``StreamDetector``, or
            any :class:`~bleedorigin.apis.protocols.StreamingDetector` (the YOLO
            baseline).
        tracker: A stateless tracker model (``BleedTrackOn``), a classical
            tracker or a :class:`~bleedorigin.apis.StreamTracker`; driven through a
            ``StreamTracker`` that holds ``refresh_policy``.
        mode (str): ``'deployment'`` or ``'evaluation'``. Defaults to
            ``'deployment'``.
        refresh_policy: Tracker memory refresh (section 6.3), see
            :func:`build_refresh_policy`, passed to the ``StreamTracker``.
            Defaults to ``'fixed60'``, the paper's best setting.
        frame_size (tuple[int, int] | None): (W, H) of the stream; frames of
            another size are resized to it. ``None`` takes the first frame's.
        black_threshold (float): Mean intensity under which a frame is
            black and skipped. Defaults to 8.0.
        frame_buffer_size (int): Recent frames kept before the alert, so the
            source can be located in the onset frame and the tracker caught up
            from there; raised to the detector's ``window_size`` + 1 if smaller.
            Defaults to 96.
        evaluation_detector (str): Evaluation mode only: run the detector
            ``'until_fired'`` (to report its t_b, default), ``'until_onset'``
            (the deployment workload: detection before the onset, tracking
            after) or ``'off'``.
        strict (bool): Re-raise model errors instead of logging, counting and
            skipping the frame. Defaults to False.
    """

    def __init__(self, detector: nn.Module, tracker: nn.Module, mode: str = 'deployment',
                 refresh_policy: Union[None, str, int, dict, RefreshPolicy] = 'fixed60',
                 frame_size: Optional[Tuple[int, int]] = None, black_threshold: float = 8.0,
                 frame_buffer_size: int = 96, evaluation_detector: str = 'until_fired',
                 strict: bool = False) -> None:
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if evaluation_detector not in EVALUATION_DETECTOR:
            raise ValueError(f'evaluation_detector must be one of {EVALUATION_DETECTOR}, '
                             f'got {evaluation_detector!r}')
        if frame_buffer_size < 2:
            raise ValueError(f'frame_buffer_size must be >= 2, got {frame_buffer_size}')
        self.detector: StreamingDetector = as_stream_detector(detector, 'detector')
        self.tracker: StreamingTracker = as_stream_tracker(
            tracker, 'none' if refresh_policy is None else refresh_policy, 'tracker')
        self.mode = mode
        self.guard = FrameGuard(frame_size=frame_size, black_threshold=black_threshold)
        window = getattr(detector, 'window_size', None)
        # The onset of eq. 2 lies inside the newest window: the buffer must cover it.
        self.frame_buffer_size = max(int(frame_buffer_size),
                                     window + 1 if isinstance(window, int) else 0)
        self.evaluation_detector = evaluation_detector
        self.strict = strict
        self._gt_onset: Optional[int] = None
        self._gt_points: Optional[np.ndarray] = None
        self.reset()

    @classmethod
    def from_config(cls, detect_config, track_config, detect_checkpoint: Optional[str] = 'detect',
                    track_checkpoint: Optional[str] = 'track',
                    device: Union[str, torch.device] = 'cpu', **kwargs) -> 'BleedOriginNet':
        """Build the pipeline from the detect and track configs and checkpoints.

        Args:
            detect_config (str | Config): e.g. ``configs/bleedorigin/detect.py``.
            track_config (str | Config): e.g. ``configs/bleedorigin/track.py``.
            detect_checkpoint (str | None): Detector weights: a file or a
                shipped name (see :mod:`bleedorigin.utils.model_zoo`). Defaults
                to the shipped ``'detect'``; ``None`` means random weights
                (smoke tests only).
            track_checkpoint (str | None): Tracker weights, likewise. Defaults
                to the shipped ``'track'``.
            device: Defaults to ``'cpu'``.
            **kwargs: Arguments of :class:`BleedOriginNet`.
        """
        detector = build_stream_model(detect_config, detect_checkpoint, 'detector', device)
        tracker = build_stream_model(track_config, track_checkpoint, 'tracker', device)
        return cls(detector, tracker, **kwargs)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Start a new stream (keeps mode, policy and injected ground truth)."""
        self.detector.reset_stream()
        self.tracker.reset()
        self.guard.reset()
        self.stream_index = 0
        self.state = NON_BLEEDING
        self.onset_frame: Optional[int] = None
        self.detected_onset_frame: Optional[int] = None
        self.alert_frame: Optional[int] = None
        self.onset_confidence = 0.0
        self.source_point: Optional[np.ndarray] = None
        self.source_score: Optional[float] = None
        self.tracking = False
        self.points = np.zeros((0, 2), np.float32)
        self.visibility = np.zeros((0, ), bool)
        self.confidence = np.zeros((0, ), np.float32)
        self.refreshes = 0
        self.model_errors = 0
        self.detector_frames = 0
        self.tracker_frames = 0
        # (stream index, frame) of recent frames the detector saw; emptied at the alert.
        self._recent: deque = deque(maxlen=self.frame_buffer_size)
        self._detector_to_stream: deque = deque(maxlen=self.frame_buffer_size)
        # the detector's onset while an onset refiner may still move it (finish() takes it)
        self._provisional_onset: Optional[int] = None
        self.onset_at_stream_end = False
        self._stage_ms: Dict[str, float] = {}
        self._stage_frames: Dict[str, int] = {}
        self._busy_s = 0.0
        self._model_frames = 0

    def set_ground_truth(self, onset_frame: Optional[int],
                         points: Optional[Union[Sequence[float], np.ndarray]]) -> None:
        """Inject the true onset frame and source point(s) (evaluation mode).

        Args:
            onset_frame (int | None): Stream index of the initial bleeding
                frame; ``None`` for a clip without bleeding.
            points (array-like | None): (K, 2) or (2,) source point(s) in that
                frame, px.
        """
        if self.mode != 'evaluation':
            raise RuntimeError('set_ground_truth is for mode="evaluation"; deployment mode '
                               'predicts the onset and the source itself')
        if onset_frame is None:
            self._gt_onset, self._gt_points = None, None
            return
        if int(onset_frame) < 0:
            raise ValueError(f'onset_frame must be >= 0, got {onset_frame}')
        pts = np.asarray(points, np.float32).reshape(-1, 2)
        if pts.shape[0] == 0:
            raise ValueError('set_ground_truth needs at least one source point')
        self._gt_onset, self._gt_points = int(onset_frame), pts

    # ------------------------------------------------------------- streaming
    def step(self, frame: Optional[np.ndarray]) -> FrameResult:
        """Consume the next frame of the stream.

        Args:
            frame (np.ndarray | None): (H, W, 3) uint8 RGB. ``None`` (an
                undecodable frame), black, grey or differently sized frames
                are handled by :class:`FrameGuard`; such frames are counted and
                the state is kept.

        Returns:
            FrameResult: State, onset, source and tracked point(s) for this
            frame.
        """
        index = self.stream_index
        self.stream_index += 1
        start = time.perf_counter()
        frame, status = self.guard(frame, index)
        latency = {'guard': (time.perf_counter() - start) * 1e3}
        if frame is None:
            return self._result(index, status, latency, refreshed=False)

        refreshed = False
        try:
            with torch.inference_mode():
                refreshed = self._process(frame, index, latency)
        except Exception:  # a model fault must not end a clinical stream
            self._model_fault(f'frame {index}: model error, frame skipped and state kept')
            status = FRAME_MODEL_ERROR
        total = time.perf_counter() - start
        latency['total'] = total * 1e3
        self._busy_s += total
        self._model_frames += 1
        for stage, value in latency.items():
            self._stage_ms[stage] = self._stage_ms.get(stage, 0.0) + value
            self._stage_frames[stage] = self._stage_frames.get(stage, 0) + 1
        return self._result(index, status, latency, refreshed)

    def _timed(self, latency: Dict[str, float], stage: str, fn, *args):
        start = time.perf_counter()
        out = fn(*args)
        latency[stage] = latency.get(stage, 0.0) + (time.perf_counter() - start) * 1e3
        return out

    def _detector_active(self) -> bool:
        if self.detected_onset_frame is not None:
            return False
        if self.mode == 'deployment':
            return True
        if self.evaluation_detector == 'off':
            return False
        if self.evaluation_detector == 'until_onset':
            return not self.tracking
        return True

    def _process(self, frame: np.ndarray, index: int, latency: Dict[str, float]) -> bool:
        """Run the stages due for this frame; returns whether memory was refreshed."""
        refreshed = False
        if self.tracking:
            refreshed = self._track(frame, latency)
        elif (self.mode == 'evaluation' and self._gt_onset is not None
              and index >= self._gt_onset):
            # The true onset frame (or the first usable one after it, if it was dropped).
            self.onset_frame = self._gt_onset
            self._alert(index)
            self._locate(frame, latency)
            self._start_tracking(frame, self._gt_points, latency)
        elif (self.mode == 'deployment' and self.state == BLEEDING
              and self.detected_onset_frame is not None):
            # Locating or initialising failed at the alert (a model error): retry here.
            self._locate(frame, latency)
            self._start_tracking(frame, self.source_point[None], latency)

        if self._detector_active():
            out = self._timed(latency, 'detect', self.detector.stream_step, frame)
            detector_index = self.detector_frames
            self.detector_frames += 1
            self.onset_confidence = float(out.get('confidence', 0.0))
            if self.mode == 'deployment':
                self._recent.append((index, frame))
            self._detector_to_stream.append((detector_index, index))
            if out.get('onset_frame') is not None and not out.get('onset_refined', True):
                # an onset refiner will move eq. 2's onset once the frames up to onset + R
                # are in: the alarm is raised now, the source and the tracker wait for it
                self._provisional_onset = int(out['onset_frame'])
                if self.mode == 'deployment':
                    self._alert(index)
            elif out.get('onset_frame') is not None:
                self._provisional_onset = None
                self.detected_onset_frame = self._to_stream_index(int(out['onset_frame']))
                if self.mode == 'deployment':
                    refreshed = self._on_detected_onset(frame, index, latency) or refreshed
        return refreshed

    def finish(self) -> Optional[FrameResult]:
        """End of the stream: settle an onset the refiner was still searching for.

        With an onset refiner and its search (``onset_refine_search``) the detector
        names its final onset up to ``max shift * (2R + 1) + R`` frames after eq. 2's
        onset; a video that ends sooner has raised the alarm but got no source point.
        Here the detector's answer over the frames that did arrive (what the offline
        ``predict`` gives for the same clip: the windows past its end are not tried)
        becomes the onset; in deployment the source is located in that frame and the
        tracker catches up over the buffered frames. ``summary()['onset_at_stream_end']``
        says it happened.

        Returns:
            FrameResult | None: The last frame's result with the settled onset, source
            and points; None when there was nothing to settle.
        """
        if self._provisional_onset is None or self.detected_onset_frame is not None:
            return None
        provisional, self._provisional_onset = self._provisional_onset, None
        self.onset_at_stream_end = True
        self.detected_onset_frame = self._to_stream_index(provisional)
        latency: Dict[str, float] = {}
        last_index = self.stream_index - 1
        if self.mode == 'deployment' and self._recent:
            last_index, last = self._recent[-1]
            try:
                with torch.inference_mode():
                    self._on_detected_onset(last, last_index, latency)
            except Exception:  # as in step(): counted and logged, the summary stands
                self._model_fault('end of stream: model error while locating the source')
        return self._result(last_index, FRAME_OK, latency, refreshed=False)

    def _model_fault(self, message: str) -> None:
        """Inside an ``except``: re-raise when ``strict``, else count the fault and log
        the first three with their traceback."""
        if self.strict:
            raise
        self.model_errors += 1
        if self.model_errors <= 3:
            print_log(f'{message}\n{traceback.format_exc()}', logger='current', level=40)

    def _to_stream_index(self, detector_index: int) -> int:
        """Map the detector's frame count to the stream index (skipped frames differ)."""
        for seen, stream in self._detector_to_stream:
            if seen == detector_index:
                return stream
        oldest_seen, oldest_stream = self._detector_to_stream[0]
        if detector_index < oldest_seen:
            print_log(f'detector onset {detector_index} is older than the frame buffer '
                      f'({self.frame_buffer_size} frames); using the oldest buffered frame',
                      logger='current', level=30)
            return oldest_stream
        return self._detector_to_stream[-1][1]

    def _on_detected_onset(self, frame: np.ndarray, index: int,
                           latency: Dict[str, float]) -> bool:
        """Deployment: locate the source in the onset frame, track up to now."""
        self.onset_frame = self.detected_onset_frame
        self._alert(index)
        buffered = [(i, f) for i, f in self._recent if i >= self.onset_frame]
        if not buffered:  # onset older than the buffer: start from the oldest frame kept
            buffered = list(self._recent)[:1] or [(index, frame)]
        onset_image = buffered[0][1]
        self._recent.clear()
        self._locate(onset_image, latency)
        if self.source_point is None:
            return False
        self._start_tracking(onset_image, self.source_point[None], latency)
        refreshed = False
        for _, later in buffered[1:]:
            refreshed = self._track(later, latency) or refreshed
        return refreshed

    def _alert(self, index: int) -> None:
        self.state = BLEEDING
        if self.alert_frame is None:
            self.alert_frame = index

    def _locate(self, frame: np.ndarray, latency: Dict[str, float]) -> None:
        x, y, score = self._timed(latency, 'locate', self.detector.locate_source, frame)
        self.source_point = np.array([x, y], np.float32)
        self.source_score = float(score)

    def _start_tracking(self, frame: np.ndarray, points: np.ndarray,
                        latency: Dict[str, float]) -> None:
        points = np.asarray(points, np.float32).reshape(-1, 2)
        self._timed(latency, 'track', self.tracker.init, frame, points)
        self.tracking = True
        self.points = points.copy()
        self.visibility = np.ones(len(points), bool)
        self.confidence = np.ones(len(points), np.float32)

    def _track(self, frame: np.ndarray, latency: Dict[str, float]) -> bool:
        points, visibility, confidence = self._timed(latency, 'track', self.tracker.step, frame)
        self.tracker_frames += 1
        self.points = np.asarray(points, np.float32).reshape(-1, 2)
        self.visibility = np.asarray(visibility, bool).reshape(-1)
        self.confidence = np.asarray(confidence, np.float32).reshape(-1)
        if self.tracker.refreshed:  # the StreamTracker's policy decided, after its step
            latency['track'] -= self.tracker.refresh_ms
            latency['refresh'] = latency.get('refresh', 0.0) + self.tracker.refresh_ms
            self.refreshes += 1
            return True
        return False

    @property
    def refresh_policy(self) -> RefreshPolicy:
        """The tracker's refresh policy (held by the ``StreamTracker``)."""
        return self.tracker.refresh_policy

    @property
    def frames_since_refresh(self) -> int:
        """Tracker steps since the last initialisation or refresh."""
        return self.tracker.frames_since_refresh

    def _result(self, index: int, status: str, latency: Dict[str, float],
                refreshed: bool) -> FrameResult:
        return FrameResult(
            frame_index=index,
            state=self.state,
            onset_frame=self.onset_frame,
            detected_onset_frame=self.detected_onset_frame,
            alert_frame=self.alert_frame,
            onset_confidence=self.onset_confidence,
            source_point=None if self.source_point is None else self.source_point.copy(),
            source_score=self.source_score,
            points=self.points.copy(),
            visibility=self.visibility.copy(),
            confidence=self.confidence.copy(),
            status=status,
            refreshed=refreshed,
            latency_ms=latency)

    # --------------------------------------------------------------- summary
    @property
    def window_size(self) -> Optional[int]:
        """The detector's window N when it exposes one."""
        for name in ('window_size', 'num_frames', 'window'):
            value = getattr(self.detector, name, None)
            if isinstance(value, int):
                return value
        return None

    def summary(self) -> dict:
        """Counts and timings of the stream so far (bounded, scalar only)."""
        counts = self.guard.counts.as_dict()
        processed = self._model_frames
        window = self.window_size
        # Mean over the frames on which each stage ran (tracking only after the onset).
        stage_ms = {k: v / self._stage_frames[k] for k, v in self._stage_ms.items()}
        return dict(
            mode=self.mode,
            refresh_policy=self.refresh_policy.name,
            frames=counts['frames'],
            processed_frames=processed,
            dropped_frames=counts['dropped'],
            black_frames=counts['black'],
            resized_frames=counts['resized'],
            converted_frames=counts['converted'],
            model_errors=self.model_errors,
            onset_frame=self.onset_frame,
            detected_onset_frame=self.detected_onset_frame,
            alert_frame=self.alert_frame,
            source_point=None if self.source_point is None else [
                float(v) for v in self.source_point],
            source_score=self.source_score,
            detector_frames=self.detector_frames,
            tracker_frames=self.tracker_frames,
            refreshes=self.refreshes,
            onset_at_stream_end=self.onset_at_stream_end,
            ended_mid_window=bool(window is not None and self.detected_onset_frame is None
                                  and 0 < self.detector_frames < window),
            mean_fps=processed / self._busy_s if self._busy_s > 0 else 0.0,
            mean_stage_ms=stage_ms,
        )
