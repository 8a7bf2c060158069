"""Moved to :mod:`bleedorigin.structures.frame_result`; this name is kept for old imports."""
from bleedorigin.structures.frame_result import *  # noqa: F401,F403
from bleedorigin.structures.frame_result import FRAME_MODEL_ERROR, FrameResult  # noqa: F401
