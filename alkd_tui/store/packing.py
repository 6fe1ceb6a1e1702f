"""Item sequences as compact blobs: little-endian int32, so a 1M-session dataset stays small."""

from __future__ import annotations

import numpy as np

_DTYPE = np.dtype("<i4")


def pack_items(items: np.ndarray | list[int]) -> bytes:
    """Pack a sequence of item indices into a blob."""
    return np.asarray(items, dtype=_DTYPE).tobytes()


def unpack_items(blob: bytes) -> np.ndarray:
    """Unpack a blob written by `pack_items` (a read-only int32 array)."""
    return np.frombuffer(blob, dtype=_DTYPE)
