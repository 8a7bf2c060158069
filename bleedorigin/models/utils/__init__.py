from .flow import dis_flow, propagate_point, rgb_to_hsv01, sequence_flow, to_gray
from .onset_decoding import onset_from_windows
from .positional_encoding import SinusoidalPositionalEncoding
from .red_mask import RedMask, red_mask

__all__ = [
    'RedMask', 'red_mask', 'SinusoidalPositionalEncoding', 'onset_from_windows', 'dis_flow',
    'sequence_flow', 'rgb_to_hsv01', 'propagate_point', 'to_gray'
]
