
from .geometry import (ColorJitterClip, RandomCropClip, RandomFlipClip,  # noqa: F401
                       ResizeClip, points_to_original, to_original)
from .loading import LoadClipFrames  # noqa: F401
from .formatting import PackOnsetInputs, PackSourceInputs  # noqa: F401
from .heatmap import GenerateSourceHeatmap  # noqa: F401
from .multi_domain import (LoadOnsetClip, LoadSourceFrames, MultiDomainInputs,  # noqa: F401
                           SampleOnsetSegment, SequenceColorJitter, SequenceRandomFlip,
                           SourceRandomAffine)
