# LoRA without MDG (the default configs/bleedorigin/track.py).
_base_ = ['../track.py']
