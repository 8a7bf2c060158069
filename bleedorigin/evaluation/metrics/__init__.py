from .onset_metric import OnsetMetric
from .point_metric import PointMetric
from .refine_metric import RefineMetric
from .track_metric import TrackMetric

__all__ = ['OnsetMetric', 'PointMetric', 'RefineMetric', 'TrackMetric']
