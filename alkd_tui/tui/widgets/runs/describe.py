"""How the Runs area shows runs and models: table rows, a run's or a model's details, the comparison of two runs."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from alkd_tui.pipeline.results import ModelSummary, distillation_note
from alkd_tui.terminal_text import cut

METRICS = ("recall@5", "recall@10", "ndcg@5", "ndcg@10", "mrr@10")
JOB_KINDS = ("train", "distill", "run")  # the jobs this area starts and follows


def _m(value: Any) -> str:
    """A figure: counts as whole numbers (1,600), rates with 3 decimals."""
    if value is None:
        return "-"
    return f"{value:,.0f}" if _whole(value) else f"{value:.3f}"


def _whole(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) >= 1)


def comparison(rows: list[tuple[str, str, dict[str, Any]]], title: str) -> Group:
    """Models side by side on the test split, (role, name, metrics) rows: a figure per line
    and a model per column (narrow enough for a small terminal), the distilled student's
    change against the student in the last column; the models' names below."""
    roles = [role for role, _, _ in rows]
    delta = "student" in roles and "distilled" in roles
    table = Table(
        "", *roles, *(["Δ"] if delta else []), title=title, title_justify="left",
        header_style="bold", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
    )  # fmt: skip
    for column in table.columns:
        column.no_wrap = True
    figures = [("test", m, m.replace("recall", "R").replace("ndcg", "N").replace("mrr", "MRR"))
               for m in METRICS] + [("test_excluding_own", "recall@10", "R@10 excl.")]  # fmt: skip
    by_role = {role: metrics for role, _, metrics in rows}
    for split, metric, label in figures:
        values = [(by_role[role].get(split, {}) or {}).get(metric) for role in roles]
        cells: list[Any] = [_m(v) for v in values]
        if delta:
            before = (by_role["student"].get(split, {}) or {}).get(metric)
            after = (by_role["distilled"].get(split, {}) or {}).get(metric)
            change = None if before is None or after is None else after - before
            cells.append(
                ""
                if change is None
                else Text(f"{change:+.3f}", style="green" if change > 0 else "red" if change < 0 else "")
            )
        table.add_row(Text(label, style="bold"), *cells)
    names = [Text.assemble((f"{role}: ", "dim"), name) for role, name, _ in rows]
    note = Text(
        "R@10 excl.: the session's own items excluded (the paper's protocol); "
        "Δ: the distilled student against the student",
        style="dim",
    )
    return Group(table, *names, note)


def model_row(m: ModelSummary) -> tuple[Any, ...]:
    test = m.metrics.get("test", {}) or {}
    done = m.status == "done"
    return (
        Text(
            m.name if done else f"{m.name} ({m.status})",
            overflow="ellipsis",
            no_wrap=True,
            style="" if done else "dim",
        ),
        m.role,
        m.architecture,
        m.dim,
        _m(test.get("recall@10")),
        _m(test.get("ndcg@10")),
    )


def run_row(r: dict[str, Any]) -> tuple[Any, ...]:
    style = {"done": "green", "failed": "red", "interrupted": "yellow", "running": "cyan"}.get(
        r["status"], ""
    )
    return (
        r["run"], r["kind"], Text(r["name"], overflow="ellipsis", no_wrap=True), Text(r["status"], style=style),
        "" if r["seconds"] is None else f"{r['seconds']:.1f}", r["parent"] or "",
    )  # fmt: skip


def curve_table(run: dict[str, Any]) -> Group | None:
    """A label curve run (`alkd curve`): its points with bars, and the verdict."""
    from alkd_tui.pipeline.curve import curve_of_run, curve_rows

    found = curve_of_run(run)
    if found is None:
        return None
    columns, rows = curve_rows(found)
    table = Table(*columns, box=box.SIMPLE_HEAD, header_style="bold", title_justify="left",
                  title=f"label curve ({found.seeds} seeds, validation)")  # fmt: skip
    for row in rows:
        table.add_row(*row)
    return Group(table, Text(found.verdict, style="dim"))


def describe_run(run: dict[str, Any], models: dict[str, ModelSummary]) -> Group:
    """A run: status, steps, results side by side (pipeline) or its figures."""
    parts: list[Any] = [
        Text.assemble(
            (f"run {run['run']} ", "bold"),
            f"{run['kind']} · {run['name']} · ",
            (run["status"], "bold"),
        ),
    ]
    if run.get("error"):
        parts.append(Text(f"error: {run['error']}", style="red"))
    if run.get("steps"):
        steps = Table(
            "step",
            "status",
            "seconds",
            box=None,
            header_style="bold",
            title="steps",
            title_justify="left",
        )
        for name, step in run["steps"].items():
            steps.add_row(name, step.get("status", ""), str(step.get("seconds", "")))
        parts.append(steps)
    results = run.get("results")
    if results:
        rows = []
        for role, label in (
            ("teacher_recommender", "teacher"),
            ("student", "student"),
            ("distilled", "distilled"),
        ):
            values = results.get(role)
            if values:
                rows.append((label, values.get("model") or "", values))
        parts.append(comparison(rows, "test split: teacher recommender, student, distilled"))
        note = distillation_note(run.get("distillation"))
        if note:
            parts.append(Text(note, style="dim"))
    elif run["kind"] in ("train", "distill") and (run.get("config") or {}).get("model") in models:
        made = models[run["config"]["model"]]
        rows = [
            ("teacher", m.name, m.metrics)
            for m in models.values()
            if m.role == "teacher" and m.dataset_id == made.dataset_id
            and m.status == "done" and m.name != made.name
        ]  # fmt: skip
        student = models.get(run["config"].get("student"))
        if student is not None:
            rows.append(("student", student.name, student.metrics))
        rows.append((made.role, made.name, made.metrics))
        parts.append(comparison(rows, "test split, side by side"))
    elif run["kind"] == "curve" and (curve := curve_table(run)) is not None:
        parts.append(curve)
    elif run.get("metrics"):
        cells: dict[str, dict[str, float]] = {}
        for m in run["metrics"]:
            cells.setdefault(m["split"] or m["step"] or "-", {})[m["name"]] = m["value"]
        names = list(dict.fromkeys(name for row in cells.values() for name in row))[:10]
        if len(cells) == 1:  # one row of figures reads better as a column
            ((split, row),) = cells.items()
            metrics = Table("figure", split or "value", box=box.SIMPLE_HEAD, header_style="bold",
                            title="figures", title_justify="left")  # fmt: skip
            for name, value in row.items():
                metrics.add_row(name.replace("_", " "), f"{value:.4g}")
        else:
            metrics = Table("", *names, box=box.SIMPLE_HEAD, header_style="bold", title="figures",
                            title_justify="left")  # fmt: skip
            for split, row in cells.items():
                metrics.add_row(split, *(f"{row[n]:.4g}" if n in row else "" for n in names))
        parts.append(metrics)
    config = run.get("config") or {}
    if config:
        shown = ", ".join(
            f"{k}={v}"
            for k, v in list(config.items())[:12]
            if not isinstance(v, dict | list) and not k.endswith(("sha256", "hash"))
        )
        parts.append(Text(f"config: {cut(shown, 240)}", style="dim"))
    return Group(*parts)


def describe_model(model: ModelSummary, models: list[ModelSummary]) -> Group:
    """A model beside its relatives: the student it came from and the teacher recommenders."""
    by_id = {m.model: m for m in models}
    rows = [(t.role, t.name, t.metrics) for t in models
            if t.role == "teacher" and t.dataset_id == model.dataset_id and t.status == "done"]  # fmt: skip
    parent = by_id.get(model.parent) if model.parent is not None else None
    if model.role == "distilled" and parent is not None:
        rows.append(("student", parent.name, parent.metrics))
    if model.role != "teacher":
        rows.append((model.role, model.name, model.metrics))
    training = model.metrics.get("training", {})
    return Group(
        Text.assemble(
            (model.name, "bold"),
            f"  {model.architecture} d{model.dim} · {model.role} · {model.status}",
        ),
        Text(f"training: {training}" if training else "", style="dim"),
        comparison(rows, "test split, side by side"),
    )


def describe_diff(diff: dict[str, Any]) -> Group:
    a, b = diff["runs"]
    config = Table(
        "setting",
        f"run {a}",
        f"run {b}",
        title="settings that differ",
        title_justify="left",
        header_style="bold",
    )
    for key, (x, y) in diff["config"].items():
        config.add_row(Text(key), Text(str(x)), Text(str(y)))
    metrics = Table(
        "metric",
        f"run {a}",
        f"run {b}",
        f"run {b} − run {a}",
        title="figures",
        title_justify="left",
        header_style="bold",
    )
    for key, (x, y) in diff["metrics"].items():
        if x is None or y is None:
            delta = ""
        else:
            delta = f"{y - x:+,.0f}" if _whole(x) and _whole(y) else f"{y - x:+.4f}"
        metrics.add_row(key, _m(x), _m(y), delta)
    return Group(config, Text(""), metrics)
