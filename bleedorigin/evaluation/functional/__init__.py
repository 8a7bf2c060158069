from .onset_accuracy import onset_accuracy
from .point_accuracy import point_accuracy, point_errors

__all__ = ['onset_accuracy', 'point_accuracy', 'point_errors']
