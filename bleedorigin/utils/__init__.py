from .checkpoint import load_checkpoint_safely, register_checkpoint_safe_globals
from .setup_env import register_all_modules

__all__ = ['register_all_modules', 'register_checkpoint_safe_globals', 'load_checkpoint_safely']
