"""Build the detector and the tracker of the pipeline from configs and checkpoints."""
import os.path as osp
from typing import Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from torch import nn

from bleedorigin.registry import MODELS
from bleedorigin.utils.checkpoint import load_state_dict_checked
from bleedorigin.utils.model_zoo import resolve_checkpoint

DETECTOR_METHODS = ('reset_stream', 'stream_step', 'locate_source')
TRACKER_METHODS = ('init', 'step', 'add_points', 'refresh')


def require_methods(model: nn.Module, methods: Sequence[str], origin: str) -> None:
    """Refuse a model that lacks the streaming interface (contract 6).

    Raises:
        TypeError: naming the config and the missing methods.
    """
    missing = [name for name in methods if not callable(getattr(model, name, None))]
    if missing:
        raise TypeError(f'{origin}: model {type(model).__name__} has no streaming method(s) '
                        f'{", ".join(missing)}; the pipeline needs {", ".join(methods)}')


def load_weights(model: nn.Module, checkpoint: str, origin: str) -> None:
    """Load a checkpoint (mmengine format or a plain state_dict) into ``model``.

    Uses :func:`bleedorigin.utils.checkpoint.load_state_dict_checked`
    (``weights_only``; every failure is one line naming the file).

    Raises:
        CheckpointNotFoundError: if the file does not exist (a ``FileNotFoundError``).
        CheckpointError: if it cannot be loaded or its weights do not fit the
            model built from ``origin`` (a ``ValueError``).
    """
    result = load_state_dict_checked(model, checkpoint, origin=origin, allow_missing=False)
    if result['unexpected']:
        print_log(f'{checkpoint}: ignored {len(result["unexpected"])} unexpected keys, e.g. '
                  f'{result["unexpected"][:3]}', logger='current', level=30)


def build_stream_model(config: Union[str, Config], checkpoint: Optional[str],
                       methods: Sequence[str], device: Union[str, torch.device] = 'cpu'
                       ) -> nn.Module:
    """Build ``cfg.model`` of a config, load its weights and check its interface.

    Args:
        config (str | Config): Config file (or object) whose ``model`` is the
            detector or the tracker.
        checkpoint (str | None): Weights: a file or the name of a shipped
            checkpoint (``'detect'``, ``'track'``; sha256-checked, see
            :mod:`bleedorigin.utils.model_zoo`). ``None`` keeps the random
            initialisation (for smoke tests and speed measurements only, a
            warning says so).
        methods (Sequence[str]): Streaming methods the model must have.
        device: Device to run on. Defaults to ``'cpu'``.

    Returns:
        nn.Module: The model in eval mode.
    """
    from bleedorigin.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    origin = config if isinstance(config, str) else getattr(config, 'filename', '<config>')
    if isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'{config}: config file not found')
        config = Config.fromfile(config)
    if 'model' not in config:
        raise KeyError(f'{origin}: config has no "model" field')
    checkpoint = resolve_checkpoint(checkpoint)
    model = MODELS.build(config.model)
    require_methods(model, methods, origin)
    if checkpoint:
        load_weights(model, checkpoint, origin)
    else:
        print_log(f'{origin}: no checkpoint given, the model keeps its random weights '
                  '(outputs are meaningless; use this only for smoke tests and speed)',
                  logger='current', level=30)
    return model.to(device).eval()
