import torch

from bleedorigin.registry import MODELS


def test_onset_head_overfits_tiny_batch():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='OnsetHead', in_channels=16, window_size=12, num_layers=2,
                             num_heads=4, ffn_channels=32, dropout=0.0))
    feats = torch.randn(6, 12, 16) * 0.1
    positions = torch.tensor([3, 7, -1, 10, -1, 0])
    for i, pos in enumerate(positions.tolist()):
        if pos >= 0:
            feats[i, pos:, 0] += 2.0  # a step at the onset
    optim = torch.optim.Adam(head.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        losses = head.loss(feats, positions)
        total = sum(losses.values())
        first = float(total) if first is None else first
        optim.zero_grad()
        total.backward()
        optim.step()
    assert float(total) < 0.2 * first
    head.eval()
    theta, conf = head.predict(feats)
    assert theta.shape == conf.shape == (6,)
    pos = positions >= 0
    assert torch.equal((theta[pos] * 12).round().long(), positions[pos])
    assert (conf[pos] > 0.5).all() and (conf[~pos] < 0.5).all()
