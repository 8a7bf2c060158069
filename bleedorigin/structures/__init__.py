"""Data containers passed between layers (no model, no I/O): the lowest layer
beside ``utils``, importable from anywhere without an import circle."""
from .frame_result import (
    BLEEDING,
    FRAME_BLACK,
    FRAME_CONVERTED,
    FRAME_DROPPED,
    FRAME_MODEL_ERROR,
    FRAME_OK,
    FRAME_RESIZED,
    NON_BLEEDING,
    FrameResult,
)
from .stream_stats import FrameFaultCounts, SourceStats

__all__ = [
    'FrameResult', 'FrameFaultCounts', 'SourceStats', 'BLEEDING', 'NON_BLEEDING', 'FRAME_OK',
    'FRAME_RESIZED', 'FRAME_CONVERTED', 'FRAME_BLACK', 'FRAME_DROPPED', 'FRAME_MODEL_ERROR'
]
