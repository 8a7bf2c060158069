# The strided clean-view memory (issue 11, thirtieth step, docs/detect.md) is the default since
# session 33: this config is detect.py itself, kept so that the commands of docs/detect.md's
# thirtieth to thirty-second steps and docs/benchmark.md's sessions 31-32 run as printed.
# detect_paper_memory.py decodes with the paper's memory (stride 1).
#
# Why the stride: eq. 1's gate passes almost every frame of a slowly growing bleed (its RGB-HSV
# confidence sees consecutive frames only), and a CFMS of the two most recent clean views then
# compares the frame with frames that already bleed. With memory_stride=10 the CFMS keeps every
# tenth clean view, so for about 20 frames after the onset one slot still holds a pre-onset view
# (training already meets memories of every staleness through teacher_memory).
_base_ = ['./detect.py']
