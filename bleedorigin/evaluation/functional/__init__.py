from .onset_accuracy import onset_accuracy
from .point_accuracy import (
    frame_diagonal,
    nearest_source_errors,
    point_accuracy,
    point_errors,
    score_source_predictions,
)

__all__ = [
    'onset_accuracy', 'point_accuracy', 'point_errors', 'nearest_source_errors',
    'frame_diagonal', 'score_source_predictions'
]
