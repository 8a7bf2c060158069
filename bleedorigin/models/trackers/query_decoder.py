"""Query decoder of the tracker: attention blocks built from plain ``nn.Linear`` layers.

The projections are ordinary linear layers named ``q_proj``, ``k_proj``,
``v_proj``, ``out_proj``, ``fc1`` and ``fc2`` so that peft LoRA / AdaLoRA can
target them by name (section 4.2.2: adapters on the attention and MLP layers).
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn


def sample_points(feat: torch.Tensor, points: torch.Tensor, stride: int) -> torch.Tensor:
    """Bilinearly sample a feature map at pixel positions of the network input.

    Coordinates follow the data format: origin at the top-left corner of the
    top-left pixel, so a feature cell of stride ``s`` is centred at ``(j + .5) s``.

    Args:
        feat (Tensor): (B, C, h, w) feature map covering ``(h * s, w * s)`` pixels.
        points (Tensor): (B, N, 2) x, y in input pixels.
        stride (int): s.

    Returns:
        Tensor: (B, N, C) sampled features (zeros outside the map).
    """
    if points.dim() != 3 or points.shape[-1] != 2:
        raise ValueError(f'points must be (B, N, 2), got {tuple(points.shape)}')
    return sample_grid(feat, points[:, :, None, :], stride)[:, :, 0, :]


def sample_grid(feat: torch.Tensor, points: torch.Tensor, stride: int) -> torch.Tensor:
    """Sample ``feat`` (B, C, h, w) at (B, N, P, 2) input-pixel positions -> (B, N, P, C)."""
    _, _, h, w = feat.shape
    extent = points.new_tensor([w * stride, h * stride])
    grid = points / extent * 2 - 1
    out = F.grid_sample(feat, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
    return out.permute(0, 2, 3, 1)  # (B, C, N, P) -> (B, N, P, C)


class Attention(nn.Module):
    """Multi-head attention with separate, LoRA-targetable projections.

    Args:
        embed_dims (int): Query and output channels.
        num_heads (int): Attention heads.
        kv_dims (int, optional): Key/value input channels (defaults to
            ``embed_dims``); larger when red-attention features are appended.
    """

    def __init__(self, embed_dims: int, num_heads: int, kv_dims: Optional[int] = None):
        super().__init__()
        kv_dims = kv_dims or embed_dims
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims {embed_dims} not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dims, embed_dims)
        self.k_proj = nn.Linear(kv_dims, embed_dims)
        self.v_proj = nn.Linear(kv_dims, embed_dims)
        self.out_proj = nn.Linear(embed_dims, embed_dims)

    def forward(self, query: torch.Tensor, key_value: torch.Tensor,
                key_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Attend.

        Args:
            query (Tensor): (B, Lq, C).
            key_value (Tensor): (B, Lk, Ckv).
            key_mask (Tensor, optional): (B, Lk) bool, True = attend.

        Returns:
            Tensor: (B, Lq, C).
        """
        b, lq, c = query.shape
        lk = key_value.shape[1]
        heads = self.num_heads
        q = self.q_proj(query).view(b, lq, heads, c // heads).transpose(1, 2)
        k = self.k_proj(key_value).view(b, lk, heads, c // heads).transpose(1, 2)
        v = self.v_proj(key_value).view(b, lk, heads, c // heads).transpose(1, 2)
        mask = None if key_mask is None else key_mask[:, None, None, :]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out_proj(out.transpose(1, 2).reshape(b, lq, c))


class MLP(nn.Module):
    """Two-layer perceptron ``fc1 -> GELU -> fc2``."""

    def __init__(self, in_dims: int, hidden_dims: int, out_dims: int):
        super().__init__()
        self.fc1 = nn.Linear(in_dims, hidden_dims)
        self.fc2 = nn.Linear(hidden_dims, out_dims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class QueryDecoderLayer(nn.Module):
    """One decoder layer: self-attention among the K point queries, attention
    to the spatial + context memory, local attention to frame features sampled
    (grid_sample) in a window around the previous position, then an MLP.

    Note:
        B: clips, K: queries, M: memory slots, P: local window samples,
        C: ``embed_dims``, Ckv: key/value channels (visual + red features).

    Args:
        embed_dims (int): C.
        num_heads (int): Attention heads.
        kv_dims (int): Ckv of the local frame tokens.
        mlp_ratio (int): Hidden size of the MLP relative to C.
    """

    def __init__(self, embed_dims: int, num_heads: int, kv_dims: int, mlp_ratio: int = 2):
        super().__init__()
        self.self_attn = Attention(embed_dims, num_heads)
        self.memory_attn = Attention(embed_dims, num_heads)
        self.local_attn = Attention(embed_dims, num_heads, kv_dims)
        self.mlp = MLP(embed_dims, embed_dims * mlp_ratio, embed_dims)
        self.norms = nn.ModuleList(nn.LayerNorm(embed_dims) for _ in range(4))

    def forward(self, query: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor,
                local_tokens: torch.Tensor) -> torch.Tensor:
        """Decode.

        Args:
            query (Tensor): (B, K, C).
            memory (Tensor): (B, K, M, C).
            memory_mask (Tensor): (B, K, M) bool, True = valid slot.
            local_tokens (Tensor): (B, K, P, Ckv).

        Returns:
            Tensor: (B, K, C).
        """
        b, k, c = query.shape
        x = self.norms[0](query)
        query = query + self.self_attn(x, x)
        x = self.norms[1](query).reshape(b * k, 1, c)
        query = query + self.memory_attn(
            x, memory.flatten(0, 1), memory_mask.flatten(0, 1)).view(b, k, c)
        x = self.norms[2](query).reshape(b * k, 1, c)
        query = query + self.local_attn(x, local_tokens.flatten(0, 1)).view(b, k, c)
        return query + self.mlp(self.norms[3](query))
