# Table 9 row 1: no pseudo labels, short clips only, full fine-tuning.
_base_ = ['./full_finetune.py']
model = dict(loss_weights=dict(pseudo=0.0))
train_dataloader = dict(dataset=dict(mode='short', use_pseudo_labels=False))
