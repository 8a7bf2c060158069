"""Checkpoints load with weights_only=True: mmengine resume works, other globals are refused."""
import os
import pickle

import pytest
import torch
from mmengine.runner import Runner
from tiny_runner import build_runner

from bleedorigin.utils import load_checkpoint_safely


def _runner(work_dir, max_epochs, resume=False):
    # mmengine's own Runner (not ours): its resume must work with weights_only=True
    return build_runner(work_dir, max_epochs, resume=resume, name='ckpt_test', runner_cls=Runner)


def test_runner_checkpoint_resumes_with_weights_only(tmp_path):
    _runner(tmp_path, max_epochs=1).train()
    ckpt = tmp_path / 'epoch_1.pth'
    assert ckpt.is_file()
    # mmengine's message hub pickles HistoryBuffer objects holding numpy arrays.
    state = load_checkpoint_safely(str(ckpt))
    assert state['meta']['epoch'] == 1
    assert 'message_hub' in state and 'optimizer' in state

    runner = _runner(tmp_path, max_epochs=2, resume=True)
    runner.train()
    assert runner.epoch == 2
    assert (tmp_path / 'epoch_2.pth').is_file()
    resumed = load_checkpoint_safely(str(tmp_path / 'epoch_2.pth'))
    assert resumed['meta']['epoch'] == 2


class _Exploit:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_arbitrary_global_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _Exploit()}, str(path))
    with pytest.raises(pickle.UnpicklingError, match='evil.pth'):
        load_checkpoint_safely(str(path))
    # The plain torch.load default of torch >= 2.6 refuses it too.
    with pytest.raises(pickle.UnpicklingError):
        torch.load(str(path))
