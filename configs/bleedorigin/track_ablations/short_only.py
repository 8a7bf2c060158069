# Table 9 row 2: pseudo labels, short clips (31 frames) only, full fine-tuning.
_base_ = ['./full_finetune.py']
train_dataloader = dict(dataset=dict(mode='short'))
