"""One worker thread for streaming work that can run beside the network.

OpenCV (DIS and Lucas-Kanade flow, resizes) and torch both release the GIL, so a
frame's OpenCV work that the network does not read yet runs on the second core while
the network runs on the first (``BleedTrackOn(refiner_thread=True)``,
``BleedOriginDetector(stream_thread='auto')``). Every caller waits for its own results
before its step returns, so streams sharing the worker stay independent and a step's
outputs are those of the serial step.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Optional, Union

_LOCK = threading.Lock()
_POOL: Optional[ThreadPoolExecutor] = None


def side_pool() -> ThreadPoolExecutor:
    """The process's single side worker (created on first use).

    A task submitted to it must never wait for another task of the same worker (one
    worker: that would deadlock); the callers in this package submit only leaf work
    (OpenCV calls on arrays they own).
    """
    global _POOL
    with _LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix='bleedorigin-side')
        return _POOL


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def use_side_thread(setting: Union[bool, str]) -> bool:
    """Whether a step runs its side work in the worker: ``True``/``False`` as given;
    ``'auto'``: when torch runs on fewer threads than the process has cores (a free core
    for the worker; with every core in torch's OpenMP pool the worker only competes
    with it: 9.1 -> 9.5 ms an onset step at two threads on two cores, session 25).

    Raises:
        ValueError: for any other setting.
    """
    if setting == 'auto':
        import torch
        return torch.get_num_threads() < available_cores()
    if isinstance(setting, bool):
        return setting
    raise ValueError(f"side thread setting must be True, False or 'auto', got {setting!r}")
