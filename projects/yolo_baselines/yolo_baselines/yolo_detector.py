"""YOLO11/YOLO12 as a registered bleeding detector (onset, source, streaming).

Registered in bleedorigin's ``MODELS`` so that configs, the benchmark and the
deployment pipeline build it like our detector (``type='YOLOBleedingDetector'``)
and score it through the same metric functions. It exposes the detector's
streaming interface (``reset_stream``/``stream_step``/``locate_source``) with
the YOLO decision rule of paper 5.3.3: the onset is the first frame whose best
detection has a confidence above ``onset_threshold``; the source is the centre
of the best box.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch.nn as nn

from bleedorigin.registry import MODELS

from .onset import TABLE_THRESHOLD, OnsetGate, first_frame_above
from .predictor import BestBoxPredictor, load_run_model
from .train import method_name


@MODELS.register_module()
class YOLOBleedingDetector(nn.Module):
    """YOLO baseline for the initial bleeding frame and source.

    Args:
        weights (str): Run directory of ``tools/train_yolo.py``, a ``*_state.pth``
            file, or a local ultralytics ``.pt``.
        onset_threshold (float): Confidence above which a frame is the onset
            (paper Tables 3/4 report YOLO at 0.01). Default: 0.01.
        imgsz (int, optional): Inference size; default: the training size.
        batch_size (int): Frames per forward pass in :meth:`predict_clip`. Default: 8.
        onset_run (int): The alarm gate K: the onset is the first frame of the first run
            of K consecutive frames above the threshold (1: paper 5.3.3's rule; the
            benchmark scores K in ``GATE_RUNS`` and picks it on validation). Default: 1.
    """

    def __init__(self, weights: str, onset_threshold: float = TABLE_THRESHOLD,
                 imgsz: Optional[int] = None, batch_size: int = 8, onset_run: int = 1):
        super().__init__()
        self._gate = OnsetGate(onset_threshold, onset_run)  # checks both
        self.yolo, self.meta = load_run_model(weights)
        self.method = method_name(self.meta.get('name', 'yolo'))
        self.predictor = BestBoxPredictor(self.yolo, imgsz or self.meta.get('imgsz', 640),
                                          batch_size)
        self.reset_stream()

    @property
    def onset_threshold(self) -> float:
        return self._gate.threshold

    @onset_threshold.setter
    def onset_threshold(self, value: float) -> None:
        """Set the threshold (checked; the stream starts again)."""
        self._gate = OnsetGate(value, self._gate.run)

    @property
    def onset_run(self) -> int:
        return self._gate.run

    @onset_run.setter
    def onset_run(self, value: int) -> None:
        """Set the alarm gate K (checked; the stream starts again)."""
        self._gate = OnsetGate(self._gate.threshold, value)

    def forward(self, frames: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Best detection per frame: confidences (T,) and centres (T, 2) in pixels."""
        return self.predictor(frames)

    def predict_clip(self, clip, chunk: int = 32) -> Dict[str, np.ndarray]:
        """Run on every frame of a bench clip, decoding ``chunk`` frames at a time.

        Args:
            clip (ClipRecord): A clip of :class:`bleedorigin.datasets.bench.BenchIndex`.

        Returns:
            dict: ``confidences`` (T,) and ``centres`` (T, 2) float32.
        """
        confidences, centres = [], []
        for start in range(0, clip.num_frames, chunk):
            frames = clip.load_frames(range(start, min(start + chunk, clip.num_frames)))
            conf, cen = self.predictor(frames)
            confidences.append(conf)
            centres.append(cen)
        return {'confidences': np.concatenate(confidences), 'centres': np.concatenate(centres)}

    def onset_from_confidences(self, confidences: Sequence[float],
                               threshold: Optional[float] = None) -> Optional[int]:
        return first_frame_above(confidences, self.onset_threshold if threshold is None
                                 else threshold, self.onset_run)

    # streaming interface (contract 6) -------------------------------------------------
    def reset_stream(self) -> None:
        """Forget the stream: the next frame is frame 0."""
        self._gate.reset()

    def stream_step(self, frame: np.ndarray) -> dict:
        """Consume one (H, W, 3) uint8 RGB frame; bounded state (a few integers, ``OnsetGate``).

        Returns:
            dict: ``frame_index``, ``onset_frame`` (set once ``onset_run`` consecutive
            frames' best confidence exceeds the threshold: the first of them) and
            ``confidence`` of this frame.
        """
        conf, _ = self.predictor(np.asarray(frame)[None])
        onset = self._gate.step(float(conf[0]))
        return {'frame_index': self._gate.index, 'onset_frame': onset,
                'confidence': float(conf[0])}

    def locate_source(self, frame: np.ndarray) -> Tuple[float, float, float]:
        """Centre of the best box in ``frame`` pixels and its confidence."""
        conf, centres = self.predictor(np.asarray(frame)[None])
        return float(centres[0, 0]), float(centres[0, 1]), float(conf[0])
