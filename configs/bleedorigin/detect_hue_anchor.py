# The recipe's last stage (detect_hue.py, with its mined hard windows and positives) trained
# on anchored video: the per-video colour anchor of detect_colour_anchor.py on the model and
# on every onset dataset (training, validation, test). Issue 11, twenty-fifth step
# (docs/detect.md).
#
# Why: the twenty-first step's anchored fine-tune (detect_colour_anchor_ft.py, no mined
# windows) removed every hue-turn miss on validation (0 at -16 degrees against 6 for the
# shipped detector) but raised an alarm in the 30 validation-only stream minutes; it pointed
# to this stage, whose mined hard windows are what keeps the stream margin.
#
# Measured (seed 2, two threads, from the same detect_hardpos as its control detect_hue):
# test 93.48 / 95.65 / 95.65, 2 misses, 1 of 8 false-alarm clips (control: 97.83 x3, 1 miss,
# 2 of 8); highest negative validation S_conf 0.06 (control 0.18); no alarm in the 30
# validation-only stream minutes (control: 1). Safer on negatives, worse on onsets: NOT
# shipped, the anchor stays off by default.
#
# Run from a chain's work root (the mined files and detect_hardpos's checkpoint are there):
#   bash tools/reproduce.sh --from-zoo detect --seed 2 --cpu-threads 2 \
#       --work-root work_dirs/s25/chainD --stages detect_hue_anchor
_base_ = ['./detect_hue.py']
# after _base_: an import first would make mmengine parse this file as a lazy-import config
from bleedorigin.utils.config_edit import with_colour_anchor  # noqa: E402

colour_anchor = dict(reference=4.5, dead_zone=0.0, max_turn=40.0)
model = dict(colour_anchor=colour_anchor)
# the model and every onset dataset turn alike (BleedOriginDetector.predict checks it)
train_dataloader = with_colour_anchor(_base_.train_dataloader, colour_anchor)
val_dataloader = with_colour_anchor(_base_.val_dataloader, colour_anchor)
test_dataloader = with_colour_anchor(_base_.test_dataloader, colour_anchor)
