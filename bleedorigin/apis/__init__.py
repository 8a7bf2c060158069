"""Streaming pipeline (Algorithm 1): onset detection -> source -> tracking."""
from ..structures import BLEEDING, NON_BLEEDING, FrameFaultCounts, FrameResult, SourceStats
from .bleedorigin_net import BleedOriginNet
from .clip_evaluation import (
                              align_on_onset,
                              frame_track_errors,
                              latency_statistics,
                              stream_clip,
                              track_refresh_policies,
)
from .frame_guard import FrameGuard
from .model_builder import (
                            build_stream_detector,
                            build_stream_model,
                            build_stream_tracker,
                            load_weights,
)
from .protocols import OnsetStepModel, StreamingDetector, StreamingTracker, TrackStepModel
from .refresh_policy import (
                              ConfidenceAdaptiveRefresh,
                              FixedIntervalRefresh,
                              RefreshPolicy,
                              build_refresh_policy,
)
from .stream_detector import StreamDetector, as_stream_detector
from .stream_runner import FrameRecordWriter, format_summary, run_stream
from .stream_tracker import StreamTracker, as_stream_tracker, default_refresh_policy
from .video_source import VideoSink, VideoSource, VideoSourceError

__all__ = [
    'BleedOriginNet', 'FrameResult', 'FrameGuard', 'FrameFaultCounts', 'BLEEDING',
    'NON_BLEEDING', 'build_stream_model', 'load_weights', 'RefreshPolicy',
    'FixedIntervalRefresh', 'ConfidenceAdaptiveRefresh', 'build_refresh_policy', 'VideoSource',
    'VideoSink', 'VideoSourceError', 'SourceStats', 'run_stream', 'format_summary',
    'FrameRecordWriter', 'align_on_onset', 'frame_track_errors', 'track_refresh_policies',
    'latency_statistics', 'stream_clip', 'StreamDetector', 'StreamTracker', 'as_stream_detector',
    'as_stream_tracker', 'default_refresh_policy', 'build_stream_detector', 'build_stream_tracker',
    'StreamingDetector', 'StreamingTracker', 'OnsetStepModel', 'TrackStepModel'
]
