"""`alkd audit`: how good the stored teacher answers were, and what they cost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from alkd_tui.cli.options import JsonOpt
from alkd_tui.cli.output import OutputMode, out
from alkd_tui.cli.settings import settings_options
from alkd_tui.cli.state import state
from alkd_tui.pipeline.settings import AuditSettings


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _assumed(data: dict[str, Any], key: str) -> str:
    """` (assumed 0.5000)` beside a measured class share, where the selection assumed one."""
    assumed = data.get("assumed_ratios") or {}
    if key not in ("effective", "similar", "incorrect") or key not in assumed:
        return ""
    return f" (assumed {_fmt(assumed[key])})"


@settings_options(AuditSettings)
def audit(
    ctx: typer.Context,
    settings: AuditSettings,
    selection: Annotated[
        str | None, typer.Option("--selection", help="Only this selection's sessions.")
    ] = None,
    teacher: Annotated[
        str | None, typer.Option("--teacher", help="Only this teacher model's answers.")
    ] = None,
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only this dataset's answers.")
    ] = None,
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="Only answers for selections of this strategy.")
    ] = None,
    student: Annotated[
        str | None,
        typer.Option(
            "--student", help="Compare with this student: effective / similar / incorrect shares."
        ),
    ] = None,
    save_ratios: Annotated[
        bool,
        typer.Option(
            "--save-ratios",
            help="Keep the measured ratios with the selection (for `alkd select --ratios from:SELECTION`).",
        ),
    ] = False,
    sessions_dir: Annotated[
        Path | None,
        typer.Option(
            "--sessions-dir",
            help="Write the session ids of each class (with --student) and of hit@K / miss to "
            "files in this folder, one id per line: pools for `alkd select --pool ids:FILE`.",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Audit teacher answers: hits against the true next item, parse failures, duplicates,
    latency and tokens, review decisions; overall, by model and by strategy. By selection: one
    answer per session and teacher model (the label review and distillation use), and the
    ratios the selection assumed beside the measured shares."""
    from alkd_tui.pipeline.audit import audit as run_audit

    data = run_audit(state(ctx).store(), selection=selection, teacher=teacher, dataset=dataset, strategy=strategy,
                     student=student, settings=settings, save_ratios=save_ratios,
                     sessions_dir=sessions_dir)  # fmt: skip

    def human() -> None:
        table = Table(show_header=False, box=None, title="teacher answers", title_justify="left")
        for key in ("requests", "answers", "parsed", "failed", "pending", "hit@1", "hit@5", "hit@10", "hit@25",
                    "effective", "similar", "incorrect", "estimated_ratios", "duplicates", "answers_with_duplicates",
                    "unknown_ids", "acceptance_rate"):  # fmt: skip
            if key in data:
                table.add_row(key, _fmt(data[key]) + _assumed(data, key))
        if data.get("assumed_ratios"):
            assumed = data["assumed_ratios"]
            table.add_row(
                "assumed ratios", f"{assumed['ratios']} (the {assumed['strategy']} selection's)"
            )
        table.add_row("parse", ", ".join(f"{k} {v}" for k, v in data.get("parse", {}).items()))
        table.add_row("review", ", ".join(f"{k} {v}" for k, v in data.get("review", {}).items()))
        lat = data.get("latency_s", {})
        if lat.get("p50") is not None:
            table.add_row("latency (s)", f"p50 {lat['p50']}, p90 {lat['p90']}, p99 {lat['p99']}")
        for key in ("prompt_tokens", "output_tokens"):
            tok = data.get(key, {})
            if tok.get("p50") is not None:
                table.add_row(
                    key.replace("_", " "),
                    f"p50 {tok['p50']:g}, p90 {tok['p90']:g}, total {tok['total']:,.0f}",
                )
        if data.get("classes_from") == "calibration":
            table.add_row("classes from", "the calibration (validation) sessions")
        out.print(table)
        accuracy = Table(
            "hit rate", "hit@1", "hit@10", "hit@25", "sessions", title="how honest the hit@k is",
            title_justify="left",
        )  # fmt: skip
        accuracy.add_row("the LLM, training sessions (the labels)", *(_fmt(data.get(k)) for k in
                         ("hit@1", "hit@10", "hit@25", "answers")))  # fmt: skip
        cal = data.get("calibration")
        if cal:
            accuracy.add_row("the LLM, calibration sessions (its accuracy)", *(_fmt(cal.get(k)) for k in
                             ("hit@1", "hit@10", "hit@25", "answers")))  # fmt: skip
        leak = data.get("candidate_leak") or {}
        for part, label in (("training", "candidate lists, training sessions"),
                            ("validation", "candidate lists, validation sessions")):  # fmt: skip
            if part in leak:
                f = leak[part]
                accuracy.add_row(label, *(_fmt(f.get(k)) for k in ("hit@1", "hit@10", "hit@25", "sessions")))
        if cal or leak:
            out.print(accuracy)
            if leak.get("validation_from"):
                out.print(f"validation lists: {leak['validation_from']}")
            if leak.get("warning"):
                out.print(f"[yellow]warning:[/] {escape(leak['warning'])}")
        for group in ("by_model", "by_strategy"):
            rows = data.get(group, {})
            if len(rows) > 1 or group == "by_model":
                t = Table(
                    group.replace("_", " "),
                    "answers",
                    "hit@10",
                    "hit@25",
                    "effective",
                    "accepted",
                    title_justify="left",
                )
                for name, f in rows.items():
                    t.add_row(name, _fmt(f["answers"]), _fmt(f["hit@10"]), _fmt(f["hit@25"]), _fmt(f.get("effective")),
                              _fmt(f["acceptance_rate"]))  # fmt: skip
                out.print(t)
        agreed = data.get("agreement") or {}
        if agreed.get("pairs"):
            t = Table("reviewers", "labels", "agreement %", "Cohen's kappa", title="review agreement",
                      title_justify="left")  # fmt: skip
            for pair in agreed["pairs"]:
                t.add_row(" & ".join(pair["reviewers"]), str(pair["labels"]), _fmt(pair["percent"]),
                          _fmt(pair["kappa"]))  # fmt: skip
            out.print(t)
            if len(agreed["pairs"]) > 1:
                out.print(f"all pairs: {_fmt(agreed['percent'])}% agreement, Light's kappa {_fmt(agreed['kappa'])}")
            if agreed["disagreements"]:
                out.print(f"{len(agreed['disagreements'])} labels with differing verdicts "
                          "(`alkd review list SELECTION --disagreements`)")  # fmt: skip
        lists = data.get("session_lists")
        if lists:
            sizes = ", ".join(f"{name} {n:,}" for name, n in lists["files"].items())
            out.print(f"session lists in {escape(lists['folder'])}: {sizes}")

    OutputMode(json=json).result(data, human)
