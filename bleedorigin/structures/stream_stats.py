"""Counters of the stream's input: the frame guard's and the frame source's."""
from dataclasses import asdict, dataclass
from typing import Optional


@dataclass
class FrameFaultCounts:
    """How many frames of each kind the guard has seen."""
    frames: int = 0
    ok: int = 0
    dropped: int = 0
    resized: int = 0
    converted: int = 0
    black: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SourceStats:
    """What the source saw while decoding."""
    kind: str = ''
    expected_frames: Optional[int] = None
    decoded_frames: int = 0
    undecodable_frames: int = 0
    truncated: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    def reset_counts(self) -> None:
        self.decoded_frames = self.undecodable_frames = 0
        self.truncated = False
