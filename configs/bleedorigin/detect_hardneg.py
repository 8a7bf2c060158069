# Stage 2 of the detector with mined hard windows (issue 11, eighth step, docs/detect.md):
# detect_negft.py (800 iterations at lr 5e-4 from a detect.py checkpoint, 25 more minutes of
# non-bleeding video) where most segments of a negative stream end one of their windows on a
# frame the starting checkpoint was confident on (S_conf > 0.3).
#
# Why: 7 of the 8 false alarms of the shipped detector on the 30-minute test streams fire
# 4-11 frames after a flush or an instrument pass begins, while ~99 % of such events raise
# nothing. Random segments rarely end a window just there, so the few windows that fool the
# detector are seldom trained on. The hard frames come from the detector itself (mined on
# the training streams, never on the seed-0 test streams); no label of the generator is read.
#
#   python tools/analysis_tools/mine_hard_windows.py configs/bleedorigin/detect.py CKPT \
#       data/negative_streams_train:train --out work_dirs/hard_windows/detect/negative_streams_train.json
#   python tools/analysis_tools/mine_hard_windows.py configs/bleedorigin/detect.py CKPT \
#       data/negative_streams_train_long:train,val \
#       --out work_dirs/hard_windows/detect/negative_streams_train_long.json
#   python tools/train.py configs/bleedorigin/detect_hardneg.py --work-dir work_dirs/detect_hardneg \
#       --cfg-options load_from=CKPT
#
# CKPT defaults to checkpoints/detect_stage1.pth (load_from of detect_negft.py); mine with the
# checkpoint the stage starts from. Another folder of mined files: --cfg-options
# train_dataloader.dataset.datasets.2.hard_windows=... (and .5, .6 for the long streams).
_base_ = ['./detect_negft.py']

hard_windows_dir = 'work_dirs/hard_windows/detect'
hard_fraction = 0.75  # of the segments of a stream with mined frames

_hard_pipeline = [dict(step, hard_fraction=hard_fraction)
                  if step['type'] == 'SampleOnsetSegment' else step
                  for step in _base_._onset['pipeline']]
# detect.py's hard negatives (index 2) and detect_negft.py's long streams (5, 6) read the
# frames mined on their root
_mined = {2: 'negative_streams_train', 5: 'negative_streams_train_long',
          6: 'negative_streams_train_long'}
train_dataloader = dict(dataset=dict(datasets=[
    dict(d, pipeline=_hard_pipeline, hard_windows=f'{hard_windows_dir}/{_mined[i]}.json')
    if i in _mined else d for i, d in enumerate(_base_.train_dataloader.dataset.datasets)]))
