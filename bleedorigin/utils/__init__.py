"""Utilities below every other subpackage: checkpoints, atomic I/O, set-up, timing, CLI.

The names below are loaded on first use (PEP 562), so that importing a light
module of this package (``utils.io``, ``utils.cli``) does not load torch
through ``utils.checkpoint``.
"""
from importlib import import_module

_EXPORTS = {
    'CheckpointError': 'checkpoint',
    'CheckpointNotFoundError': 'checkpoint',
    'UnsafeCheckpointError': 'checkpoint',
    'find_intact_checkpoint': 'checkpoint',
    'load_checkpoint_safely': 'checkpoint',
    'load_state_dict_checked': 'checkpoint',
    'register_checkpoint_safe_globals': 'checkpoint',
    'save_checkpoint_atomic': 'checkpoint',
    'register_all_modules': 'setup_env',
    'run_cli': 'cli',
    'side_pool': 'side_thread',
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(import_module(f'{__name__}.{_EXPORTS[name]}'), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
