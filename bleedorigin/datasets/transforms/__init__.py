
from .formatting import PackOnsetInputs, PackSourceInputs  # noqa: F401
from .geometry import (  # noqa: F401
                       ColorJitterClip,
                       RandomCropClip,
                       RandomFlipClip,
                       ResizeClip,
                       points_to_original,
                       to_original,
)
from .heatmap import GenerateSourceHeatmap  # noqa: F401
from .loading import LoadClipFrames  # noqa: F401
from .multi_domain import (  # noqa: F401
                       LoadOnsetClip,
                       LoadSourceFrames,
                       MultiDomainInputs,
                       SampleOnsetSegment,
                       SequenceColorJitter,
                       SequenceRandomFlip,
                       SourceRandomAffine,
)
