from .bleed_origin_detector import BleedOriginDetector

__all__ = ['BleedOriginDetector']
