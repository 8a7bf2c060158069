"""Overlays of the streaming pipeline and error-curve plots."""
from .error_curves import plot_error_curves
from .overlay import draw_bleeding_overlay

__all__ = ['draw_bleeding_overlay', 'plot_error_curves']
