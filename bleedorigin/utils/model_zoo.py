"""Shipped checkpoints (the model zoo): manifest, sha256 checks, name resolution.

The repository ships weights-only checkpoints under ``checkpoints/`` with a
manifest ``checkpoints/manifest.json``::

    {"models": {"detect": {"config": "configs/bleedorigin/detect.py",
                           "file": "checkpoints/detect.pth", "sha256": "...",
                           "size": 123456, "log": "checkpoints/logs/detect.scalars.json",
                           "command": "python tools/train.py ...", "training_time": "...",
                           "metrics": {"onset/acc_8": 78.3, ...}}}}

Paths in the manifest are relative to the repository root (the folder that
holds ``checkpoints/``). ``tools/model_converters/publish_model.py`` writes the
entries; :func:`get_checkpoint` returns a verified path and
:func:`resolve_checkpoint` lets every tool accept either a file or a shipped
model name (``detect``, ``track``). Loading itself always goes through
:func:`bleedorigin.utils.checkpoint.load_checkpoint_safely` (``weights_only``).
"""
import hashlib
import json
import os
import os.path as osp
import re
from typing import Dict, Optional

from .io import write_json_atomic as _write_json_atomic

MANIFEST_NAME = 'manifest.json'
ZOO_DIR_NAME = 'checkpoints'
# Shipped names of the default models of tools/demo.py, BleedOriginNet.from_config and
# tools/benchmark.py.
DEFAULT_DETECT = 'detect'
DEFAULT_TRACK = 'track'
# Metrics quoted in docs/model_zoo.md and compared by tools/reproduce.sh (Tables 3, 4, 7).
ZOO_METRICS = (
    ('onset/acc_0', 'Acc±0 %'),
    ('onset/acc_8', 'Acc±8 %'),
    ('onset/false_alarm_rate', 'false alarm %'),
    ('source/err_le_10', 'source Err≤10 %'),
    ('track/err_le_10', 'track Err≤10 %'),
    ('track/err_le_100', 'track Err≤100 %'),
    ('track/err_avg', 'track Err_avg px'),
    ('track_dense/delta_avg', 'δ_avg %'),
    ('refine/acc_0', 'refiner windows exact %'),
    ('refine/select_err', 'refiner windows error (frames)'),
)
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')
_NO_CHECKPOINT = ('none', '')


class ModelZooError(OSError):
    """A shipped checkpoint is unknown, missing or does not match its sha256."""


def repo_root() -> str:
    """The repository root (parent of the ``bleedorigin`` package)."""
    return osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def zoo_dir(root: Optional[str] = None) -> str:
    """Folder of the shipped checkpoints: ``root``, ``$BLEEDORIGIN_CHECKPOINTS`` or
    ``<repo>/checkpoints``."""
    return osp.abspath(root or os.environ.get('BLEEDORIGIN_CHECKPOINTS')
                       or osp.join(repo_root(), ZOO_DIR_NAME))


def manifest_path(root: Optional[str] = None) -> str:
    return osp.join(zoo_dir(root), MANIFEST_NAME)


def load_manifest(root: Optional[str] = None) -> Dict[str, dict]:
    """Entries of the manifest by name (empty if the manifest does not exist).

    Raises:
        ModelZooError: if the manifest is not valid JSON or lacks ``models``.
    """
    path = manifest_path(root)
    if not osp.isfile(path):
        return {}
    try:
        with open(path) as f:
            data = json.load(f)
    except json.JSONDecodeError as err:
        raise ModelZooError(f'{path}: not valid JSON ({err})') from err
    if not isinstance(data, dict) or not isinstance(data.get('models'), dict):
        raise ModelZooError(f'{path}: field "models" (an object of entries) is missing')
    return data['models']


def write_json_atomic(path: str, data) -> None:
    """The manifest's JSON style (indent 2, sorted keys, UTF-8) through :mod:`.io`."""
    _write_json_atomic(path, data, indent=2, sort_keys=True, ensure_ascii=False,
                       make_dirs=True)


def update_manifest(name: str, entry: dict, root: Optional[str] = None) -> str:
    """Add or replace the entry ``name`` of the manifest (atomically); returns its path."""
    if not _NAME.match(name):
        raise ValueError(f'model name {name!r}: use letters, digits, "_", "-" and "."')
    models = dict(load_manifest(root))
    models[name] = entry
    path = manifest_path(root)
    write_json_atomic(path, {'models': dict(sorted(models.items()))})
    return path


def sha256sum(path: str, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def entry_path(entry: dict, root: Optional[str] = None) -> str:
    """Absolute path of an entry's ``file`` (relative to the folder above the zoo)."""
    return osp.join(osp.dirname(zoo_dir(root)), entry['file'])


def get_checkpoint(name: str, root: Optional[str] = None, verify: bool = True) -> str:
    """Path of the shipped checkpoint ``name``, checked against its sha256.

    Args:
        name (str): Manifest name, e.g. ``'detect'`` or ``'track'``.
        root (str | None): Zoo folder; see :func:`zoo_dir`.
        verify (bool): Compare the file's sha256 with the manifest. Defaults
            to True.

    Raises:
        ModelZooError: if ``name`` is not shipped, its file is missing or its
            sha256 differs from the manifest (one message naming the file, the
            expected and the actual sha256).
    """
    models = load_manifest(root)
    if name not in models:
        shipped = ', '.join(sorted(models)) or 'none yet'
        flag = name.split('_')[0]  # detect_stage1 is given as --detect, as before
        raise ModelZooError(
            f'no shipped checkpoint named {name!r} in {manifest_path(root)} (shipped: '
            f'{shipped}); train one (bash tools/reproduce.sh, see docs/model_zoo.md) and pass '
            f'its file, e.g. ' + (f'--{flag} work_dirs/{name}/CHECKPOINT.pth'
                                  if flag in ('detect', 'track') else
                                  f'work_dirs/{name}/CHECKPOINT.pth where the config names '
                                  f'{name!r}'))
    entry = models[name]
    for field in ('file', 'sha256'):
        if not entry.get(field):
            raise ModelZooError(f'{manifest_path(root)}: entry {name!r} has no "{field}"')
    path = entry_path(entry, root)
    if not osp.isfile(path):
        raise ModelZooError(f'{path}: shipped checkpoint {name!r} is missing (expected sha256 '
                            f'{entry["sha256"]}); restore it with `git checkout -- '
                            f'{entry["file"]}` or retrain it (docs/model_zoo.md)')
    if verify:
        actual = sha256sum(path)
        if actual != entry['sha256']:
            raise ModelZooError(
                f'{path}: sha256 mismatch for shipped checkpoint {name!r}: expected '
                f'{entry["sha256"]}, got {actual}; the file is corrupted or was replaced. '
                f'Restore it with `git checkout -- {entry["file"]}` or republish it with '
                'tools/model_converters/publish_model.py')
    return path


def is_zoo_name(value: str) -> bool:
    """Whether ``value`` names a shipped model rather than a file path."""
    return (bool(_NAME.match(value)) and not value.endswith(('.pth', '.pt'))
            and not osp.exists(value))


def resolve_checkpoint(value: Optional[str], root: Optional[str] = None) -> Optional[str]:
    """A checkpoint argument -> a file path.

    ``None`` stays ``None`` (the caller asked for random weights explicitly),
    an existing path is returned as is, anything that looks like a model name
    (no folder, no ``.pth``) goes through :func:`get_checkpoint`.
    """
    if value is None:
        return None
    value = str(value)
    if is_zoo_name(value):
        return get_checkpoint(value, root)
    return value


def checkpoint_arg(value: str) -> Optional[str]:
    """argparse ``type`` for checkpoint flags: ``none`` (or empty) means "not given"."""
    return None if value.strip().lower() in _NO_CHECKPOINT else value


def load_zoo_checkpoint(name: str, root: Optional[str] = None, map_location='cpu') -> dict:
    """Verify and load a shipped checkpoint with ``weights_only=True``."""
    from .checkpoint import load_checkpoint_safely
    return load_checkpoint_safely(get_checkpoint(name, root), map_location=map_location)


def find_checkpoint(work_dir: str) -> str:
    """The checkpoint a training run in ``work_dir`` ends with, for testing and publishing.

    The best-on-validation checkpoint (``best_*.pth``, e.g.
    ``best_onset_acc_8_iter_1200.pth``; the highest iteration if several) if
    the config saves one, else the file named in mmengine's ``last_checkpoint``,
    else the highest ``iter_*.pth``.

    Raises:
        FileNotFoundError: naming ``work_dir`` if it holds no checkpoint.
    """
    import glob

    def iteration(path: str) -> int:
        match = re.search(r'iter_(\d+)\.pth$', path)
        return int(match.group(1)) if match else -1

    best = glob.glob(osp.join(work_dir, 'best_*.pth'))
    if best:
        return max(best, key=lambda p: (iteration(p), osp.getmtime(p)))
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            path = f.read().strip()
        for candidate in (path, osp.join(work_dir, osp.basename(path))):
            if candidate and osp.isfile(candidate):
                return candidate
    iters = glob.glob(osp.join(work_dir, 'iter_*.pth'))
    if iters:
        return max(iters, key=iteration)
    raise FileNotFoundError(f'{work_dir}: no checkpoint (best_*.pth, last_checkpoint or '
                            'iter_*.pth); did the training run finish?')


def shipped_config(value: Optional[str], root: Optional[str] = None) -> Optional[str]:
    """Config file a shipped model was trained with, if ``value`` names one; else None."""
    if value is None or not is_zoo_name(str(value)):
        return None
    entry = load_manifest(root).get(str(value))
    if not entry or not entry.get('config'):
        return None
    config = entry['config']  # configs live in the repository, wherever the zoo folder is
    return config if osp.isabs(config) else osp.join(repo_root(), config)


def _value(value) -> str:
    if value is None:
        return '–'
    return f'{value:.2f}' if isinstance(value, float) else str(value)


def compare_table(results: dict, models: dict) -> str:
    """Markdown: one row per (model, key metric) with the zoo and the reproduced figure."""
    lines = ['| model | metric | zoo | reproduced | Δ |', '|---|---|---|---|---|']
    for name, metrics in results.items():
        shipped = models.get(name, {}).get('metrics', {})
        for key, label in ZOO_METRICS:
            if key not in metrics and key not in shipped:
                continue
            old, new = shipped.get(key), metrics.get(key)
            delta = (f'{new - old:+.2f}' if isinstance(old, (int, float))
                     and isinstance(new, (int, float)) else '–')
            lines.append(f'| {name} | {label} | {_value(old)} | {_value(new)} | {delta} |')
    return '\n'.join(lines)
