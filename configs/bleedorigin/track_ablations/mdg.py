# Table 9 row 5: short + long with pseudo labels, MDG block inside the tracker,
# full fine-tuning.
_base_ = ['./full_finetune.py']
model = dict(mdg=dict(_delete_=True, type='MDGNeck', in_channels=(3, 3, 2), channels=16, out_channels=32),
             mdg_channels=32)
