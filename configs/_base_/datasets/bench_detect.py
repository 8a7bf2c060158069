# BleedOrigin-Bench for the detector: onset clips/segments + source frames, mixed in
# one loader (detect_collate keeps them in plain lists; the model splits them).
data_root = 'data/synthetic'
synthetic_data = dict(data_root=data_root, preset='default', seed=0)

window_size = 60             # N of eq. 2 (paper)
onset_input_size = (64, 48)  # (w, h) of the onset branch
# the onset input's 4th channel: max of the Red-Mask computed at 4x the onset grid
# (256 x 192), one value per grid cell (bleedorigin.models.utils.onset_frame_input)
onset_red_pool = 4
# the onset refiner (configs/bleedorigin/onset_refiner.py): candidates theta - R .. theta + R,
# every frame resized to refine_size (w, h), crops of refine_crop pixels around the source
refine_radius = 8
refine_size = (384, 320)
refine_crop = 96
# when the refiner names no frame of theta - R .. theta + R, the windows 1, 2, 3 spans
# (2R + 1 frames each) later are tried in turn (eq. 2's theta is early far more often than
# late; chosen on the validation splits, issue 11 fifteenth step, docs/detect.md)
refine_search = (1, 2, 3)
source_input_size = (160, 128)  # (W, H) of the source branch
reference_offset = 15        # frames between the pre-onset reference and the onset frame
pseudo_offset = 10           # n of the optical-flow pseudo-labels (paper)
align_reference = True       # warp the reference onto the onset frame (camera motion)
heatmap_codec = dict(type='MSRAHeatmap', input_size=source_input_size,
                     heatmap_size=source_input_size, sigma=2.0)

onset_train_pipeline = [
    dict(type='SampleOnsetSegment', window_size=window_size, num_windows=6, window_stride=5,
         context_frames=6, positive_fraction=0.5),
    dict(type='SequenceRandomFlip', prob=0.5),
    dict(type='SequenceColorJitter'),
    dict(type='MultiDomainInputs'),
    dict(type='PackOnsetInputs'),
]
onset_test_pipeline = [
    dict(type='LoadOnsetClip'),
    dict(type='MultiDomainInputs'),
    dict(type='PackOnsetInputs'),
]
source_train_pipeline = [
    dict(type='LoadSourceFrames', with_pseudo=True),
    dict(type='SequenceRandomFlip', prob=0.5),
    dict(type='SourceRandomAffine'),
    dict(type='SequenceColorJitter'),
    dict(type='GenerateSourceHeatmap', encoder=heatmap_codec),
    dict(type='PackSourceInputs'),
]
source_test_pipeline = [
    dict(type='LoadSourceFrames', with_pseudo=False),
    dict(type='PackSourceInputs'),
]


def _split(split, test_mode, onset_pipeline, source_pipeline, onset_repeats=1,
           source_repeats=1):
    return dict(
        type='ConcatDataset',
        # the onset dataset's prior is the one OnsetMetric reads
        ignore_keys=['prior_onset_frame'],
        datasets=[
            dict(type='BleedOnsetDataset', data_root=data_root, split=split,
                 input_size=onset_input_size, red_pool=onset_red_pool,
                 samples_per_clip=onset_repeats,
                 pipeline=onset_pipeline, test_mode=test_mode),
            dict(type='BleedSourceDataset', data_root=data_root, split=split,
                 input_size=source_input_size, reference_offset=reference_offset,
                 pseudo_offset=pseudo_offset, align_reference=align_reference,
                 samples_per_clip=source_repeats,
                 pipeline=source_pipeline, test_mode=test_mode),
        ])


train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='bleedorigin.detect_collate'),
    dataset=_split('train', False, onset_train_pipeline, source_train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='bleedorigin.detect_collate'),
    dataset=_split('val', True, onset_test_pipeline, source_test_pipeline))
test_dataloader = dict(
    batch_size=4,
    num_workers=1,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='bleedorigin.detect_collate'),
    dataset=_split('test', True, onset_test_pipeline, source_test_pipeline))
val_evaluator = [dict(type='OnsetMetric'), dict(type='PointMetric')]
test_evaluator = val_evaluator
