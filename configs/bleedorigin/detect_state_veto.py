# The default detector with a state veto on the clean-view memory (issue 11, twenty-seventh
# step, docs/detect.md). Same network and weights as detect.py (checkpoints/detect.pth); only
# the decision differs, offline and streaming alike.
#
# Eq. 1's gate lets almost every frame of a slowly growing bleed into the clean-view memory
# (its RGB-HSV confidence sees consecutive frames only), so a late, slow onset is compared
# with frames that already bleed. Here I_{t-1} also stays out while the state head's
# P(bleeding) of frame t is >= 0.99 (MEMORY_STATE_VETO): the memory keeps the pre-onset views
# (as teacher_memory's labelled clean views do in training). 0.99 was chosen on the
# validation clip sets and the seed-11 validation streams (0.95 raised 2 alarms in their 30
# minutes for the shipped detector); there the shipped detector's figures are unchanged, and
# on the test split the seed-2 two-thread run's late onset is found instead of missed. With the
# refiner's confirmation (inherited from detect.py since session 28) that run meets every Table
# 3 target with the veto and misses the late onset without it. Not the default: on the design
# sets the veto gives the confirmation's own figures, so only the test split would choose it.
_base_ = ['./detect.py']

model = dict(memory_state_veto=0.99)
