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

from .onset import TABLE_THRESHOLD, first_frame_above
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
    """

    def __init__(self, weights: str, onset_threshold: float = TABLE_THRESHOLD,
                 imgsz: Optional[int] = None, batch_size: int = 8):
        super().__init__()
        if not 0 <= onset_threshold < 1:
            raise ValueError(f'onset_threshold must be in [0, 1), got {onset_threshold}')
        self.yolo, self.meta = load_run_model(weights)
        self.method = method_name(self.meta.get('name', 'yolo'))
        self.onset_threshold = float(onset_threshold)
        self.predictor = BestBoxPredictor(self.yolo, imgsz or self.meta.get('imgsz', 640),
                                          batch_size)
        self.reset_stream()

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
                                 else threshold)

    # streaming interface (contract 6) -------------------------------------------------
    def reset_stream(self) -> None:
        """Forget the stream: the next frame is frame 0."""
        self._frame_index = -1
        self._onset_frame: Optional[int] = None

    def stream_step(self, frame: np.ndarray) -> dict:
        """Consume one (H, W, 3) uint8 RGB frame; bounded state (two integers).

        Returns:
            dict: ``frame_index``, ``onset_frame`` (set once a frame's best
            confidence exceeds the threshold) and ``confidence`` of this frame.
        """
        conf, _ = self.predictor(np.asarray(frame)[None])
        self._frame_index += 1
        if self._onset_frame is None and conf[0] > self.onset_threshold:
            self._onset_frame = self._frame_index
        return {'frame_index': self._frame_index, 'onset_frame': self._onset_frame,
                    'confidence': float(conf[0])}

    def locate_source(self, frame: np.ndarray) -> Tuple[float, float, float]:
        """Centre of the best box in ``frame`` pixels and its confidence."""
        conf, centres = self.predictor(np.asarray(frame)[None])
        return float(centres[0, 0]), float(centres[0, 1]), float(conf[0])
