from .onset_metric import OnsetMetric
from .point_metric import PointMetric

__all__ = ['OnsetMetric', 'PointMetric']
