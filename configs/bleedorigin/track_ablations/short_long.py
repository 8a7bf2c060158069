# Table 9 row 4: pseudo labels, short + long clips, full fine-tuning.
_base_ = ['./full_finetune.py']
train_dataloader = dict(dataset=dict(mode='hybrid', use_pseudo_labels=True))
