"""Run ultralytics without any network access.

ultralytics downloads things on its own in several places: the AMP check
fetches ``yolo26n.pt``/``yolo11n.pt``, dataset checks and plots fetch
``Arial.ttf``, weight names that are not local files are fetched from GitHub
releases, dataset yamls may carry a ``download:`` URL, and the settings enable
anonymous usage events (``sync``) and several logging integrations. This module
switches all of that off before ultralytics is used:

- ``YOLO_OFFLINE=1`` (ultralytics then reports itself offline) and a
  project-local ``YOLO_CONFIG_DIR`` (its settings file and font cache), set
  before the first ``import ultralytics``;
- settings ``sync`` and every integration (clearml, comet, dvc, mlflow,
  raytune, tensorboard, wandb) off;
- the download functions (``safe_download``, ``download``,
  ``attempt_download_asset``, ``check_font``, ``is_online``) replaced in every
  loaded ultralytics module by local-only versions: a local file is returned,
  anything else raises :class:`OfflineDownloadError` naming the file.

Training itself must also pass ``amp=False`` and ``plots=False``
(:data:`OFFLINE_TRAIN_ARGS`).
"""
import os
import os.path as osp
import sys
from pathlib import Path

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
DEFAULT_CONFIG_DIR = osp.join(REPO_ROOT, 'work_dirs', 'yolo_baselines', 'ultralytics_settings')

# Keyword arguments every offline ``YOLO.train`` call needs: the AMP check
# downloads a checkpoint and plotting downloads a font.
OFFLINE_TRAIN_ARGS = {'amp': False, 'plots': False}

_INTEGRATIONS = ('clearml', 'comet', 'dvc', 'mlflow', 'raytune', 'tensorboard', 'wandb')
_PATCHED = False


class OfflineDownloadError(RuntimeError):
    """ultralytics tried to fetch something that is not on this machine."""


def _refuse_download(*args, **kwargs):
    target = kwargs.get('url') or kwargs.get('file') or (args[0] if args else '?')
    raise OfflineDownloadError(
        f'{target}: ultralytics tried to download this file, but bleedorigin runs it offline. '
        'Use a model yaml (e.g. yolo11n.yaml) or the path of a local .pt file.')


def _local_asset_only(file, *args, **kwargs) -> str:
    """``attempt_download_asset`` that only ever resolves local files."""
    if Path(str(file)).is_file():
        return str(file)
    _refuse_download(url=str(file))


def _local_font(font='Arial.ttf'):
    """``check_font`` without the download: the config-dir copy or matplotlib's DejaVu Sans."""
    from matplotlib import font_manager

    local = Path(os.environ.get('YOLO_CONFIG_DIR', DEFAULT_CONFIG_DIR)) / 'Ultralytics' / Path(
        str(font)).name
    if local.is_file():
        return local
    return font_manager.findfont('DejaVu Sans')


def _offline() -> bool:
    return False


def configure_offline_environment(config_dir: str = None) -> str:
    """Set ``YOLO_OFFLINE`` and ``YOLO_CONFIG_DIR`` (kept if the user set them).

    Must run before ``ultralytics`` is imported to take full effect.

    Returns:
        str: The ultralytics config directory in use.
    """
    os.environ['YOLO_OFFLINE'] = '1'
    config_dir = os.environ.setdefault('YOLO_CONFIG_DIR', config_dir or DEFAULT_CONFIG_DIR)
    os.makedirs(config_dir, exist_ok=True)
    return config_dir


def block_downloads() -> None:
    """Replace the download helpers in every loaded ultralytics module."""
    from ultralytics.utils import checks, downloads

    originals = {
        'safe_download': (downloads.safe_download, _refuse_download),
        'download': (downloads.download, _refuse_download),
        'attempt_download_asset': (downloads.attempt_download_asset, _local_asset_only),
        'check_font': (checks.check_font, _local_font),
        'is_online': (downloads.is_online, _offline),
    }
    for name, module in list(sys.modules.items()):
        if module is None or not (name == 'ultralytics' or name.startswith('ultralytics.')):
            continue
        for attr, (original, replacement) in originals.items():
            if getattr(module, attr, None) is original:
                setattr(module, attr, replacement)


def import_ultralytics(config_dir: str = None):
    """Import ultralytics configured for offline use (idempotent).

    Returns:
        module: The ``ultralytics`` package.
    """
    global _PATCHED
    configure_offline_environment(config_dir)
    import ultralytics
    from ultralytics.utils import SETTINGS

    wanted = {'sync': False, **{k: False for k in _INTEGRATIONS if k in SETTINGS}}
    if any(SETTINGS.get(k) != v for k, v in wanted.items()):
        SETTINGS.update(wanted)
    # Import the modules that bind download helpers by name, then patch them all.
    import ultralytics.data.utils  # noqa: F401
    import ultralytics.engine.trainer  # noqa: F401
    import ultralytics.nn.tasks  # noqa: F401
    block_downloads()
    _PATCHED = True
    return ultralytics
