# The default detector with eq. 2 alone raising the alarm: the shipped decision of sessions
# 12-27 (issue 11, twenty-eighth step, docs/detect.md). Same networks and weights as detect.py
# (checkpoints/detect.pth, checkpoints/onset_refiner.pth); the refiner only moves eq. 2's
# onset (theta, earliest over the confident windows) to the frame it names, and never vetoes
# the alarm, which comes at the first window whose S_conf exceeds 0.5.
_base_ = ['./detect.py']

model = dict(onset_refine_confirm=False)
