"""The session recommenders, one module per architecture (listed in `alkd_tui.rec.registry`)."""

from __future__ import annotations

from typing import Any

from alkd_tui.errors import BadInputError
from alkd_tui.rec.models.attenmixer import AttenMixer
from alkd_tui.rec.models.base import SessionRecommender
from alkd_tui.rec.models.fpmc import FPMC
from alkd_tui.rec.models.gru4rec import GRU4Rec
from alkd_tui.rec.models.narm import NARM
from alkd_tui.rec.models.sasrec import SASRec
from alkd_tui.rec.models.srgnn import SRGNN
from alkd_tui.rec.models.stamp import STAMP
from alkd_tui.rec.registry import RECOMMENDERS, canonical, neural

#: Every neural architecture by its name, as the registry lists them.
ARCHITECTURES: dict[str, type[SessionRecommender]] = {
    name: RECOMMENDERS[name].load() for name in neural()
}


def build_model(
    architecture: str, n_items: int, dim: int, max_len: int = 10, **hparams: Any
) -> SessionRecommender:
    """A fresh model of `architecture` (case, '-' and '_' ignored: "SR-GNN" is "srgnn").

    Raises `BadInputError` for an unknown architecture, a bad size, or a bad or unknown
    hyper-parameter.
    """
    key = canonical(architecture)
    cls = ARCHITECTURES.get(key)
    if cls is None:
        known = ", ".join(ARCHITECTURES)
        raise BadInputError(f"unknown architecture {architecture!r}; known: {known}")
    if n_items < 1 or dim < 1 or max_len < 1:
        raise BadInputError(
            f"{key}: n_items, dim and max_len must be positive "
            f"(got n_items={n_items}, dim={dim}, max_len={max_len})"
        )
    try:
        return cls(n_items, dim, max_len, **hparams)
    except (TypeError, ValueError) as err:
        raise BadInputError(f"{key}: {err}") from err


__all__ = [
    "ARCHITECTURES",
    "FPMC",
    "NARM",
    "SRGNN",
    "STAMP",
    "AttenMixer",
    "GRU4Rec",
    "SASRec",
    "SessionRecommender",
    "build_model",
]
