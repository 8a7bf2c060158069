
from .bench import BenchFormatError, BenchIndex, BrokenClip, ClipRecord, SourcePoint  # noqa: F401
