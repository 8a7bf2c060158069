"""Checks every incoming frame before the models see it.

A live endoscope stream is not a clean dataset: frames fail to decode, the
light source blanks the image, a capture card switches resolution. The guard
turns each of these into a counted, logged event instead of an exception, so
the pipeline keeps its state (onset, tracked points) across the fault.
"""
from typing import Optional, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from ..structures.frame_result import (
    FRAME_BLACK,
    FRAME_CONVERTED,
    FRAME_DROPPED,
    FRAME_OK,
    FRAME_RESIZED,
)
from ..structures.stream_stats import FrameFaultCounts  # also importable from here


class FrameGuard:
    """Validate, convert and resize frames to the stream's reference size.

    Args:
        frame_size (tuple[int, int] | None): (W, H) every frame is brought to.
            ``None`` takes the size of the first valid frame.
        black_threshold (float): A frame whose mean intensity (0-255, on a
            subsampled grid) is below this counts as black (light source off,
            lens covered) and is not given to the models. Defaults to 8.0.
        black_sample_stride (int): Subsampling step of the black test.
            Defaults to 8.
        max_logged (int): Log at most this many faults of each kind, then
            only count them. Defaults to 5.
    """

    def __init__(self, frame_size: Optional[Tuple[int, int]] = None,
                 black_threshold: float = 8.0, black_sample_stride: int = 8,
                 max_logged: int = 5) -> None:
        self.frame_size = None if frame_size is None else (int(frame_size[0]),
                                                            int(frame_size[1]))
        self._fixed_size = frame_size is not None
        self.black_threshold = float(black_threshold)
        self.black_sample_stride = max(1, int(black_sample_stride))
        self.max_logged = int(max_logged)
        self.reset()

    def reset(self) -> None:
        """Forget the counts (and the reference size unless it was given)."""
        self.counts = FrameFaultCounts()
        if not self._fixed_size:
            self.frame_size = None

    def _log(self, kind: str, message: str) -> None:
        if getattr(self.counts, kind) <= self.max_logged:
            print_log(message, logger='current', level=30)

    def __call__(self, frame, frame_index: int) -> Tuple[Optional[np.ndarray], str]:
        """Check one frame.

        Args:
            frame (np.ndarray | None): (H, W, 3) uint8 RGB; (H, W) grey or
                (H, W, 4) RGBA are converted; ``None`` means the source could
                not decode the frame.
            frame_index (int): Stream index, for the log messages.

        Returns:
            tuple: (frame (H_ref, W_ref, 3) uint8 RGB or ``None`` when the
            models must skip it, status string from
            :mod:`bleedorigin.apis.frame_result`).
        """
        self.counts.frames += 1
        problem = self._why_invalid(frame)
        if problem is not None:
            self.counts.dropped += 1
            self._log('dropped', f'frame {frame_index}: dropped ({problem})')
            return None, FRAME_DROPPED
        status = FRAME_OK
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
            status = FRAME_CONVERTED
        elif frame.shape[2] == 1:
            frame = cv2.cvtColor(frame[:, :, 0], cv2.COLOR_GRAY2RGB)
            status = FRAME_CONVERTED
        elif frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGBA2RGB)
            status = FRAME_CONVERTED
        if status == FRAME_CONVERTED:
            self.counts.converted += 1
            self._log('converted', f'frame {frame_index}: converted to 3-channel RGB')

        height, width = frame.shape[:2]
        if self.frame_size is None:
            self.frame_size = (width, height)
        elif (width, height) != self.frame_size:
            self.counts.resized += 1
            self._log('resized', f'frame {frame_index}: size {width}x{height} differs from the '
                      f'stream size {self.frame_size[0]}x{self.frame_size[1]}; resized')
            frame = cv2.resize(frame, self.frame_size, interpolation=cv2.INTER_LINEAR)
            status = FRAME_RESIZED

        grid = frame[::self.black_sample_stride, ::self.black_sample_stride]
        if float(grid.mean()) < self.black_threshold:
            self.counts.black += 1
            self._log('black', f'frame {frame_index}: black frame (mean intensity '
                      f'{float(grid.mean()):.1f} < {self.black_threshold}); skipped')
            return None, FRAME_BLACK
        if status == FRAME_OK:
            self.counts.ok += 1
        return np.ascontiguousarray(frame), status

    @staticmethod
    def _why_invalid(frame) -> Optional[str]:
        if frame is None:
            return 'could not be decoded'
        if not isinstance(frame, np.ndarray):
            return f'expected a numpy array, got {type(frame).__name__}'
        if frame.dtype != np.uint8:
            return f'expected dtype uint8, got {frame.dtype}'
        if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (1, 3, 4)):
            return f'expected shape (H, W, 3), got {tuple(frame.shape)}'
        if frame.shape[0] < 2 or frame.shape[1] < 2:
            return f'empty frame of shape {tuple(frame.shape)}'
        return None
