from .formatting import PackOnsetInputs, PackSourceInputs  # noqa: F401
from .heatmap import GenerateSourceHeatmap  # noqa: F401
from .multi_domain import (  # noqa: F401
                       LoadOnsetClip,
                       LoadSourceFrames,
                       MultiDomainInputs,
                       SampleOnsetSegment,
                       SequenceColorJitter,
                       SequenceGainJitter,
                       SequenceRandomFlip,
                       SequenceTimeReverse,
                       SourceRandomAffine,
)
