"""Safe checkpoint loading for mmengine 0.10.7 on torch >= 2.6.

mmengine 0.10.7 calls ``torch.load(filename, map_location=...)`` without
``weights_only``; since torch 2.6 that means ``weights_only=True`` and its own
checkpoints fail to load (the message hub pickles ``HistoryBuffer`` objects
holding numpy arrays). Instead of switching the safe unpickler off, we
allow-list exactly the globals an mmengine checkpoint contains, so
``load_from`` and ``--resume`` work and any other global is still refused.
"""
import pickle
from typing import Any, List, Tuple, Union

import numpy as np
import torch

_REGISTERED = False

# numpy moved ``numpy.core`` to ``numpy._core`` in 2.0; a checkpoint names the
# module of the numpy that wrote it, so both spellings are allow-listed.
_NUMPY_CORE_MODULES = ('numpy.core.multiarray', 'numpy._core.multiarray')
_HISTORY_BUFFER_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})
_NUMPY_DTYPES = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
                 np.uint8, np.bool_)


def _history_buffer_getattr(owner: Any, name: str) -> Any:
    """``getattr`` restricted to the statistics methods a ``HistoryBuffer`` pickles.

    ``HistoryBuffer.__getstate__`` stores its statistics methods
    (``HistoryBuffer.min`` ...), which pickle as ``getattr(HistoryBuffer,
    'min')``. Allow-listing the builtin ``getattr`` would hand any attribute of
    any allowed object to a checkpoint, so only these lookups are answered.
    """
    from mmengine.logging import HistoryBuffer

    allowed = _HISTORY_BUFFER_STATISTICS | set(HistoryBuffer._statistics_methods)
    if owner is HistoryBuffer and name in allowed:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({owner!r}, {name!r}); only HistoryBuffer statistics '
        'methods are allow-listed')


def checkpoint_safe_globals() -> List[Union[Any, Tuple[Any, str]]]:
    """Globals that mmengine checkpoints written by our runners may contain."""
    from mmengine.logging import HistoryBuffer

    multiarray = getattr(np, '_core', np.core).multiarray
    safe: List[Union[Any, Tuple[Any, str]]] = [HistoryBuffer, np.ndarray, np.dtype]
    # Protocol-2 pickles spell the builtins module ``__builtin__``.
    safe += [(_history_buffer_getattr, f'{module}.getattr') for module in ('builtins',
                                                                          '__builtin__')]
    for module in _NUMPY_CORE_MODULES:
        safe.append((multiarray._reconstruct, f'{module}._reconstruct'))
        safe.append((multiarray.scalar, f'{module}.scalar'))
    safe.extend(type(np.dtype(t)) for t in _NUMPY_DTYPES)
    return safe


def register_checkpoint_safe_globals() -> None:
    """Allow-list the mmengine checkpoint globals for ``weights_only=True``."""
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, 'add_safe_globals'):
        return
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    _REGISTERED = True


def load_checkpoint_safely(filename: str, map_location: Union[str, torch.device] = 'cpu') -> dict:
    """Load a checkpoint with ``weights_only=True`` and the allow-list above.

    Raises:
        pickle.UnpicklingError: if the file holds any other global (for
            example an arbitrary callable), naming the file.
    """
    register_checkpoint_safe_globals()
    try:
        return torch.load(filename, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError with a long hint
        if isinstance(err, pickle.UnpicklingError):
            raise pickle.UnpicklingError(
                f'{filename}: refused to unpickle a global that is not allow-listed '
                f'({str(err).splitlines()[0]}). bleedorigin never loads checkpoints '
                'with weights_only=False; re-save the weights as a plain state_dict.') from err
        raise
