# Colour-robust chain, mined negatives round 2 (issue 11, twentieth step, docs/detect.md):
# detect_hc_hardneg_wide.py again (same mined windows, same schedule) from round 1's
# checkpoint, as detect_hardneg_wide_r2.py is to detect_hardneg_wide.py.
_base_ = ['./detect_hc_hardneg_wide.py']

load_from = 'work_dirs/detect_hc_hardneg_wide'
