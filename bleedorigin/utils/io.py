"""Atomic file writes: the one place that knows "temporary file + ``os.replace``".

A crash (or a second process racing on the same cache file) never leaves a
half-written file under the final name: the data goes to a unique temporary
file in the destination folder, which is renamed over the final name only once
it is complete, and removed if writing fails.
"""
import contextlib
import json
import os
import os.path as osp
import tempfile
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_output(path: str, suffix: str = '.tmp', make_dirs: bool = False) -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    Args:
        path (str): The final file.
        suffix (str): Suffix of the temporary file. Writers that append their
            own extension (``np.save`` -> ``.npy``, ``np.savez`` -> ``.npz``)
            need it to be that extension. Defaults to ``'.tmp'``.
        make_dirs (bool): Create the destination folder if missing.
            Defaults to False (the folder must exist).

    Yields:
        str: Temporary file path (already created, empty) to write to.
    """
    folder = osp.dirname(osp.abspath(path))
    if make_dirs:
        os.makedirs(folder, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix=suffix,
                                    dir=folder)
    os.close(fd)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp_path)
        raise


def write_json_atomic(path: str, obj: Any, indent: int = 1, sort_keys: bool = False,
                      ensure_ascii: bool = True, make_dirs: bool = False) -> None:
    """Write ``obj`` as JSON (with a final newline) to ``path`` atomically.

    Args:
        path (str): Destination file.
        obj: Any JSON-serialisable object.
        indent (int): ``json.dump`` indent. Defaults to 1.
        sort_keys (bool): ``json.dump`` sort_keys. Defaults to False.
        ensure_ascii (bool): ``json.dump`` ensure_ascii. Defaults to True.
        make_dirs (bool): Create the destination folder if missing.
            Defaults to False.
    """
    with atomic_output(path, suffix='.json', make_dirs=make_dirs) as tmp_path:
        with open(tmp_path, 'w', encoding='utf-8') as f:
            json.dump(obj, f, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
            f.write('\n')
