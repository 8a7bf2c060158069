# First, so mmengine.model is imported without transformers/peft (see _import_cost); then
# the checkpoint module, which allow-lists the mmengine checkpoint globals for projects that
# only import our models.
import bleedorigin._import_cost  # noqa: F401
import bleedorigin.utils.checkpoint  # noqa: F401

from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .detectors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .trackers import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
