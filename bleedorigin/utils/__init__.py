from .checkpoint import (
    CheckpointError,
    CheckpointNotFoundError,
    UnsafeCheckpointError,
    find_intact_checkpoint,
    load_checkpoint_safely,
    load_state_dict_checked,
    register_checkpoint_safe_globals,
    save_checkpoint_atomic,
)
from .setup_env import register_all_modules

__all__ = ['register_all_modules', 'register_checkpoint_safe_globals', 'load_checkpoint_safely',
           'load_state_dict_checked', 'find_intact_checkpoint', 'save_checkpoint_atomic',
           'CheckpointError', 'CheckpointNotFoundError', 'UnsafeCheckpointError']
