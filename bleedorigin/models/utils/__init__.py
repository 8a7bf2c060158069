from .colour_anchor import ColourAnchor, anchor_steps, anchor_turn, mucosa_hue
from .flow import (
    align_to,
    dis_flow,
    forward_backward_lucas_kanade,
    lucas_kanade,
    propagate_point,
    rgb_to_hsv01,
    sequence_flow,
    to_gray,
    turn_hue,
)
from .onset_decoding import (
    WindowRun,
    newest_window,
    onset_from_states,
    onset_from_windows,
    update_state_run,
    update_window_onset,
    window_frame_index,
    window_starts,
)
from .onset_input import (
    ONSET_COLOUR_CHANNELS,
    ONSET_INPUT_CHANNELS,
    cell_argmax_colour,
    check_rgb_frame,
    onset_clip_input,
    onset_frame_input,
    onset_input_channels,
)
from .onset_stream import (
    OnsetStreamState,
    onset_stream_step,
    onset_stream_update,
    pick_reference,
    reference_anchor,
    state_vetoes,
)
from .onset_views import (
    VIEW_AXES,
    VIEW_THETAS,
    check_views,
    combine_views,
    flip_onset_inputs,
    flip_onset_sequence,
)
from .pooling import avg_max_pool
from .positional_encoding import SinusoidalPositionalEncoding
from .red_mask import RedMask, red_difference_argmax, red_mask

__all__ = [
    'ColourAnchor', 'anchor_steps', 'anchor_turn', 'mucosa_hue', 'onset_stream_step',
    'RedMask', 'red_mask', 'red_difference_argmax', 'SinusoidalPositionalEncoding',
    'onset_from_windows', 'dis_flow', 'sequence_flow', 'rgb_to_hsv01', 'propagate_point',
    'to_gray', 'turn_hue', 'align_to', 'avg_max_pool', 'onset_frame_input', 'onset_clip_input',
    'check_rgb_frame', 'ONSET_INPUT_CHANNELS', 'ONSET_COLOUR_CHANNELS', 'cell_argmax_colour',
    'onset_input_channels', 'onset_from_states', 'OnsetStreamState',
    'onset_stream_update', 'pick_reference', 'reference_anchor', 'state_vetoes', 'update_state_run',
    'update_window_onset',
    'WindowRun',
    'lucas_kanade', 'forward_backward_lucas_kanade', 'window_starts', 'window_frame_index',
    'newest_window', 'VIEW_AXES', 'VIEW_THETAS', 'check_views', 'combine_views',
    'flip_onset_inputs', 'flip_onset_sequence'
]
