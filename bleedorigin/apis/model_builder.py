"""Build the detector and the tracker of the pipeline from configs and checkpoints."""
import copy
import os.path as osp
from typing import Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from torch import nn

from bleedorigin.registry import MODELS
from bleedorigin.utils.checkpoint import load_state_dict_checked
from bleedorigin.utils.model_zoo import resolve_checkpoint

from .protocols import (
    DETECTOR_MEMBERS,
    ONSET_STEP_MEMBERS,
    TRACK_STEP_MEMBERS,
    TRACKER_MEMBERS,
    missing_members,
)

# Older names of the streaming protocols' members (``protocols.StreamingDetector`` /
# ``StreamingTracker``); pass ``'detector'`` / ``'tracker'`` to the builders instead.
DETECTOR_METHODS = DETECTOR_MEMBERS
TRACKER_METHODS = TRACKER_MEMBERS
# A role accepts either a stateless model with the online step or a streaming object.
ROLES = dict(detector=(ONSET_STEP_MEMBERS, DETECTOR_MEMBERS),
             tracker=(TRACK_STEP_MEMBERS, ('init', 'step')))


def require_methods(model: nn.Module, methods: Union[str, Sequence[str]], origin: str) -> None:
    """Refuse a model that cannot play a role of the pipeline (contract 6).

    Args:
        model: The model.
        methods (str | Sequence[str]): ``'detector'`` or ``'tracker'`` (either interface
            of :data:`ROLES` will do), or the method names required.
        origin (str): Config or caller named in the error.

    Raises:
        TypeError: naming the config and the missing methods.
    """
    alternatives: Tuple[Sequence[str], ...] = ROLES[methods] if isinstance(
        methods, str) else (tuple(methods), )
    missing = [missing_members(model, names) for names in alternatives]
    if all(missing):
        wanted = ' or '.join(', '.join(names) for names in alternatives)
        raise TypeError(f'{origin}: model {type(model).__name__} has no streaming method(s) '
                        f'{", ".join(missing[0])}; the pipeline needs {wanted}')


def load_weights(model: nn.Module, checkpoint: str, origin: str) -> None:
    """Load a checkpoint (mmengine format or a plain state_dict) into ``model``.

    Uses :func:`bleedorigin.utils.checkpoint.load_state_dict_checked`
    (``weights_only``; every failure is one line naming the file).

    Raises:
        CheckpointNotFoundError: if the file does not exist (a ``FileNotFoundError``).
        CheckpointError: if it cannot be loaded or its weights do not fit the
            model built from ``origin`` (a ``ValueError``).
    """
    # parts loaded from their own file at build (a detector's onset refiner) may be absent
    result = load_state_dict_checked(model, checkpoint, origin=origin,
                                     allow_missing=tuple(getattr(model, 'weights_elsewhere', ())))
    if result['unexpected']:
        print_log(f'{checkpoint}: ignored {len(result["unexpected"])} unexpected keys, e.g. '
                  f'{result["unexpected"][:3]}', logger='current', level=30)


def build_stream_model(config: Union[str, Config], checkpoint: Optional[str],
                       methods: Union[str, Sequence[str]], device: Union[str, torch.device] = 'cpu',
                       cfg_options: Optional[dict] = None) -> nn.Module:
    """Build ``cfg.model`` of a config, load its weights and check its interface.

    Args:
        config (str | Config): Config file (or object) whose ``model`` is the
            detector or the tracker.
        checkpoint (str | None): Weights: a file or the name of a shipped
            checkpoint (``'detect'``, ``'track'``; sha256-checked, see
            :mod:`bleedorigin.utils.model_zoo`). ``None`` keeps the random
            initialisation (for smoke tests and speed measurements only, a
            warning says so).
        methods (str | Sequence[str]): ``'detector'`` or ``'tracker'`` (see
            :func:`require_methods`), or the method names the model must have.
        device: Device to run on. Defaults to ``'cpu'``.
        cfg_options (dict, optional): Overrides merged into the config first (the
            ``--cfg-options`` of a tool, e.g. ``{'model.onset_views': ()}``).

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
    elif cfg_options:
        config = copy.deepcopy(config)  # the caller's config stays as it was
    if cfg_options:
        config.merge_from_dict(cfg_options)
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


def build_stream_detector(config: Union[str, Config], checkpoint: Optional[str],
                          device: Union[str, torch.device] = 'cpu'):
    """:func:`build_stream_model` of a detector config, ready to stream: a
    :class:`~bleedorigin.apis.StreamDetector` around a stateless model, or the model
    itself when it keeps its own stream."""
    from .stream_detector import as_stream_detector
    return as_stream_detector(build_stream_model(config, checkpoint, 'detector', device),
                              str(config))


def build_stream_tracker(config: Union[str, Config], checkpoint: Optional[str],
                         device: Union[str, torch.device] = 'cpu', refresh_policy='model'):
    """:func:`build_stream_model` of a tracker config in a
    :class:`~bleedorigin.apis.StreamTracker`.

    Args:
        refresh_policy: See :class:`~bleedorigin.apis.StreamTracker`; the default
            ``'model'`` refreshes every ``refresh_interval`` frames of the config (as the
            model's offline evaluation does), ``None`` never.
    """
    from .stream_tracker import StreamTracker
    return StreamTracker(build_stream_model(config, checkpoint, 'tracker', device),
                         refresh_policy)
