"""Datasets: format loaders, the canonical in-memory form, preprocessing, import into the store."""

from alkd_tui.data.canonical import SPLIT_CODES, SPLIT_NAMES, ClickLog, SessionDataset
from alkd_tui.data.loading import load_dataset

__all__ = ["SPLIT_CODES", "SPLIT_NAMES", "ClickLog", "SessionDataset", "load_dataset"]
