from .baselines import DISFlowTracker, FBLucasKanadeTracker, LucasKanadeTracker, ZeroMotionTracker
from .bleed_track_on import BleedTrackOn, TrackState
from .flow_refiner import AnchoredFlowRefiner
from .stream_loop import track_frames
from .track_encoder import TrackEncoder

__all__ = ['BleedTrackOn', 'TrackState', 'TrackEncoder', 'ZeroMotionTracker',
           'LucasKanadeTracker', 'FBLucasKanadeTracker', 'DISFlowTracker',
           'AnchoredFlowRefiner', 'track_frames']
