# BleedOrigin-Bench tracking data (paper 4.2.1): hybrid short (31 frames) + long
# (onset to end) training clips with pseudo labels; evaluation from the GT onset
# frame and point on every positive clip (section 4.3), classical baselines in
# the same test run (Table 7).
data_root = 'data/synthetic'
input_size = (256, 192)  # tracker input (W, H); frames are resized to it
synthetic_data = dict(data_root=data_root, preset='default', seed=0)
# training augmentation (datasets/transforms/multi_domain.py): light that changes over the
# clip, a horizontal flip, and short clips (which end on an annotated frame) played backwards
track_train_pipeline = [
    dict(type='SequenceGainJitter', gain=(0.75, 1.25), bias=(-20, 20), drift=0.1),
    dict(type='SequenceRandomFlip', prob=0.5, directions=('horizontal', )),
    dict(type='SequenceTimeReverse', prob=0.3, max_length=31),
]

train_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='bleedorigin.track_collate'),
    dataset=dict(
        type='BleedTrackDataset',
        data_root=data_root,
        split='train',
        mode='hybrid',
        input_size=input_size,
        short_length=31,
        long_max_frames=121,
        use_pseudo_labels=True,
        max_pseudo_points=24,
        pipeline=track_train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='bleedorigin.track_collate'),
    dataset=dict(
        type='BleedTrackDataset', data_root=data_root, split='val', mode='test',
        input_size=input_size))
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='bleedorigin.track_collate'),
    dataset=dict(
        type='BleedTrackDataset', data_root=data_root, split='test', mode='test',
        input_size=input_size))
val_evaluator = dict(type='TrackMetric', data_root=data_root, split='val', baselines=[])
test_evaluator = dict(
    type='TrackMetric', data_root=data_root, split='test',
    baselines=['zero_motion', 'lucas_kanade', 'fb_lucas_kanade', 'dis_flow'])
