"""A tiny mmengine training run (a linear regressor) for the checkpoint tests (test_utils,
test_robustness): one copy, importable from every test folder (tests/ is on sys.path)."""
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from torch.utils.data import Dataset


class LinearRegressor(BaseModel):
    def __init__(self, width=2):
        super().__init__()
        self.linear = nn.Linear(width, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        pred = self.linear(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        if mode == 'loss':
            targets = torch.stack(targets) if isinstance(targets, list) else targets
            return dict(loss=((pred - targets) ** 2).mean())
        return pred


class PairDataset(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, idx):
        x = torch.tensor([idx / 8.0, 1.0])
        return dict(inputs=x, targets=x.sum(dim=0, keepdim=True))


def build_runner(work_dir, max_epochs, resume=False, load_from=None, name='robust',
                 model=None, runner_cls=None, log_level='WARNING'):
    from bleedorigin.engine import BleedOriginRunner

    runner_cls = runner_cls or BleedOriginRunner
    return runner_cls(
        model=model or LinearRegressor(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=PairDataset(), sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4, num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        resume=resume,
        load_from=load_from,
        default_scope='bleedorigin',
        experiment_name=f'{name}_{max_epochs}_{int(resume)}_{id(work_dir)}',
        log_level=log_level,
    )
