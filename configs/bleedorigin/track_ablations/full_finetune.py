# Table 9 "full fine-tuning": hybrid short+long clips with pseudo labels, every
# weight trained (no PEFT), no MDG. (Same training as short_long.py.)
_base_ = ['../track.py']
custom_hooks = []
