"""Moved to :mod:`bleedorigin.structures.frame_result`; this name is kept for old imports."""
from bleedorigin.structures.frame_result import *  # noqa: F401,F403
from bleedorigin.structures.frame_result import (  # noqa: F401
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
