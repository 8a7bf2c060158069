from .heatmap_point_head import HeatmapPointHead
from .onset_head import OnsetHead
from .onset_refiner import OnsetRefiner

__all__ = ['HeatmapPointHead', 'OnsetHead', 'OnsetRefiner']
