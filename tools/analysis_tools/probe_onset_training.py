"""Probe the training dynamics of the onset branch (issue 11: "the window confidence
does not learn in some runs").

Runs the detector's own loss on the config's training data (optionally a few clips
only, to overfit) with the config's optimiser settings, and logs every ``--interval``
iterations: the onset losses, the share of positive windows, the share of windows with
S_conf > 0.5 (positives and negatives apart), the gradient norm reaching the onset head,
the frame projection, MDG and the whole model, and the factor by which gradient
clipping shrank the step.

Example:
    python tools/analysis_tools/probe_onset_training.py configs/bleedorigin/detect.py \
        --iters 200 --clips 16 --threads 1 --seed 0 --out work_dirs/probe/t1_s0.json
"""
import argparse
import json
import os
import os.path as osp
import random
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate  # noqa: F401  (registers the collate funcs)
from mmengine.runner import Runner

from bleedorigin.utils import register_all_modules


def parse_args():
    parser = argparse.ArgumentParser(description='Onset-branch training probe')
    parser.add_argument('config')
    parser.add_argument('--iters', type=int, default=200)
    parser.add_argument('--interval', type=int, default=10)
    parser.add_argument('--clips', type=int, default=0,
                        help='train on the first K training clips only (0: all)')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--onset-only', action='store_true',
                        help='drop the source samples (isolate the onset branch)')
    parser.add_argument('--data-root', help='train on this bench root instead')
    parser.add_argument('--out', help='JSON log of the probe')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args()


def grad_norm(module) -> float:
    grads = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return float(torch.stack(grads).norm()) if grads else 0.0


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    loader_cfg = cfg.train_dataloader
    datasets = loader_cfg.dataset.datasets
    if args.onset_only:
        loader_cfg.dataset = datasets[0]
        datasets = [datasets[0]]
    for dataset in datasets:
        if args.data_root:
            dataset.data_root = args.data_root
    if args.clips:
        for dataset in datasets:
            dataset.indices = args.clips
    loader_cfg.num_workers = 0
    loader_cfg.persistent_workers = False
    loader = Runner.build_dataloader(loader_cfg, seed=args.seed)
    from bleedorigin.registry import MODELS
    model = MODELS.build(cfg.model)
    model.train()
    optim_cfg = cfg.optim_wrapper.optimizer
    optimizer = torch.optim.AdamW(model.parameters(), lr=optim_cfg.lr,
                                  weight_decay=optim_cfg.get('weight_decay', 0.0))
    max_norm = cfg.optim_wrapper.get('clip_grad', {}) or {}
    max_norm = max_norm.get('max_norm')
    captured = {}

    def capture(_module, _inputs, output):
        captured['out'] = [o.detach() for o in output]

    model.onset_head.register_forward_hook(capture)
    orig_loss = model.onset_head.loss

    def loss_with_positions(feats, positions):
        captured['positions'] = positions.detach()
        return orig_loss(feats, positions)

    model.onset_head.loss = loss_with_positions
    log, window, start = [], [], time.time()
    iterator = iter(loader)
    warmup = 20
    for it in range(1, args.iters + 1):
        try:
            batch = next(iterator)
        except StopIteration:
            iterator = iter(loader)
            batch = next(iterator)
        lr = optim_cfg.lr * min(1.0, 0.1 + 0.9 * it / warmup)
        for group in optimizer.param_groups:
            group['lr'] = lr
        data = model.data_preprocessor(batch, True)
        captured.clear()
        losses = model(**data, mode='loss')
        loss = sum(losses.values())
        optimizer.zero_grad()
        loss.backward()
        total = grad_norm(model)
        rec = dict(it=it, loss=float(loss), total_grad=total,
                   onset_head_grad=grad_norm(model.onset_head),
                   frame_proj_grad=grad_norm(model.frame_proj), mdg_grad=grad_norm(model.mdg),
                   source_grad=grad_norm(model.source_head) + grad_norm(model.encoder))
        rec.update({k: float(v) for k, v in losses.items()})
        if 'out' in captured:
            loc, conf_logits = captured['out']
            _, conf = model.onset_head.decode(loc, conf_logits)
            positive = captured['positions'] >= 0
            rec.update(pos_share=float(positive.float().mean()),
                       conf_gt05_pos=float((conf[positive] > 0.5).float().mean())
                       if positive.any() else float('nan'),
                       conf_gt05_neg=float((conf[~positive] > 0.5).float().mean())
                       if (~positive).any() else float('nan'),
                       conf_mean_pos=float(conf[positive].mean()) if positive.any() else
                       float('nan'),
                       conf_mean_neg=float(conf[~positive].mean()) if (~positive).any() else
                       float('nan'))
        if getattr(model, 'branch_clip', None):
            # as BleedOriginDetector.train_step: each branch clipped on its own
            for name, params in model.branch_parameters().items():
                params = [p for p in params if p.grad is not None]
                if params:
                    norm = float(torch.nn.utils.clip_grad_norm_(params, model.branch_clip))
                    rec[f'clip_factor_{name}'] = min(1.0, model.branch_clip / max(norm, 1e-12))
        if max_norm:
            rec['clip_factor'] = min(1.0, max_norm / max(grad_norm(model), 1e-12))
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        window.append(rec)
        if it % args.interval == 0:
            keys = sorted({k for r in window for k in r if k != 'it'})
            mean = {k: float(np.nanmean([r.get(k, np.nan) for r in window])) for k in keys}
            mean['it'] = it
            mean['time_s'] = time.time() - start
            log.append(mean)
            window = []
            print(json.dumps({k: round(v, 4) if isinstance(v, float) else v
                              for k, v in mean.items()}), flush=True)
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(args=vars(args), log=log), f, indent=1)


if __name__ == '__main__':
    main()
