from types import SimpleNamespace

import pytest
import torch

from bleedorigin.engine.hooks import NaNGuardHook, NonFiniteLossError


def test_nan_guard_names_iteration_and_loss():
    hook = NaNGuardHook()
    runner = SimpleNamespace(iter=41, epoch=0)
    hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(1.0)))
    with pytest.raises(NonFiniteLossError, match=r'iteration 42 .*loss_point=nan'):
        hook.after_train_iter(runner, 0, outputs=dict(loss=torch.tensor(1.0),
                                                     loss_point=torch.tensor(float('nan'))))
    with pytest.raises(ValueError, match='check_interval'):
        NaNGuardHook(check_interval=0)
