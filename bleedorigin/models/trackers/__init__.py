from .baselines import DISFlowTracker, LucasKanadeTracker, ZeroMotionTracker
from .bleed_track_on import BleedTrackOn, TrackState
from .track_encoder import TrackEncoder

__all__ = ['BleedTrackOn', 'TrackState', 'TrackEncoder', 'ZeroMotionTracker',
           'LucasKanadeTracker', 'DISFlowTracker']
