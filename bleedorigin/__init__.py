"""bleedorigin: bleeding onset detection, source localisation and tracking in ESD video.

Importing the package registers the ``bleedorigin`` registry scope (so other
OpenMMLab projects can say ``custom_imports=dict(imports=['bleedorigin'])``
and ``type='bleedorigin.MDGNeck'``) and allow-lists the globals that
mmengine checkpoints need under ``torch.load(weights_only=True)``.
"""
from .registry import *  # noqa: F401,F403
from .utils.checkpoint import register_checkpoint_safe_globals
from .version import __version__

register_checkpoint_safe_globals()

__all__ = ['__version__', 'register_checkpoint_safe_globals']
