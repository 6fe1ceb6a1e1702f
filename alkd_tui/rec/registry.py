"""Every recommender alkd can train, by name: the one list the CLI's choices, the TUI's lists,
run validation and the recipes read. A new architecture is one module in `rec/models/` and
one line here. Nothing is imported until a model is built, so listing names costs nothing
(no torch)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from alkd_tui.errors import BadInputError


@dataclass(frozen=True)
class Recommender:
    """One trainable recommender: its name, where its class is, what it is."""

    name: str
    target: str
    """`module:Class` of the implementation (a `SessionRecommender` or a `FittedRecommender`)."""
    summary: str
    baseline: bool = False
    """Fitted by counting (no embeddings, no training loop): no difficulty, no distillation."""

    def load(self) -> type[Any]:
        """The implementing class (imports its module: torch for the neural ones)."""
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


RECOMMENDERS: dict[str, Recommender] = {
    r.name: r
    for r in (
        Recommender("fpmc", "alkd_tui.rec.models.fpmc:FPMC", "factorised Markov chain: last item to next"),
        Recommender("stamp", "alkd_tui.rec.models.stamp:STAMP", "short-term attention/memory priority"),
        Recommender("gru4rec", "alkd_tui.rec.models.gru4rec:GRU4Rec", "a GRU over the session"),
        Recommender("narm", "alkd_tui.rec.models.narm:NARM", "a GRU with attention"),
        Recommender("sasrec", "alkd_tui.rec.models.sasrec:SASRec", "self-attention (a small transformer)"),
        Recommender("srgnn", "alkd_tui.rec.models.srgnn:SRGNN", "a gated graph network over the session"),
        Recommender("attenmixer", "alkd_tui.rec.models.attenmixer:AttenMixer", "multi-level attention mixture"),
        Recommender("pop", "alkd_tui.rec.baselines:MostPopular", "the most clicked training items", baseline=True),
        Recommender("sknn", "alkd_tui.rec.baselines:SessionKNN", "session k-nearest neighbours", baseline=True),
    )
}  # fmt: skip


def canonical(name: str) -> str:
    """A recommender name as registered: case, '-' and '_' ignored ("SR-GNN" is "srgnn")."""
    return name.strip().lower().replace("-", "").replace("_", "")


def get_recommender(name: str) -> Recommender:
    """The recommender called `name`, or one line listing the known ones."""
    found = RECOMMENDERS.get(canonical(name))
    if found is None:
        raise BadInputError(f"--model {name!r}: known are {', '.join(RECOMMENDERS)}")
    return found


def neural() -> list[str]:
    """The names of the embedding recommenders (those difficulty and distillation can use)."""
    return [r.name for r in RECOMMENDERS.values() if not r.baseline]
