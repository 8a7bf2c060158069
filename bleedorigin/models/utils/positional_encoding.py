"""Sinusoidal positional encoding for the temporal transformer of the onset head."""
import math

import torch
from torch import nn


class SinusoidalPositionalEncoding(nn.Module):
    """Add fixed sine/cosine position codes to a sequence.

    Args:
        embed_dims (int): Feature size D (even).
        max_len (int): Longest sequence supported.

    Args (forward):
        x (torch.Tensor): (B, T, D) with T <= max_len.

    Returns:
        torch.Tensor: (B, T, D), ``x`` plus the codes of positions 0..T-1.
    """

    def __init__(self, embed_dims: int, max_len: int = 512) -> None:
        super().__init__()
        if embed_dims % 2:
            raise ValueError(f'SinusoidalPositionalEncoding: embed_dims {embed_dims} must be even')
        position = torch.arange(max_len, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(0, embed_dims, 2, dtype=torch.float32)
                        * (-math.log(10000.0) / embed_dims))
        table = torch.zeros(max_len, embed_dims)
        table[:, 0::2] = torch.sin(position * div)
        table[:, 1::2] = torch.cos(position * div)
        self.register_buffer('table', table, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.table.shape[0]:
            raise ValueError(f'sequence length {x.shape[1]} > max_len {self.table.shape[0]}')
        return x + self.table[:x.shape[1]].unsqueeze(0)
