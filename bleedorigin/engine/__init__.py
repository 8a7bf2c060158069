# First, so mmengine.model is imported without transformers/peft (see _import_cost).
import bleedorigin._import_cost  # noqa: F401

from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks_all
from .runner import BleedOriginRunner, check_resumable

__all__ = [*_hooks_all, 'BleedOriginRunner', 'check_resumable']
