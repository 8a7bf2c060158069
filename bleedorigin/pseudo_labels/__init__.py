from ..datasets.pseudo_label_io import (
    PseudoLabelError,
    check_pseudo_label_file,
    pseudo_label_path,
    read_pseudo_labels,
    validate_pseudo_labels,
)
from .kalman import smooth_trajectory
from .matching import MatchResult, match_near_source, ratio_confidence, select_matches
from .pipeline import PseudoLabelParams, clip_segments, generate_clip, generate_segment

__all__ = ['PseudoLabelError', 'check_pseudo_label_file', 'pseudo_label_path',
           'read_pseudo_labels', 'validate_pseudo_labels', 'smooth_trajectory',
           'MatchResult', 'match_near_source', 'ratio_confidence', 'select_matches',
           'PseudoLabelParams', 'clip_segments', 'generate_clip', 'generate_segment']
