import numpy as np
import torch

from bleedorigin.models.utils import RedMask, onset_from_windows, red_mask


def test_red_mask_ranks_blood_above_mucosa():
    img = np.zeros((2, 3, 3), dtype=np.uint8)
    img[0, 0] = (200, 10, 10)    # blood
    img[0, 1] = (230, 150, 150)  # pink mucosa
    img[0, 2] = (250, 250, 250)  # specular white
    mask = red_mask(img)
    assert mask.shape == (2, 3) and mask.dtype == np.float32
    assert mask[0, 0] > 0.6 > mask[0, 1] > mask[0, 2] == 0.0
    tensor = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    out = RedMask()(tensor)
    assert out.shape == (1, 1, 2, 3)
    np.testing.assert_allclose(out[0, 0].numpy(), mask, atol=1e-6)
    assert len(list(RedMask().parameters())) == 0


def test_onset_from_windows_eq2():
    # window 0 not confident; windows 5 and 10 fire at 5+floor(0.5*20)=15 and 10+2=12
    assert onset_from_windows([0, 5, 10], [0.1, 0.5, 0.1], [0.4, 0.9, 0.6], 20) == 12
    assert onset_from_windows([0, 5], [0.1, 0.5], [0.4, 0.5], 20) is None
    # theta = k / N exactly gives frame t + k
    assert onset_from_windows([7], [3 / 60], [0.9], 60) == 10
