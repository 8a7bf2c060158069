# BleedOrigin-Detect with warm-up windows and stream-start segments only (issue 11, second
# step; docs/detect.md): the default recipe plus what clips shorter than N need, without the
# hard negatives and double-speed segments of detect_warmup_hn.py.
_base_ = './detect.py'

model = dict(warmup_windows=True)
# trains on the benchmark only: render nothing else (detect.py lists its hard negatives/positives)
synthetic_data = [dict(data_root={{_base_.data_root}}, preset='default', seed=0)]

onset_train_pipeline = [
    dict(type='SampleOnsetSegment', window_size={{_base_.window_size}}, num_windows=6,
         window_stride=5, context_frames=6, positive_fraction=0.5, warmup_fraction=0.25),
    dict(type='SequenceRandomFlip', prob=0.5),
    dict(type='SequenceColorJitter'),
    dict(type='MultiDomainInputs'),
    dict(type='PackOnsetInputs'),
]
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='BleedOnsetDataset', data_root={{_base_.data_root}}, split='train',
         input_size={{_base_.onset_input_size}}, red_pool={{_base_.onset_red_pool}},
         samples_per_clip=1, pipeline=onset_train_pipeline, test_mode=False),
    {{_base_._source_train}},
]))
