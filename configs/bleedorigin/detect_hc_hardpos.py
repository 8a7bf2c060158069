# Colour-robust chain, last stage (issue 11, twentieth step, docs/detect.md): detect_hue.py
# (hard positives, the streams' mined windows, the colour augmentation), started from
# detect_hc_hardneg_wide_r2.py instead of the uncoloured detect_hardpos.py; reproduce.py mines
# its hard positives with round 2's checkpoint and its negative windows are
# detect_hc_hardneg_wide.py's (mined by detect_hue_s1.py).
_base_ = ['./detect_hue.py']

load_from = 'work_dirs/detect_hc_hardneg_wide_r2'
