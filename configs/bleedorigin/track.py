# BleedOrigin-Track (paper 4.2, Table 7 / Table 9 last row): hybrid short+long
# fine-tuning with pseudo labels (eq. 8: 0.6 Huber GT + 0.4 mean Huber pseudo)
# and LoRA on the attention and MLP layers, starting from the pretrained tracker.
#   python tools/train.py configs/bleedorigin/track_pretrain.py
#   python tools/gen_pseudo_labels.py data/synthetic \
#       --tracker-config configs/bleedorigin/track_pretrain.py \
#       --checkpoint work_dirs/track_pretrain/iter_500.pth
#   python tools/train.py configs/bleedorigin/track.py
#   python tools/test.py configs/bleedorigin/track.py work_dirs/track/iter_300.pth
_base_ = ['./track_pretrain.py']

model = dict(
    loss_weights=dict(gt=0.6, pseudo=0.4, patch_cls=0.2, visibility=0.05, confidence=0.05),
    refresh_interval=60)  # the coarse-to-fine refiner comes with the base config

train_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='bleedorigin.track_collate'),
    dataset=dict(
        type='BleedTrackDataset',
        data_root={{_base_.data_root}},
        split='train',
        mode='hybrid',
        input_size={{_base_.input_size}},
        short_length=31,
        long_max_frames=61,
        use_pseudo_labels=True,
        max_pseudo_points=24,
        pipeline={{_base_.track_train_pipeline}}))

# test frames at the refiner's working size (the network resizes them to its own input)
test_dataloader = dict(dataset=dict(input_size={{_base_.refine_size}}))

synthetic_data = dict(_delete_=True, data_root={{_base_.data_root}}, preset='default', seed=0)
load_from = 'work_dirs/track_pretrain/iter_500.pth'
max_iters = 300
optim_wrapper = dict(optimizer=dict(lr=3e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=10, end=max_iters, eta_min=1e-5),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=100))
# no validation during the short CPU schedule; evaluate with tools/test.py
# LoRA (rank 8) on q/k/v/out projections and MLPs; the red-attention embedding
# and the two scalar priors (template-correlation scale, motion-prior width),
# which the surgical domain must recalibrate, stay trainable.
custom_hooks = [dict(type='LoRAHook', method='lora', rank=8, alpha=16,
                     trainable_modules=['red_embed', 'template_scale',
                                        'motion_prior_log_sigma'], lr=1e-3)]
