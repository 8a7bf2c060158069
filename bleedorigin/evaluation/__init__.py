# First, so mmengine.model is imported without transformers/peft (see _import_cost).
import bleedorigin._import_cost  # noqa: F401

from .functional import onset_accuracy, point_accuracy, point_errors
from .metrics import OnsetMetric, PointMetric
from .tables import render_metric_tables, render_table

__all__ = [
    'render_metric_tables', 'render_table', 'onset_accuracy', 'point_accuracy', 'point_errors',
    'OnsetMetric', 'PointMetric'
]
