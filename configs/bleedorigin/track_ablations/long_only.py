# Table 9 row 3: pseudo labels, long clips (onset to end) only, full fine-tuning.
_base_ = ['./full_finetune.py']
train_dataloader = dict(dataset=dict(mode='long'))
