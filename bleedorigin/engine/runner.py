"""mmengine's Runner with the project's checkpoint I/O (``bleedorigin.utils.checkpoint``).

Three differences from :class:`mmengine.runner.Runner`, all about checkpoints:

- ``load_from``, ``--resume FILE`` and ``tools/test.py CHECKPOINT`` load
  through :func:`~bleedorigin.utils.checkpoint.load_checkpoint_safely`
  (``weights_only=True``, the allow-list) and check that the weights belong to
  the model, so every failure is one :class:`CheckpointError` line naming the
  file instead of a torch traceback or a silently random model;
- auto-resume (``--resume`` without a file) takes the newest checkpoint of the
  work dir that loads completely, and logs every newer one it skipped and why
  (a checkpoint truncated by a power cut no longer ends the run); with none, a
  fine-tuning run starts from ``cfg.auto_resume_load_from`` (``tools/train.py
  --resume`` moves the config's ``load_from`` there);
- checkpoints are written atomically (temporary file + ``os.replace``).
"""
import os
import os.path as osp
from typing import Any, Callable, Union

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from bleedorigin.registry import RUNNERS
from bleedorigin.utils.checkpoint import (
    CheckpointError,
    check_state_dict_fits,
    find_intact_checkpoint,
    load_checkpoint_safely,
    state_dict_of,
)

RESUME_KEYS = ('meta', 'state_dict', 'message_hub')


def check_resumable(checkpoint: Any, filename: str) -> None:
    """Raise :class:`CheckpointError` unless ``checkpoint`` is a full training checkpoint."""
    if not isinstance(checkpoint, dict):
        raise CheckpointError(filename, f'holds a {type(checkpoint).__name__}, not a training '
                              'checkpoint')
    missing = [k for k in RESUME_KEYS if k not in checkpoint]
    meta = checkpoint.get('meta')
    if not missing and not (isinstance(meta, dict) and 'epoch' in meta and 'iter' in meta):
        missing = ['meta.epoch/iter']
    if missing:
        raise CheckpointError(filename, f'cannot resume from it: {", ".join(missing)} missing '
                              '(weights only? use load_from to fine-tune from it)')


@RUNNERS.register_module()
class BleedOriginRunner(Runner):
    """A :class:`~mmengine.runner.Runner` whose checkpoints load safely and save atomically.

    Build it like the Runner (``BleedOriginRunner.from_cfg(cfg)``, or
    ``runner_type='BleedOriginRunner'`` in a config). ``tools/train.py`` and
    ``tools/test.py`` use it.
    """

    #: ``load_from`` may lack weights of the model (fine-tuning a larger model
    #: from a smaller one; they are logged). ``tools/test.py`` sets False: a
    #: model evaluated with some random weights would be a silent wrong result.
    allow_missing_weights = True
    _resuming = False
    _preloaded = None  # (path, checkpoint) found intact by auto-resume, loaded once

    def load_or_resume(self) -> None:
        """As mmengine's, but auto-resume skips checkpoints that do not load."""
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        path, checkpoint, skipped = find_intact_checkpoint(
            self.work_dir, map_location='cpu', validate=check_resumable)
        for bad, reason in skipped:
            self.logger.warning(f'auto-resume: skipping {bad}: {reason}')
        if path is None:
            log = self.logger.warning if skipped else self.logger.info
            start = (self.cfg or {}).get('auto_resume_load_from')
            if start:  # a fine-tuning run's first start: its load_from weights
                log(f'auto-resume: no intact checkpoint in {self.work_dir}; loading the '
                    f'weights of {start} (load_from)')
                self.load_checkpoint(start)
                self._has_loaded = True
                return None
            log(f'auto-resume: no intact checkpoint in {self.work_dir}; training from the start')
            return None
        if skipped:
            self.logger.warning(f'auto-resume: fell back to {path}, the newest intact '
                                f'checkpoint ({len(skipped)} newer one(s) skipped)')
        else:
            self.logger.info(f'Auto resumed from the latest checkpoint {path}.')
        self._preloaded = (path, checkpoint)
        try:
            self.resume(path)
        finally:
            self._preloaded = None
        self._has_loaded = True

    def resume(self, filename: str, resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        self._resuming = True
        try:
            super().resume(filename, resume_optimizer=resume_optimizer,
                           resume_param_scheduler=resume_param_scheduler,
                           map_location=map_location)
        finally:
            self._resuming = False

    def load_checkpoint(self, filename: str, map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False, revise_keys: list = [(r'^module.', '')]):  # noqa: B006
        """Load ``filename`` into the model; every failure is one :class:`CheckpointError`.

        Weights the model has and the checkpoint lacks are allowed unless
        resuming (``load_from`` fine-tunes e.g. the tracker with LoRA/MDG
        parameters from the pretrained one) and logged; a checkpoint sharing
        no weight with the model or with weights of other shapes is refused.
        """
        filename = os.fspath(filename)
        if self._preloaded is not None and self._preloaded[0] == filename:
            checkpoint = self._preloaded[1]
        else:
            checkpoint = load_checkpoint_safely(filename, map_location=map_location)
        if self._resuming:
            check_resumable(checkpoint, filename)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        if not self._resuming:
            self._fill_weights_elsewhere(model, checkpoint, filename)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        allow_missing = self.allow_missing_weights and not (strict or self._resuming)
        fit = check_state_dict_fits(model, state_dict_of(checkpoint, filename), filename,
                                    origin=osp.basename(self.cfg.filename or '') or None,
                                    allow_missing=allow_missing)
        if fit['missing']:
            self.logger.warning(f'{filename}: {len(fit["missing"])} weights of the model are '
                                f'not in the checkpoint and keep their initial values, e.g. '
                                f'{fit["missing"][:3]}')
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def _fill_weights_elsewhere(self, model, checkpoint: Any, filename: str) -> None:
        """Hand the weights of a part that loaded its own file at build (a detector's onset
        refiner, ``model.weights_elsewhere``) to a checkpoint that lacks them, so that the
        model, the EMA copy and mmengine's loader keep them without reporting them missing."""
        elsewhere = tuple(getattr(model, 'weights_elsewhere', ()))
        target = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else None
        if not elsewhere or not isinstance(target, dict):
            return
        current = model.state_dict()
        filled = [k for k in current if k.startswith(elsewhere) and k not in target
                  and f'module.{k}' not in target]
        for key in filled:
            target[key] = current[key]
        if filled:
            self.logger.info(f'{filename}: {len(filled)} weights ({", ".join(elsewhere)}) come '
                             'from their own checkpoint')

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs):
        """As mmengine's, but written to a temporary file and renamed into place."""
        if '://' in str(out_dir):  # a remote backend: mmengine's own writer
            return super().save_checkpoint(out_dir, filename, *args, **kwargs)
        tmp_name = f'.tmp-{os.getpid()}-{filename}'
        tmp_path, final = osp.join(out_dir, tmp_name), osp.join(out_dir, filename)
        try:
            super().save_checkpoint(out_dir, tmp_name, *args, **kwargs)
            if osp.exists(tmp_path):  # only the master rank writes
                with open(tmp_path, 'rb') as f:
                    os.fsync(f.fileno())
                os.replace(tmp_path, final)
        finally:
            if osp.exists(tmp_path):
                os.remove(tmp_path)
