# Next stage of the detector with hard positives (issue 11, tenth step, docs/detect.md):
# detect_hardneg_wide.py (the same mined negative windows) plus the *positive* training clips
# the starting checkpoint misses, finds more than one frame off or is never more than 0.9
# confident on, each shown `hard_positive_repeats` more times per epoch.
#
# Why: after two rounds on mined negatives the detector raised no alarm in an hour of unseen
# streams but missed 2 test onsets, and on its own *training* clips it missed 5 of 182
# synthetic and 2 of 38 instrument_onsets onsets, visible bleeds it scored S_conf 0.01-0.23
# (a bleed beside a red vessel, at an instrument tip). The negatives taught it to doubt red
# near instruments; the few positives like that were outnumbered. Showing every positive
# more often did not fix it (docs/detect.md, ninth step); showing the ones it fails did.
# No label of the generator is read beyond the onset frame.
#
#   for root in synthetic instrument_onsets; do
#     python tools/analysis_tools/mine_hard_windows.py configs/bleedorigin/detect_hardpos.py \
#         CKPT data/$root:train --positives \
#         --out work_dirs/hard_windows/hardpos/${root}_positives.json
#   done
#   python tools/train.py configs/bleedorigin/detect_hardpos.py --work-dir work_dirs/detect_hardpos
#
# CKPT: the checkpoint the stage starts from, round 2 of the mined negatives
# (detect_hardneg_wide_r2.py; `load_from` names its work dir, tools/train.py takes the
# checkpoint that run ended with); mine with it, on the training splits only. The
# negative windows stay those of detect_hardneg_wide.py (`hard_windows_dir`, mined by its
# starting checkpoint). The mined paths are fixed when the config is parsed: mine into
# `hard_positives_dir` (or override `train_dataloader.dataset.datasets.0.hard_positives` and
# `.3.hard_positives`).
_base_ = ['./detect_hardneg_wide.py']

load_from = 'work_dirs/detect_hardneg_wide_r2'
hard_positives_dir = 'work_dirs/hard_windows/hardpos'
hard_positive_repeats = 4  # extra samples per hard positive clip and epoch

# the onset training sets of the two positive roots (detect.py's datasets 0 and 3)
_positive_roots = (_base_.data_root, _base_.instrument_onsets_root)
train_dataloader = dict(dataset=dict(datasets=[
    dict(d, hard_positives=f'{hard_positives_dir}/{d.data_root.split("/")[-1]}_positives.json',
         hard_positive_repeats=hard_positive_repeats)
    if d.type == 'BleedOnsetDataset' and d.data_root in _positive_roots else d
    for d in _base_.train_dataloader.dataset.datasets]))
