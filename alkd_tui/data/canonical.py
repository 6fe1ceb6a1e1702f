"""The one canonical in-memory form of a session dataset, and of the raw clicks behind it.

Every format loader produces either a `ClickLog` (raw clicks, preprocessed into sessions by
`alkd_tui.data.preprocess`) or a `SessionDataset` directly (formats with given splits). The
store, the recommenders and everything after them read a `SessionDataset`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SPLIT_NAMES = ("train", "valid", "test")
SPLIT_CODES = {name: code for code, name in enumerate(SPLIT_NAMES)}
TRAIN, VALID, TEST = 0, 1, 2


@dataclass
class SessionDataset:
    """Instances (ordered input items and the next item) with their splits and the item catalogue.

    Item references are 0-based indices into `item_ids`. The inputs of instance `k` are
    `items[offsets[k]:offsets[k + 1]]`, oldest first; its next item is `targets[k]`.
    """

    item_ids: list[str]
    session_ids: list[str]
    split: np.ndarray  # int8 split codes, one per instance
    offsets: np.ndarray  # int64, n_sessions + 1
    items: np.ndarray  # int32, the inputs of all instances, concatenated
    targets: np.ndarray  # int32
    titles: list[str | None] | None = None
    attributes: list[dict[str, Any] | None] | None = None
    start_times: np.ndarray | None = None  # float64 unix seconds, NaN where unknown
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def n_sessions(self) -> int:
        return len(self.targets)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def lengths(self) -> np.ndarray:
        """The number of input items of each instance."""
        return np.diff(self.offsets)

    def inputs(self, k: int) -> np.ndarray:
        """The input items of instance `k`, oldest first."""
        return self.items[self.offsets[k] : self.offsets[k + 1]]

    def split_counts(self) -> dict[str, int]:
        """How many instances each split holds."""
        counts = np.bincount(self.split, minlength=len(SPLIT_NAMES))
        return {name: int(counts[code]) for code, name in enumerate(SPLIT_NAMES)}

    def validate(self) -> None:
        """Raise `ValueError` when the arrays do not describe a consistent dataset."""
        n = self.n_sessions
        if len(self.session_ids) != n or len(self.split) != n or len(self.offsets) != n + 1:
            raise ValueError("session arrays disagree in length")
        if self.offsets[0] != 0 or self.offsets[-1] != len(self.items):
            raise ValueError("offsets do not cover the items")
        if n and self.lengths.min() < 1:
            raise ValueError("an instance has no input items")
        if self.items.size and (self.items.min() < 0 or self.items.max() >= self.n_items):
            raise ValueError("an input item index is out of range")
        if n and (self.targets.min() < 0 or self.targets.max() >= self.n_items):
            raise ValueError("a target item index is out of range")
        if self.titles is not None and len(self.titles) != self.n_items:
            raise ValueError("titles and items disagree in length")
        if self.attributes is not None and len(self.attributes) != self.n_items:
            raise ValueError("attributes and items disagree in length")
        if len(set(self.item_ids)) != self.n_items:
            raise ValueError("item ids are not unique")

    def truncated(self, max_length: int) -> SessionDataset:
        """A copy whose instances keep only their last `max_length` input items."""
        lengths = self.lengths
        if not lengths.size or lengths.max() <= max_length:
            return self
        seg = np.repeat(np.arange(self.n_sessions), lengths)
        from_end = self.offsets[seg + 1] - np.arange(len(self.items))
        keep = from_end <= max_length
        new_lengths = np.minimum(lengths, max_length)
        offsets = np.zeros(self.n_sessions + 1, dtype=np.int64)
        np.cumsum(new_lengths, out=offsets[1:])
        return _replace(self, items=self.items[keep], offsets=offsets)


def _replace(ds: SessionDataset, **changes: Any) -> SessionDataset:
    from dataclasses import replace

    return replace(ds, **changes)


@dataclass
class ClickLog:
    """Raw clicks: one row per click, keys factorised into integer codes.

    `session` groups clicks into sessions (already sessionised: loaders that read user logs
    cut them by inactivity first). `time` is unix seconds (or the row number where a format
    has no time). `split`, where a format gives one per click, is a split code.
    """

    source: str
    session: np.ndarray  # int64 codes into session_keys
    item: np.ndarray  # int64 codes into item_keys
    time: np.ndarray  # float64
    session_keys: list[str]
    item_keys: list[str]
    has_time: bool = True
    split: np.ndarray | None = None  # int8 codes per click, where the format gives them
    titles: dict[str, str] | None = None
    attributes: dict[str, dict[str, Any]] | None = None

    @property
    def n_clicks(self) -> int:
        return len(self.session)
