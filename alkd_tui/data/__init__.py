"""Datasets: format loaders, the canonical in-memory form, preprocessing, import into the store.

The names below load on first use, so that importing a submodule stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SPLIT_CODES": "alkd_tui.data.canonical",
    "SPLIT_NAMES": "alkd_tui.data.canonical",
    "ClickLog": "alkd_tui.data.canonical",
    "SessionDataset": "alkd_tui.data.canonical",
    "load_dataset": "alkd_tui.data.loading",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
