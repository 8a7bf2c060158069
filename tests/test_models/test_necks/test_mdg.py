import pytest
import torch
from mmengine.registry import MODELS as ROOT_MODELS

import bleedorigin  # noqa: F401
from bleedorigin.models.necks import MDCFM, MDGNeck


def test_mdg_shapes_and_input_forms():
    neck = MDGNeck(channels=8, out_channels=16)
    rgb, hsv, flow = torch.randn(3, 3, 24, 32), torch.randn(3, 3, 24, 32), torch.randn(
        3, 2, 24, 32)
    (out,) = neck((rgb, hsv, flow))
    assert out.shape == (3, 16, 6, 8)
    (same,) = neck(torch.cat([rgb, hsv, flow], dim=1))
    torch.testing.assert_close(out, same)
    with pytest.raises(ValueError, match='expected'):
        neck(torch.randn(1, 5, 8, 8))


def test_mdg_and_mdcfm_build_from_other_scopes():
    """Mixing: any mmengine/mmdet config reaches the necks with the scope prefix."""
    neck = ROOT_MODELS.build(dict(type='bleedorigin.MDGNeck', channels=4, out_channels=8))
    assert isinstance(neck, MDGNeck)
    from mmdet.registry import MODELS as MMDET_MODELS
    mdcfm = MMDET_MODELS.build(dict(type='bleedorigin.MDCFM', channels=4))
    assert isinstance(mdcfm, MDCFM)
    assert mdcfm(torch.randn(2, 6, 16, 16), torch.randn(2, 2, 16, 16)).shape == (2, 2)


def test_mdcfm_memory_is_bounded_oldest_out():
    mdcfm = MDCFM(channels=4, memory_size=2)
    # pairs (t-1, t) clean at t = 2, 3, 5 -> frames 1, 2, 4 stored after those steps
    clean = [False, False, True, True, False, True, False]
    idx = mdcfm.memory_indices(clean).tolist()
    assert idx[0] == [0, 0]          # seeded with frame 0
    assert idx[2] == [0, 0]          # frame 1 is stored only after step 2
    assert idx[3] == [0, 1]
    assert idx[4] == [1, 2]          # capacity 2: frame 0 dropped
    assert idx[6] == [2, 4]
    logits = torch.tensor([[-3.0, -3.0], [3.0, -3.0], [-3.0, 3.0]])
    assert mdcfm.is_clean(logits).tolist() == [True, False, False]


def test_mdcfm_memory_stride_keeps_every_kth_clean_view():
    """memory_stride = 2: the 1st, 3rd, 5th ... frame pushed is stored (the seed, frame 0,
    always); the stored frames lie two clean views apart."""
    mdcfm = MDCFM(channels=4, memory_size=2, memory_stride=2)
    clean = [False] + [True] * 7  # frames 0..6 pushed after steps 1..7
    idx = mdcfm.memory_indices(clean).tolist()
    # pushes: 0 (seed, kept), 0 (step 1, skipped), 1 (kept), 2 (skipped), 3 (kept), ...
    assert idx[1] == [0, 0] and idx[2] == [0, 0]
    assert idx[3] == [0, 1] and idx[4] == [0, 1]
    assert idx[5] == [1, 3] and idx[7] == [3, 5]
    assert MDCFM(channels=4, memory_size=2).memory_indices(clean).tolist()[7] == [4, 5]
    memory = mdcfm.new_memory()
    for item in range(5):
        memory.push(item)
    assert memory.padded() == [2, 4]
    memory.clear()
    memory.push(7)
    memory.push(8)
    assert memory.padded() == [7, 7]  # the count restarts with the memory
    with pytest.raises(ValueError, match='memory_stride must be >= 1, got 0'):
        MDCFM(channels=4, memory_stride=0)


def test_mdcfm_train_memory_stride_applies_in_training_mode_only():
    """train_memory_stride: the paper's memory while training, the strided one in eval."""
    clean = [False] + [True] * 7
    mdcfm = MDCFM(channels=4, memory_size=2, memory_stride=2, train_memory_stride=1)
    assert mdcfm.memory_indices(clean).tolist()[7] == [4, 5]  # a new module trains
    mdcfm.eval()
    assert mdcfm.memory_indices(clean).tolist()[7] == [3, 5]
    assert mdcfm.new_memory().stride == 2
    mdcfm.train()
    assert mdcfm.new_memory().stride == 1
    assert MDCFM(channels=4, memory_stride=3).new_memory().stride == 3  # None: the same
    with pytest.raises(ValueError, match='train_memory_stride must be >= 1, got 0'):
        MDCFM(channels=4, train_memory_stride=0)
