"""Run history: list runs, show one, compare two (settings that differ, metrics side by side)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import select

from alkd_tui.errors import NotFoundError
from alkd_tui.pipeline.run_records import shown_status
from alkd_tui.store import Run, RunMetric, Store


def _get(store: Store, run_id: str) -> Run:
    with store.reading() as orm:
        run = orm.get(Run, int(run_id)) if str(run_id).isdigit() else None
    if run is None:
        raise NotFoundError(f"no run {run_id!r} in {store.where} (see `alkd runs list`)")
    return run


def list_runs(store: Store, kind: str | None = None) -> list[dict[str, Any]]:
    """Every run (of `kind`, if given), newest first."""
    with store.reading() as orm:
        query = select(Run).order_by(Run.id.desc())  # type: ignore[union-attr]
        if kind is not None:
            query = query.where(Run.kind == kind)
        runs = list(orm.exec(query))
    return [
        {
            "run": r.id, "kind": r.kind, "name": r.name, "status": shown_status(r.status, r.owner), "seed": r.seed,
            "error": r.error, "parent": r.parent_id,
            "started_at": r.started_at.isoformat(timespec="seconds"),
            "finished_at": r.finished_at.isoformat(timespec="seconds") if r.finished_at else None,
            "seconds": round((r.finished_at - r.started_at).total_seconds(), 3) if r.finished_at else None,
        }
        for r in runs
    ]  # fmt: skip


def _metrics(store: Store, run_id: int) -> list[dict[str, Any]]:
    with store.reading() as orm:
        rows = orm.exec(select(RunMetric).where(RunMetric.run_id == run_id).order_by(RunMetric.id))
        return [{"step": m.step, "split": m.split, "name": m.name, "value": m.value} for m in rows]


def show_run(store: Store, run_id: str) -> dict[str, Any]:
    """One run: config, environment, steps (pipeline runs), figures."""
    run = _get(store, run_id)
    assert run.id is not None
    if run.kind == "pipeline":
        from alkd_tui.pipeline.whole_run import run_summary

        return {**run_summary(store, run.id).as_json(), "metrics": _metrics(store, run.id)}
    return {
        "run": run.id, "kind": run.kind, "name": run.name, "status": shown_status(run.status, run.owner),
        "error": run.error, "seed": run.seed,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "finished_at": run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
        "config": run.config, "env": run.env, "steps": run.steps, "metrics": _metrics(store, run.id),
    }  # fmt: skip


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists stay values."""
    if not isinstance(data, dict):
        return {prefix: data}
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def _figures(shown: dict[str, Any]) -> dict[str, float]:
    if shown.get("results"):
        return {
            k: v
            for k, v in flatten(shown["results"]).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
    metrics = shown.get("metrics", [])
    # A figure is named by split and metric, so that a train run and a distill run line up;
    # by step too only where one run holds it for several steps (a whole `alkd run`).
    seen = Counter((m["split"], m["name"]) for m in metrics)
    figures = {}
    for m in metrics:
        step = m["step"] if seen[(m["split"], m["name"])] > 1 else ""
        figures[".".join(part for part in (step, m["split"], m["name"]) if part)] = m["value"]
    return figures


def diff_runs(store: Store, first: str, second: str) -> dict[str, Any]:
    """The settings that differ between two runs, and their metrics side by side."""
    a, b = show_run(store, first), show_run(store, second)
    config_a, config_b = flatten(a["config"]), flatten(b["config"])
    config = {
        key: (config_a.get(key), config_b.get(key))
        for key in sorted(set(config_a) | set(config_b))
        if config_a.get(key) != config_b.get(key)
    }
    fig_a, fig_b = _figures(a), _figures(b)
    # The figures both runs have first, then those of one run only.
    keys = sorted(set(fig_a) | set(fig_b), key=lambda k: (not (k in fig_a and k in fig_b), k))
    metrics = {key: (fig_a.get(key), fig_b.get(key)) for key in keys}
    return {
        "runs": [a["run"], b["run"]],
        "kinds": [a["kind"], b["kind"]],
        "config": config,
        "metrics": metrics,
    }
