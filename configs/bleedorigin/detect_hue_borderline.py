# The hue stage with borderline clips of the default look (issue 11, twenty-sixth step,
# docs/detect.md): detect_hue.py plus the train split of a `borderline_clips` render.
#
# Why: the six hue-stage runs (3 seeds x 1 and 2 torch threads, twenty-fifth step) fail on
# the same test clips, each crossing S_conf 0.5 in some runs and not in others: two negative
# clips where instruments pass or withdraw (P01_C03, P27_C01 at frame 86 during a flush) and
# a positive whose onset comes 26 frames before the clip ends (P16_C01, max 0.435). The
# training onsets are the default split's 216 clips (~27 negative, onsets anywhere in
# frames 30-130), 1,800-frame negative streams of another look (half resolution, every
# distractor at once) and the instrument_onsets clips (no negatives to speak of): few
# negatives of the default look, few windows whose bleeding begins near the clip's end.
#
# What: `make_synthetic.py data/borderline_clips --preset borderline_clips --seed 12`
# (108 clips, 8/2/2 patients; half negative with the default's per-clip distractors, the
# positives' onsets in frames 95-130) joins the training set, `borderline_per_clip`
# segments per clip and epoch, with the hue stage's pipeline. Its val and test splits are
# held-out renders of the same kinds (onset_trace.py / test.py with
# --cfg-options on them; they never train).
#
#   python tools/train.py configs/bleedorigin/detect_hue_borderline.py \
#       --work-dir work_dirs/detect_hue_borderline
#   # or, in a chain's work root (same mined files, same init as its detect_hue):
#   bash tools/reproduce.sh --from-zoo detect --work-root WR --stages detect_hue_borderline
_base_ = ['./detect_hue.py']

borderline_root = 'data/borderline_clips'
borderline_per_clip = 2  # segments per clip and epoch (72 train clips: 144 segments)
synthetic_data = _base_.synthetic_data + [
    dict(data_root=borderline_root, preset='borderline_clips', seed=12)]

# the default split's onset set as the hue stage trains it, without its mined hard positives
_default_onsets = [d for d in _base_.train_dataloader.dataset.datasets
                   if d.type == 'BleedOnsetDataset' and d.data_root == _base_.data_root
                   and d.split == 'train'][0]
train_dataloader = dict(dataset=dict(datasets=_base_.train_dataloader.dataset.datasets + [
    dict({k: v for k, v in _default_onsets.items()
          if k not in ('hard_positives', 'hard_positive_repeats')},
         data_root=borderline_root, samples_per_clip=borderline_per_clip)]))
