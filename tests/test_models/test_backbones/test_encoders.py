import pytest
import torch

from bleedorigin.registry import MODELS


@pytest.mark.parametrize('cfg, channels', [
    (dict(type='SmallCNNEncoder', in_channels=6, stage_channels=(8, 8, 16)), 16),
    (dict(type='TorchvisionEncoder', arch='resnet18', in_channels=6), 128),
    (dict(type='TorchvisionEncoder', arch='mobilenet_v3_small', in_channels=6), 24),
])
def test_encoders_stride8_with_input(cfg, channels):
    encoder = MODELS.build(cfg)
    x = torch.rand(1, 6, 64, 48)
    image, feats = encoder(x)
    assert image is x
    assert feats.shape == (1, channels, 8, 6)


def test_encoder_rejects_wrong_channels():
    encoder = MODELS.build(dict(type='SmallCNNEncoder', in_channels=6))
    with pytest.raises(ValueError, match='expected'):
        encoder(torch.rand(1, 3, 32, 32))
