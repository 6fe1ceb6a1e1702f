"""One split of a dataset as padded tensors, cut into batches without Python loops."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from alkd_tui.data.canonical import SPLIT_CODES, SessionDataset
from alkd_tui.rec.batch import SessionBatch, pad_last


@dataclass
class Instances:
    """The instances of one split: inputs (left-aligned, padded with `pad`), lengths, targets."""

    items: torch.Tensor  # int64 [n, width]
    lengths: torch.Tensor  # int64 [n]
    targets: torch.Tensor  # int64 [n]
    rows: np.ndarray  # the instances' indices in the dataset
    pad: int

    @classmethod
    def of_split(cls, ds: SessionDataset, split: str, max_len: int) -> Instances:
        """The instances of `split` ("train", "valid", "test"), keeping the last `max_len` inputs."""
        rows = np.flatnonzero(ds.split == SPLIT_CODES[split])
        return cls.of_rows(ds, rows, max_len)

    @classmethod
    def of_rows(cls, ds: SessionDataset, rows: np.ndarray, max_len: int) -> Instances:
        """The given instances (dataset indices), keeping the last `max_len` inputs."""
        padded, lengths = pad_last(ds.items, ds.offsets, rows, max_len, ds.n_items)
        return cls(
            torch.from_numpy(padded),
            torch.from_numpy(lengths),
            torch.from_numpy(ds.targets[rows].astype(np.int64)),
            rows,
            ds.n_items,
        )

    def __len__(self) -> int:
        return len(self.targets)

    def batch(
        self, index: torch.Tensor | np.ndarray | slice, device: torch.device | None = None
    ) -> SessionBatch:
        """The instances at `index` as a batch, trimmed to its longest session (on `device`,
        if given; the instances stay on the CPU)."""
        if isinstance(index, np.ndarray):
            index = torch.from_numpy(index)
        lengths = self.lengths[index]
        width = int(lengths.max()) if len(lengths) else 1
        batch = SessionBatch(self.items[index, :width], lengths, self.pad, self.targets[index])
        return batch if device is None or device.type == "cpu" else batch.to(device)

    def batches(  # type: ignore[no-untyped-def]
        self, batch_size: int, order: np.ndarray | None = None, device: torch.device | None = None
    ):
        """Consecutive batches (in `order`, if given) of at most `batch_size` instances, on
        `device` if given."""
        n = len(self)
        for start in range(0, n, batch_size):
            if order is None:
                yield self.batch(slice(start, min(start + batch_size, n)), device)
            else:
                yield self.batch(order[start : start + batch_size], device)
