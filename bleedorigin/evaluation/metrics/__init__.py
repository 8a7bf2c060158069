from .detect_select_metric import DetectSelectMetric
from .onset_metric import OnsetMetric
from .point_metric import PointMetric
from .refine_metric import RefineMetric
from .track_metric import TrackMetric

__all__ = ['DetectSelectMetric', 'OnsetMetric', 'PointMetric', 'RefineMetric', 'TrackMetric']
