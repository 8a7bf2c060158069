
# First, so mmengine.model is imported without transformers/peft (see _import_cost).
import bleedorigin._import_cost  # noqa: F401

from .bench import BenchFormatError, BenchIndex, BrokenClip, ClipRecord, SourcePoint  # noqa: F401
from .onset_dataset import BleedOnsetDataset, detect_collate  # noqa: F401
from .point_track_synth import PointTrackSynthDataset  # noqa: F401
from .refine_dataset import OnsetRefineDataset  # noqa: F401
from .source_dataset import BleedSourceDataset  # noqa: F401
from .track_dataset import BleedTrackDataset, track_collate  # noqa: F401
