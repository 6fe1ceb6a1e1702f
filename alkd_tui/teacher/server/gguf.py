"""Read a GGUF file's metadata and tensor shapes without loading the model.

Enough of the format (v2/v3, little-endian) to answer `/api/tags` and `/api/show`: the
key-value pairs (long arrays such as the tokenizer vocabulary are kept as their length only)
and the parameter count summed over the tensor shapes.
"""

from __future__ import annotations

import hashlib
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCALARS: dict[int, tuple[str, int]] = {
    0: ("<B", 1),  # uint8
    1: ("<b", 1),  # int8
    2: ("<H", 2),  # uint16
    3: ("<h", 2),  # int16
    4: ("<I", 4),  # uint32
    5: ("<i", 4),  # int32
    6: ("<f", 4),  # float32
    7: ("<?", 1),  # bool
    10: ("<Q", 8),  # uint64
    11: ("<q", 8),  # int64
    12: ("<d", 8),  # float64
}
_STRING, _ARRAY = 8, 9
_MAX_ARRAY_KEPT = 64

# llama.cpp's `llama_ftype` (general.file_type) -> Ollama's quantization level names.
FILE_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S",
    29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
}  # fmt: skip


class GGUFError(ValueError):
    """The file is not a GGUF file this reader understands."""


@dataclass(frozen=True)
class LongArray:
    """An array too long to keep (e.g. the vocabulary): its element type and length."""

    type: int
    length: int


@dataclass
class GGUFInfo:
    """What a GGUF file says about itself."""

    path: Path
    version: int
    metadata: dict[str, Any]
    parameter_count: int
    tensor_count: int
    size: int
    _digest: str | None = field(default=None, repr=False)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    @property
    def context_length(self) -> int | None:
        value = self.metadata.get(f"{self.architecture}.context_length")
        return int(value) if isinstance(value, int) else None

    @property
    def quantization_level(self) -> str:
        file_type = self.metadata.get("general.file_type")
        return FILE_TYPES.get(file_type, "unknown") if isinstance(file_type, int) else "unknown"

    @property
    def parameter_size(self) -> str:
        """Like Ollama: `134.52M`, `7.2B`."""
        n = self.parameter_count
        for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
            if n >= scale:
                return f"{n / scale:.2f}".rstrip("0").rstrip(".") + unit
        return str(n)

    def sha256(self) -> str:
        """The hex SHA-256 of the file (computed once, ~0.3 s for 100 MB)."""
        if self._digest is None:
            h = hashlib.sha256()
            with self.path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            self._digest = h.hexdigest()
        return self._digest

    def scalar_metadata(self) -> dict[str, Any]:
        """Metadata for `/api/show`'s model_info: long arrays shown as null, like Ollama."""
        return {
            k: (None if isinstance(v, LongArray) else v) for k, v in sorted(self.metadata.items())
        }


class _Reader:
    def __init__(self, buf: mmap.mmap) -> None:
        self.buf = buf
        self.pos = 0

    def unpack(self, fmt: str, size: int) -> Any:
        if self.pos + size > len(self.buf):
            raise GGUFError("truncated file")
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        n = self.unpack("<Q", 8)
        if self.pos + n > len(self.buf):
            raise GGUFError("truncated string")
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def skip_string(self) -> None:
        n = self.unpack("<Q", 8)
        self.pos += n

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(*_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype = self.unpack("<I", 4)
            count = self.unpack("<Q", 8)
            if count > _MAX_ARRAY_KEPT:
                if etype in _SCALARS:
                    self.pos += count * _SCALARS[etype][1]
                elif etype == _STRING:
                    for _ in range(count):
                        self.skip_string()
                else:
                    for _ in range(count):
                        self.value(etype)
                return LongArray(etype, count)
            return [self.value(etype) for _ in range(count)]
        raise GGUFError(f"unknown value type {vtype}")


def read_gguf(path: str | Path) -> GGUFInfo:
    """Read the header of the GGUF file at `path` (raises `GGUFError` or `OSError`)."""
    path = Path(path)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        r = _Reader(buf)
        if len(buf) < 24 or buf[:4] != b"GGUF":
            raise GGUFError(f"{path} is not a GGUF file")
        r.pos = 4
        version = r.unpack("<I", 4)
        if version not in (2, 3):
            raise GGUFError(f"{path}: GGUF version {version} is not supported")
        n_tensors = r.unpack("<Q", 8)
        n_kv = r.unpack("<Q", 8)
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string()
            metadata[key] = r.value(r.unpack("<I", 4))
        n_params = 0
        for _ in range(n_tensors):
            r.skip_string()
            n_dims = r.unpack("<I", 4)
            count = 1
            for _ in range(n_dims):
                count *= r.unpack("<Q", 8)
            r.pos += 4 + 8  # type, offset
            n_params += count
        size = len(buf)
    return GGUFInfo(
        path=path,
        version=version,
        metadata=metadata,
        parameter_count=n_params,
        tensor_count=n_tensors,
        size=size,
    )
