# Table 8 (top) ablation: compare each frame with its predecessor only (no MDCFM memory).
_base_ = './detect.py'
model = dict(use_memory=False)
