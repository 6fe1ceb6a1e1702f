"""Small building blocks the session recommenders share (not a public API)."""

from __future__ import annotations

import torch
from torch import nn


def item_embedding(n_items: int, dim: int) -> nn.Embedding:
    """An item table with `n_items + 1` rows; row `n_items` is padding (kept at zero)."""
    return nn.Embedding(n_items + 1, dim, padding_idx=n_items)


def zero_padding_rows(module: nn.Module) -> None:
    """Reset the padding row of every embedding with a `padding_idx` to zero (after init)."""
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.Embedding) and sub.padding_idx is not None:
                sub.weight[sub.padding_idx].zero_()


def gather_last(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each session's vector at its last real position: [B, L, D] -> [B, D]."""
    index = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, x.size(-1))
    return x.gather(1, index).squeeze(1)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the real positions: x [B, L, D], mask bool [B, L] -> [B, D]."""
    weights = mask.unsqueeze(-1).to(x.dtype)
    return (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)


def auto_heads(dim: int, heads: int | None, candidates: tuple[int, ...]) -> int:
    """The number of attention heads: `heads` if given (it must divide `dim`), else the first
    of `candidates` that divides `dim`."""
    if heads is None:
        return next(h for h in candidates if dim % h == 0)
    if heads < 1 or dim % heads:
        raise ValueError(f"heads={heads} must be a positive divisor of dim={dim}")
    return heads
