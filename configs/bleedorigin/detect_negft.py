# Stage 2 of the detector (issue 11, seventh step, docs/detect.md): fine-tune a trained
# detect.py checkpoint with 25 more minutes of non-bleeding video.
#
# Why: the false alarms per hour on the 30-minute negative test streams (seed 0) vary 12-28
# between seeds of detect.py, and every alarm is a short run of confident windows while an
# instrument passes, a flush or smoke is in view. The hard negatives of detect.py are four
# one-minute streams (data/negative_streams_train, seed 1): 4 minutes of "no bleeding"
# against 30 minutes of test streams. This stage adds the train and val splits of a seed-4
# `negative_streams_long` render (25 one-minute streams, data/negative_streams_train_long)
# to the onset training set and validates on its 5 test streams besides the synthetic val
# split, so the "best" checkpoint also pays for every stream it alarms on (select_err counts
# a false alarm as N frames). The seed-0 test streams stay unseen.
#
#   python tools/train.py configs/bleedorigin/detect_negft.py \
#       --work-dir work_dirs/detect_negft --cfg-options load_from=CKPT
#
# CKPT: a detect.py checkpoint (default: checkpoints/detect_stage1.pth, the shipped stage 1;
# checkpoints/detect.pth is the last stage of the chain since session 10, detect_hardpos.py).
_base_ = ['./detect.py']

load_from = 'checkpoints/detect_stage1.pth'

negative_long_root = 'data/negative_streams_train_long'
synthetic_data = _base_.synthetic_data + [
    dict(data_root=negative_long_root, preset='negative_streams_long', seed=4)]
negative_long_per_stream = 4  # segments per stream (1,800 frames) and epoch

# every training set of detect.py, plus the new streams' train and val splits (onset only)
_onset = _base_._onset
train_dataloader = dict(dataset=dict(datasets=_base_.train_dataloader.dataset.datasets + [
    dict(_onset, data_root=negative_long_root, split=split,
         samples_per_clip=negative_long_per_stream) for split in ('train', 'val')]))

# validation: detect.py's (synthetic val, onset + source) and the 5 held-out streams
_val_onset = _base_.val_dataloader.dataset.datasets[0]
val_dataloader = dict(dataset=dict(datasets=_base_.val_dataloader.dataset.datasets + [
    dict(_val_onset, data_root=negative_long_root, split='test')]))

# a short schedule at a quarter of the rate, from the trained weights
max_iters = 800
val_interval = 400
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
optim_wrapper = dict(optimizer=dict(lr=5e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=max_iters, eta_min=1e-5),
]
default_hooks = dict(checkpoint=dict(interval=val_interval))
