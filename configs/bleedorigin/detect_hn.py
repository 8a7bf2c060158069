# BleedOrigin-Detect with hard negatives from long negative streams (issue 11, fourth step;
# docs/detect.md). The default recipe, unchanged but for one more onset training set: the
# train streams of a seed-1 `negative_streams` render. Every false alarm of the shipped
# detector on the seed-0 streams (and both of its early alarms on the test split) fires
# while an instrument is in view or leaving it; the default training clips hold few such
# events, the streams hold one every few seconds. No warm-up windows (detect_warmup_hn.py
# mixed the two changes). The alarms per hour are measured on the seed-0 streams only.
_base_ = './detect.py'

hard_negative_root = 'data/negative_streams_train'
synthetic_data = [
    dict(data_root={{_base_.data_root}}, preset='default', seed=0),
    dict(data_root=hard_negative_root, preset='negative_streams', seed=1),
]
# segments per train stream and epoch (4 streams of 1,800 frames)
hard_negatives_per_stream = 8

_onset = dict(type='BleedOnsetDataset', input_size={{_base_.onset_input_size}},
              red_pool={{_base_.onset_red_pool}}, pipeline={{_base_.onset_train_pipeline}},
              test_mode=False)
train_dataloader = dict(dataset=dict(datasets=[
    dict(_onset, data_root={{_base_.data_root}}, split='train', samples_per_clip=1),
    dict(type='BleedSourceDataset', data_root={{_base_.data_root}}, split='train',
         input_size={{_base_.source_input_size}}, reference_offset={{_base_.reference_offset}},
         pseudo_offset={{_base_.pseudo_offset}}, align_reference={{_base_.align_reference}},
         samples_per_clip=1, pipeline={{_base_.source_train_pipeline}}, test_mode=False),
    dict(_onset, data_root=hard_negative_root, split='train',
         samples_per_clip=hard_negatives_per_stream),
]))
