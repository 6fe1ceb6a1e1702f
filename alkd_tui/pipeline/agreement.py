"""How far reviewers agree: for every pair of reviewers, the labels both decided, their percent
agreement and Cohen's kappa over the verdicts (accepted, rejected, flagged; an edit is an
accept, a skip is no verdict); for more than two reviewers, Light's kappa (the mean of the
pairs'); and the labels whose verdicts differ."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import combinations
from typing import Any


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels of the same items (None when chance agreement is
    certain, e.g. both always gave one verdict: kappa is undefined there)."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[c] * cb[c] for c in ca) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def agreement(verdicts: Iterable[tuple[int, Sequence[tuple[str, str]]]]) -> dict[str, Any]:
    """Agreement over labels given as (request id, ((reviewer, verdict), ...)).

    Returns the reviewers, per pair the labels both decided (`labels`), `percent` agreement
    and `kappa`, Light's `kappa` and the overall `percent` over every pair's labels, and the
    `disagreements` (request ids whose verdicts differ)."""
    by_label: dict[int, dict[str, str]] = {}
    for request, pairs in verdicts:
        decided = {who: v for who, v in pairs if v != "skipped"}
        if decided:
            by_label[request] = decided
    reviewers = sorted({who for decided in by_label.values() for who in decided})
    rows = []
    agree = total = 0
    for x, y in combinations(reviewers, 2):
        both = [(d[x], d[y]) for d in by_label.values() if x in d and y in d]
        if not both:
            continue
        same = sum(p == q for p, q in both)
        agree, total = agree + same, total + len(both)
        kappa = cohen_kappa([p for p, _ in both], [q for _, q in both])
        rows.append({
            "reviewers": [x, y], "labels": len(both), "percent": round(100 * same / len(both), 1),
            "kappa": None if kappa is None else round(kappa, 4),
        })  # fmt: skip
    kappas = [r["kappa"] for r in rows if r["kappa"] is not None]
    return {
        "reviewers": reviewers,
        "pairs": rows,
        "percent": round(100 * agree / total, 1) if total else None,
        "kappa": round(sum(kappas) / len(kappas), 4) if kappas else None,
        "disagreements": sorted(r for r, d in by_label.items() if len(set(d.values())) > 1),
    }
