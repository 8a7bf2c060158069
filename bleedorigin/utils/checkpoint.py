"""Safe checkpoint loading for mmengine 0.10.7 on torch >= 2.6: the one entry point.

mmengine 0.10.7 calls ``torch.load(filename, map_location=...)`` without
``weights_only``; since torch 2.6 that means ``weights_only=True`` and its own
checkpoints fail to load (the message hub pickles ``HistoryBuffer`` objects
holding numpy arrays). Instead of switching the safe unpickler off, we
allow-list exactly the globals an mmengine checkpoint contains, so
``load_from`` and ``--resume`` work and any other global is still refused.

Every checkpoint the project reads goes through :func:`load_checkpoint_safely`
(the tools through :class:`bleedorigin.engine.BleedOriginRunner`,
``BleedOriginNet`` through ``load_weights``, ``gen_pseudo_labels`` through
:func:`load_state_dict_checked`). Whatever is wrong with the file (missing, a
directory, empty, a text file renamed ``.pth``, a truncated zip archive, a
refused pickle global, weights of another model), the caller gets one
:class:`CheckpointError` whose message is a single line ``'<file>: <reason>'``.

:func:`find_intact_checkpoint` is the auto-resume fallback: the newest
checkpoint of a work dir that loads completely, with the reasons the newer ones
were skipped. :func:`save_checkpoint_atomic` writes through a temporary file and
``os.replace``, so a crash never leaves a half-written checkpoint under the
final name.
"""
import contextlib
import os
import os.path as osp
import pickle
import re
import tempfile
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

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


class CheckpointError(ValueError):
    """A checkpoint cannot be used. ``str(err)`` is one line: ``'<file>: <reason>'``.

    Args:
        path (str): The checkpoint file.
        reason (str): What is wrong (one line).
    """

    def __init__(self, path: str, reason: str):
        reason = ' '.join(str(reason).split())  # one line, whatever torch said
        super().__init__(f'{path}: {reason}')
        self.path = str(path)
        self.reason = reason


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist (also a ``FileNotFoundError``)."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """The checkpoint asks for a global outside the allow-list; nothing of it ran."""


def _first_line(err: BaseException, limit: int = 160) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _refused_global(err: BaseException) -> Optional[str]:
    """The global named by torch's weights-only refusal, if ``err`` is one."""
    text = str(err)
    match = re.search(r'(?:Unsupported global|unsupported GLOBAL):?\s*(?:GLOBAL\s+)?([\w.]+)',
                      text, re.IGNORECASE)
    if match:
        return match.group(1)
    return None


def _classify_load_error(filename: str, err: BaseException, head: bytes = b'') -> CheckpointError:
    """Turn whatever ``torch.load`` raised into one :class:`CheckpointError`.

    ``head`` is the file's first bytes: a torch checkpoint is a zip archive
    (``PK``) or, in the legacy format, a pickle (``0x80``).
    """
    name = _refused_global(err)
    if name is not None or (isinstance(err, pickle.UnpicklingError)
                            and 'Weights only load failed' in str(err)
                            and 'GLOBAL' in str(err)):
        return UnsafeCheckpointError(
            filename, f'refused to unpickle a global that is not allow-listed ({name or "?"}); '
            'nothing of the file was executed. bleedorigin never loads checkpoints with '
            'weights_only=False; re-save the weights as a plain state_dict')
    text = str(err)
    if 'PytorchStreamReader' in text or 'zip archive' in text or 'central directory' in text:
        return CheckpointError(filename, 'truncated or corrupt: not a complete torch zip '
                               f'archive ({_first_line(err)}); was the write interrupted?')
    if head and not head.startswith((b'PK', b'\x80')):
        return CheckpointError(filename, f'not a torch checkpoint: neither a zip archive nor a '
                               f'pickle (starts with {head[:16]!r})')
    if isinstance(err, EOFError):
        return CheckpointError(filename, 'truncated: the file ends before the checkpoint does')
    if isinstance(err, pickle.UnpicklingError):
        return CheckpointError(filename, f'not a checkpoint (unpickling failed: '
                               f'{_first_line(err)})')
    if isinstance(err, MemoryError):
        return CheckpointError(filename, 'not a checkpoint (loading it ran out of memory)')
    return CheckpointError(filename, f'not a torch checkpoint ({type(err).__name__}: '
                           f'{_first_line(err)})')


def load_checkpoint_safely(filename: str, map_location: Union[str, torch.device, Callable,
                                                               None] = 'cpu') -> Any:
    """Load a checkpoint with ``weights_only=True`` and the allow-list above.

    The project's one checkpoint loading entry.

    Args:
        filename (str): The checkpoint file.
        map_location: As for ``torch.load``. Defaults to ``'cpu'``.

    Returns:
        Any: What the file holds (a dict for every checkpoint we write).

    Raises:
        CheckpointNotFoundError: the file does not exist.
        UnsafeCheckpointError: the file holds a global outside the allow-list
            (also a ``pickle.UnpicklingError``); nothing of it was executed.
        CheckpointError: any other reason the file cannot be loaded (a
            directory, empty, not a torch file, truncated, ...). Every message
            is one line naming the file.
    """
    filename = os.fspath(filename)
    if not osp.exists(filename):
        raise CheckpointNotFoundError(filename, 'checkpoint file not found')
    if osp.isdir(filename):
        raise CheckpointError(filename, 'is a directory, not a checkpoint file')
    if not osp.isfile(filename):  # a FIFO or device would block or never end
        raise CheckpointError(filename, 'is not a regular file')
    try:
        size = osp.getsize(filename)
    except OSError as err:
        raise CheckpointError(filename, f'unreadable ({err.strerror or err})') from None
    if size == 0:
        raise CheckpointError(filename, 'empty file (0 bytes); was the write interrupted?')
    register_checkpoint_safe_globals()
    head = b''
    try:
        with open(filename, 'rb') as f:
            head = f.read(16)
        return torch.load(filename, map_location=map_location, weights_only=True)
    except OSError as err:
        raise CheckpointError(filename, f'unreadable ({err.strerror or _first_line(err)})'
                              ) from None
    except Exception as err:  # noqa: BLE001 - every failure becomes one named line
        raise _classify_load_error(filename, err, head) from None


def state_dict_of(checkpoint: Any, filename: str) -> Dict[str, torch.Tensor]:
    """The weights of a loaded checkpoint (mmengine format or a plain state_dict).

    ``module.`` prefixes (DDP) are stripped.

    Raises:
        CheckpointError: if there is no ``state_dict`` of tensors.
    """
    if not isinstance(checkpoint, dict):
        raise CheckpointError(filename, f'holds a {type(checkpoint).__name__}, not a checkpoint '
                              'dict')
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict) or not state_dict:
        raise CheckpointError(filename, 'state_dict missing or empty')
    if not any(isinstance(v, torch.Tensor) for v in state_dict.values()):
        raise CheckpointError(filename, 'state_dict holds no tensors (not model weights)')
    return {k[7:] if isinstance(k, str) and k.startswith('module.') else k: v
            for k, v in state_dict.items()}


def check_state_dict_fits(model: torch.nn.Module, state_dict: Dict[str, torch.Tensor],
                          filename: str, origin: Optional[str] = None,
                          allow_missing: Union[bool, Sequence[str]] = False,
                          allow_unexpected: bool = True) -> Dict[str, List[str]]:
    """Check that the weights of ``filename`` belong to ``model`` before loading them.

    Args:
        model (nn.Module): The model to load into.
        state_dict (dict): The checkpoint's weights (:func:`state_dict_of`).
        filename (str): For messages.
        origin (str, optional): The config the model was built from, for messages.
        allow_missing (bool | Sequence[str]): Model weights the checkpoint may
            lack: ``True`` any (fine-tuning a larger model from a smaller
            one), a sequence of name prefixes, or ``False`` none.
        allow_unexpected (bool): Whether checkpoint weights the model does
            not have are tolerated (they are listed in the result).

    Returns:
        dict: ``missing`` and ``unexpected`` key lists.

    Raises:
        CheckpointError: no weight of the model is in the checkpoint, a
            weight's shape differs, or missing/unexpected keys that are not
            allowed.
    """
    own = model.state_dict()
    where = f' of {origin}' if origin else ''
    shared = [k for k in own if k in state_dict]
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    if not shared:
        raise CheckpointError(filename, f'state_dict does not fit the model{where}: none of '
                              f'its {len(own)} weights is in the checkpoint (which has e.g. '
                              f'{list(state_dict)[:3]}); weights of another model?')
    wrong = [k for k in shared if isinstance(own[k], torch.Tensor)
             and (not isinstance(state_dict[k], torch.Tensor)
                  or tuple(own[k].shape) != tuple(state_dict[k].shape))]
    if wrong:
        k = wrong[0]
        theirs = getattr(state_dict[k], 'shape', type(state_dict[k]).__name__)
        raise CheckpointError(filename, f'state_dict does not fit the model{where}: '
                              f'{len(wrong)} weights have another shape, e.g. {k} '
                              f'{tuple(theirs) if isinstance(theirs, torch.Size) else theirs} '
                              f'!= {tuple(own[k].shape)}; was it trained with this config?')
    if allow_missing is True:
        not_allowed = []
    else:
        prefixes = tuple(allow_missing or ())
        not_allowed = [k for k in missing if not (prefixes and k.startswith(prefixes))]
    if not_allowed:
        raise CheckpointError(filename, f'state_dict does not fit the model{where}: '
                              f'{len(not_allowed)} missing keys, e.g. {not_allowed[:3]}; was it '
                              'trained with this config?')
    if unexpected and not allow_unexpected:
        raise CheckpointError(filename, f'state_dict does not fit the model{where}: '
                              f'{len(unexpected)} unexpected keys, e.g. {unexpected[:3]}')
    return dict(missing=missing, unexpected=unexpected)


def load_state_dict_checked(model: torch.nn.Module, filename: str,
                            origin: Optional[str] = None,
                            allow_missing: Union[bool, Sequence[str]] = False,
                            allow_unexpected: bool = True) -> Dict[str, List[str]]:
    """Load ``filename``'s weights into ``model`` after :func:`check_state_dict_fits`.

    Returns:
        dict: ``missing`` and ``unexpected`` key lists.

    Raises:
        CheckpointError: (one line naming the file) for any problem.
    """
    state_dict = state_dict_of(load_checkpoint_safely(filename, map_location='cpu'), filename)
    result = check_state_dict_fits(model, state_dict, filename, origin, allow_missing,
                                   allow_unexpected)
    model.load_state_dict(state_dict, strict=False)
    return result


_CHECKPOINT_NUMBER = re.compile(r'(\d+)\.pth$')


def checkpoint_candidates(work_dir: str) -> List[str]:
    """Checkpoints of a work dir, newest first.

    The file named by mmengine's ``last_checkpoint`` comes first (if it is a
    file of the work dir), then every other ``*.pth`` by modification time
    and number (``iter_300.pth`` before ``iter_200.pth``). Temporary files of
    an interrupted atomic write (``.tmp-*``) are never candidates.
    """
    if not osp.isdir(work_dir):
        return []
    files = [osp.join(work_dir, n) for n in os.listdir(work_dir)
             if n.endswith('.pth') and not n.startswith('.tmp-')
             and osp.isfile(osp.join(work_dir, n))]

    def key(path: str) -> Tuple[float, int]:
        match = _CHECKPOINT_NUMBER.search(osp.basename(path))
        return (osp.getmtime(path), int(match.group(1)) if match else -1)

    files.sort(key=key, reverse=True)
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        try:
            with open(last, encoding='utf-8', errors='replace') as f:
                named = f.read(4096).strip()
        except OSError:
            named = ''
        try:  # a garbled pointer (NUL bytes, half a path) is ignored, not fatal
            named_path = named if osp.isabs(named) else osp.join(work_dir, named)
            by_real = {osp.realpath(p): p for p in files}
            first = by_real.get(osp.realpath(named_path)) if named else None
        except (ValueError, OSError):
            first = None
        if first is not None:
            files.remove(first)
            files.insert(0, first)
    return files


def find_intact_checkpoint(work_dir: str, map_location: Union[str, torch.device, Callable,
                                                              None] = 'cpu',
                           validate: Optional[Callable[[Any, str], None]] = None
                           ) -> Tuple[Optional[str], Any, List[Tuple[str, str]]]:
    """The newest checkpoint of ``work_dir`` that loads completely.

    Args:
        work_dir (str): The run's work dir.
        map_location: As for ``torch.load``.
        validate (callable, optional): ``validate(checkpoint, path)`` raising
            :class:`CheckpointError` for a checkpoint that loads but cannot be
            resumed from (e.g. lacks ``meta``).

    Returns:
        tuple: ``(path, checkpoint, skipped)``: the chosen file and its loaded
        content (``None, None`` if no checkpoint is intact), and
        ``[(path, reason)]`` of the newer files that were not.
    """
    skipped: List[Tuple[str, str]] = []
    for path in checkpoint_candidates(work_dir):
        try:
            checkpoint = load_checkpoint_safely(path, map_location=map_location)
            if validate is not None:
                validate(checkpoint, path)
        except CheckpointError as err:
            skipped.append((path, err.reason))
            continue
        return path, checkpoint, skipped
    return None, None, skipped


def save_checkpoint_atomic(obj: Any, filename: str) -> None:
    """``torch.save`` to a temporary file in the same folder, then ``os.replace``.

    A crash (power cut, SIGKILL, full disk) during the write leaves the
    previous file, if any, untouched, and at most a ``.tmp-*`` file that
    :func:`checkpoint_candidates` never offers.
    """
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.tmp-{osp.basename(filename)}-', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


# importing this module (the models, the runner and every loader do) allow-lists the globals
register_checkpoint_safe_globals()
