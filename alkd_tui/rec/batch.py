"""Batches of sessions as padded tensors, the input every recommender takes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class SessionBatch:
    """A batch of sessions, left-aligned and padded: `items[b, :lengths[b]]` are session b's
    input items, oldest first; the rest is `pad` (= the number of items, an index no real
    item has). `targets` holds the next items where known."""

    items: torch.Tensor  # int64 [B, L]
    lengths: torch.Tensor  # int64 [B], each >= 1
    pad: int
    targets: torch.Tensor | None = None  # int64 [B]

    @property
    def mask(self) -> torch.Tensor:
        """True at real items, False at padding: bool [B, L]."""
        return self.items != self.pad

    @property
    def last_items(self) -> torch.Tensor:
        """Each session's most recent item: int64 [B]."""
        return self.items.gather(1, (self.lengths - 1).unsqueeze(1)).squeeze(1)

    def to(self, device: torch.device | str) -> SessionBatch:
        return SessionBatch(
            self.items.to(device),
            self.lengths.to(device),
            self.pad,
            None if self.targets is None else self.targets.to(device),
        )


def pad_last(
    items: np.ndarray, offsets: np.ndarray, rows: np.ndarray, max_len: int, pad: int
) -> tuple[np.ndarray, np.ndarray]:
    """The last `max_len` inputs of instances `rows`, left-aligned in a [len(rows), width]
    array padded with `pad`; and their lengths."""
    ends = offsets[rows + 1]
    lengths = np.minimum(ends - offsets[rows], max_len)
    width = max(int(lengths.max()) if len(rows) else 1, 1)
    col = np.arange(width)
    take = col[None, :] < lengths[:, None]
    source = (ends - lengths)[:, None] + col[None, :]
    out = np.full((len(rows), width), pad, dtype=np.int64)
    out[take] = items[source[take]]
    return out, lengths.astype(np.int64)


def make_batch(
    items: np.ndarray,
    offsets: np.ndarray,
    rows: np.ndarray,
    n_items: int,
    max_len: int,
    targets: np.ndarray | None = None,
) -> SessionBatch:
    """Pad instances `rows` (their last `max_len` inputs) from flat arrays into a batch."""
    padded, lengths = pad_last(items, offsets, np.asarray(rows), max_len, n_items)
    return SessionBatch(
        torch.from_numpy(padded),
        torch.from_numpy(lengths),
        n_items,
        None if targets is None else torch.from_numpy(targets[rows].astype(np.int64)),
    )


def mask_own_items(scores: torch.Tensor, batch: SessionBatch) -> torch.Tensor:
    """`scores` ([B, n_items], of `batch`'s sessions) with each session's own input items set to
    -inf, in place (they are never candidates nor recommendations); returns `scores`."""
    mask = batch.items != batch.pad
    rows = torch.arange(scores.shape[0], device=scores.device).unsqueeze(1).expand_as(batch.items)
    scores[rows[mask], batch.items[mask]] = float("-inf")
    return scores
