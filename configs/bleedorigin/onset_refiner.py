# Onset refiner (issue 11, twelfth step, docs/detect.md): a fine-resolution second look at
# the 2R + 1 frames around eq. 2's onset, in a crop around the bleeding source. Trained on
# the positive clips of the synthetic and the instrument_onsets training splits (labels:
# the onset frame and its source point); selected on their validation splits.
#   python tools/train.py configs/bleedorigin/onset_refiner.py
_base_ = ['../_base_/default_runtime.py']

# the detector's values (configs/_base_/datasets/bench_detect.py)
refine_radius = 8            # R: candidates theta - R .. theta + R (the Acc±8 tolerance)
refine_size = (384, 320)     # (w, h) of every frame before cropping (refine_frame)
refine_crop = 96             # crop side in refiner pixels (a quarter of the width)
# crop-centre noise: the source branch, run R frames after the onset, is off by a median of
# 11 px and a P90 of 42 px at 780 px (5 and 21 refiner pixels; docs/detect.md)
refine_jitter = 24.0

model = dict(type='OnsetRefiner', radius=refine_radius, crop=refine_crop,
             channels=(16, 32, 32, 64), temporal_channels=64, dropout=0.1)

# generalisation beyond the renderer: another zoom (0.8-1.25x the crop), a coarser video
# (half the windows down- and upsampled 1.5-4x: the reference clips are 112 px), sensor
# noise, per-channel colour gains, flips and the crop-centre noise above
_train = dict(type='OnsetRefineDataset', split='train', input_size=refine_size,
              radius=refine_radius, crop=refine_crop, jitter=refine_jitter, none_prob=0.1,
              samples_per_clip=8, colour=0.15, scale=(0.8, 1.25), degrade_prob=0.5,
              degrade_factor=(1.5, 4.0), noise_prob=0.3, noise_std=6.0)
_val = dict(type='OnsetRefineDataset', split='val', input_size=refine_size,
            radius=refine_radius, crop=refine_crop, test_mode=True)
synthetic_data = [
    dict(data_root='data/synthetic', preset='default', seed=0),
    dict(data_root='data/instrument_onsets', preset='instrument_onsets', seed=2),
]
_loader = dict(batch_size=16, num_workers=0, persistent_workers=False,
               collate_fn=dict(type='pseudo_collate'))
train_dataloader = dict(_loader, sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(type='ConcatDataset', datasets=[
                            dict(_train, data_root='data/synthetic'),
                            dict(_train, data_root='data/instrument_onsets',
                                 samples_per_clip=16)]))
val_dataloader = dict(_loader, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(type='ConcatDataset', datasets=[
                          dict(_val, data_root='data/synthetic'),
                          dict(_val, data_root='data/instrument_onsets')]))
# tools/test.py: the same windows on the test splits (reported, never selected on)
test_dataloader = dict(val_dataloader, dataset=dict(type='ConcatDataset', datasets=[
    dict(_val, data_root='data/synthetic', split='test'),
    dict(_val, data_root='data/instrument_onsets', split='test')]))
val_evaluator = dict(type='RefineMetric')
test_evaluator = val_evaluator

max_iters = 2000
val_interval = 250
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-3),
                     clip_grad=dict(max_norm=5.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=val_interval, by_epoch=False,
                    max_keep_ckpts=2, save_best='refine/select_err', rule='less',
                    save_last=True),
    logger=dict(type='LoggerHook', interval=50))
log_processor = dict(by_epoch=False)
cpu_threads = 1
