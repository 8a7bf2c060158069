from .heatmap_point_head import HeatmapPointHead
from .onset_head import OnsetHead

__all__ = ['HeatmapPointHead', 'OnsetHead']
