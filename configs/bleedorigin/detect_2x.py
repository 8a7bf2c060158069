# BleedOrigin-Detect, twice the CPU schedule of detect.py (2,400 iterations, ~70 min on
# one core): the default's validation onset error was still falling at its last
# iteration (select_err 2.30 / 2.41 / 1.09 at 600 / 900 / 1200; docs/detect.md, issue 11).
_base_ = ['./detect.py']

max_iters = 2400
train_cfg = dict(max_iters=max_iters, val_interval=400)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(checkpoint=dict(interval=400))
