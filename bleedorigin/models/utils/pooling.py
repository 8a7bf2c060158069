"""Pooling helpers shared by the detection necks and the detector."""
import torch


def avg_max_pool(feats: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B, 2C): global average and max pooling, concatenated.

    A fresh drop of blood covers a few pixels of a low-resolution frame; the max
    keeps it where the average alone would dilute it.
    """
    return torch.cat([feats.mean((2, 3)), feats.amax((2, 3))], dim=1)
