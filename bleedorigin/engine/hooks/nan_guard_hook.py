"""Stop training as soon as a loss becomes NaN or infinite."""
import math
from typing import Optional

import torch
from mmengine.hooks import Hook

from bleedorigin.registry import HOOKS


class NonFiniteLossError(RuntimeError):
    """A training loss is NaN or infinite."""


@HOOKS.register_module()
class NaNGuardHook(Hook):
    """Raise :class:`NonFiniteLossError` naming the iteration and the loss terms.

    Checks the outputs of every training iteration (the parsed losses that
    ``train_step`` returns) and stops the run before a NaN reaches the weights
    of the next step or a checkpoint.

    Args:
        check_interval (int): Check every n iterations. Defaults to 1.
    """

    priority = 'VERY_HIGH'

    def __init__(self, check_interval: int = 1) -> None:
        if check_interval < 1:
            raise ValueError(f'NaNGuardHook: check_interval must be >= 1, got {check_interval}')
        self.check_interval = check_interval

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs or not self.every_n_train_iters(runner, self.check_interval):
            return
        bad = []
        for name, value in outputs.items():
            number = float(value.detach().float().mean()) if isinstance(
                value, torch.Tensor) else float(value)
            if not math.isfinite(number):
                bad.append(f'{name}={number}')
        if bad:
            raise NonFiniteLossError(
                f'NaNGuardHook: non-finite loss at iteration {runner.iter + 1} '
                f'(epoch {runner.epoch}): {", ".join(bad)}; lower the learning rate or check '
                f'the inputs of this batch')
