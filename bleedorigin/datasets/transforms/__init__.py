
from .geometry import (ColorJitterClip, RandomCropClip, RandomFlipClip,  # noqa: F401
                       ResizeClip, points_to_original, to_original)
from .loading import LoadClipFrames  # noqa: F401
