# Table 8 (bottom) ablation: torchvision MobileNetV3-small encoder (random init unless a
# local checkpoint is given through init_cfg).
_base_ = './detect.py'
model = dict(
    encoder=dict(_delete_=True, type='TorchvisionEncoder', arch='mobilenet_v3_small',
                 in_channels=6, with_input=True),
    source_head=dict(in_channels=24))
