from .nan_guard_hook import NaNGuardHook, NonFiniteLossError

__all__ = ['NaNGuardHook', 'NonFiniteLossError']
