"""bleedorigin: bleeding onset detection, source localisation and tracking in ESD video.

Importing the package registers the ``bleedorigin`` registry scope (so other
OpenMMLab projects can say ``custom_imports=dict(imports=['bleedorigin'])``
and ``type='bleedorigin.MDGNeck'``); building a module from it imports the
subpackage that registers it. Importing the package does not import torch
(about 3 s of a cold start on a busy CPU): the globals that mmengine
checkpoints need under ``torch.load(weights_only=True)`` are allow-listed when
:mod:`bleedorigin.utils.checkpoint` is imported (every checkpoint load of the
project goes through it, and ``bleedorigin.models`` imports it), or now if
torch is already loaded.
"""
import sys

from .registry import *  # noqa: F401,F403
from .version import __version__


def register_checkpoint_safe_globals() -> None:
    """Allow-list the mmengine checkpoint globals (see :mod:`bleedorigin.utils.checkpoint`)."""
    from .utils.checkpoint import register_checkpoint_safe_globals as register
    register()


if 'torch' in sys.modules:
    register_checkpoint_safe_globals()

__all__ = ['__version__', 'register_checkpoint_safe_globals']
