"""Checkpoints load with weights_only=True: mmengine resume works, other globals are refused."""
import os
import pickle

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from bleedorigin.utils import load_checkpoint_safely


class _LinearRegressor(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        pred = self.linear(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        if mode == 'loss':
            targets = torch.stack(targets) if isinstance(targets, list) else targets
            return dict(loss=((pred - targets) ** 2).mean())
        return pred


class _PairDataset(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, idx):
        x = torch.tensor([idx / 8.0, 1.0])
        return dict(inputs=x, targets=x.sum(dim=0, keepdim=True))


def _runner(work_dir, max_epochs, resume=False):
    return Runner(
        model=_LinearRegressor(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_PairDataset(), sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4, num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        resume=resume,
        default_scope='bleedorigin',
        experiment_name=f'ckpt_test_{max_epochs}_{int(resume)}',
    )


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
