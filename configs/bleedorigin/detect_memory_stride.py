# The default detector with a strided clean-view memory (issue 11, thirtieth step,
# docs/detect.md). Same network and weights as detect.py (checkpoints/detect.pth); only which
# clean views the CFMS keeps differs, offline and streaming alike.
#
# Eq. 1's gate passes almost every frame of a slowly growing bleed (its RGB-HSV confidence sees
# consecutive frames only), and a CFMS of the two most recent clean views then compares the
# frame with frames that already bleed. With memory_stride=10 the CFMS keeps every tenth clean
# view, so for about 20 frames after the onset one slot still holds a pre-onset view (training
# already meets memories of every staleness through teacher_memory). Design sets (session 30,
# shipped detector, confirmation at 0.5): errors 1 = 1 (the late instrument onset P03_C02 found
# on the frame, one instrument-negative training clip alarmed instead), exact onsets 107 vs 106;
# eq. 2 without the confirmation 15 vs 5. Session 31: tools/benchmark.py prints the same Table 3
# as tools/test.py with it (97.83 / 97.83 / 100 %, no miss, 0 of 8 on the shipped detector).
# Training with this config is training with detect.py (train_memory_stride=1: the paper's
# memory in training mode, the stride only when decoding), so any detect.py checkpoint is a
# checkpoint of this config. Session 32: shipped weights 0 false alarms per hour on the seed-0
# streams (latency 8 / 17.5); the failing seed-0 and seed-1 one-thread grid runs meet every
# Table 3 target with it (not with stride 1). Not the default until the two-thread runs are
# scored: see docs/detect.md, thirty-second step.
_base_ = ['./detect.py']

model = dict(mdcfm=dict(memory_stride=10, train_memory_stride=1))
