# Table 8 (bottom) ablation: torchvision ResNet-18 encoder (random init; give a local
# checkpoint with init_cfg=dict(type='Pretrained', checkpoint=PATH) to start from weights).
_base_ = './detect.py'
model = dict(
    encoder=dict(_delete_=True, type='TorchvisionEncoder', arch='resnet18', in_channels=6,
                 with_input=True),
    source_head=dict(in_channels=128))
