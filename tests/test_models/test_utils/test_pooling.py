import torch

from bleedorigin.models.utils import avg_max_pool


def test_avg_max_pool_keeps_a_single_bright_pixel():
    feats = torch.zeros(1, 2, 4, 5)
    feats[0, 1, 2, 3] = 20.0  # one "drop" in channel 1
    pooled = avg_max_pool(feats)
    assert pooled.shape == (1, 4)
    assert pooled.tolist() == [[0.0, 1.0, 0.0, 20.0]]  # means (C) then maxima (C)
