"""Audit: the `alkd audit` figures as tables and charts (hits against the true next item,
parse statuses, review decisions, latency and tokens, classes against a student), filtered
by selection, strategy, teacher model and dataset."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from rich import box
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.widgets import Label, Select, Static

from alkd_tui.pipeline.audit import audit
from alkd_tui.pipeline.datasets import list_datasets
from alkd_tui.pipeline.results import SelectionSummary
from alkd_tui.pipeline.selection import STRATEGIES, list_selections
from alkd_tui.pipeline.views import teacher_models
from alkd_tui.tui.screens.base import AreaScreen, PaletteCommand
from alkd_tui.tui.widgets.charts import BarChart
from alkd_tui.tui.widgets.form import FormSelect

ANY = "*"
GROUP_KEYS = (
    "answers",
    "parsed",
    "hit@1",
    "hit@5",
    "hit@10",
    "hit@25",
    "effective",
    "similar",
    "incorrect",
    "acceptance_rate",
)


class AuditChoices(Message):
    def __init__(
        self,
        selections: list[SelectionSummary],
        teachers: list[str],
        students: list[str],
        datasets: list[str],
    ) -> None:
        super().__init__()
        self.selections = selections
        self.teachers = teachers
        self.students = students
        self.datasets = datasets


class AuditReady(Message):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__()
        self.result = result


def _v(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def overview(result: dict[str, Any]) -> Table:
    table = Table(
        "figure",
        "value",
        box=box.SIMPLE_HEAD,
        header_style="bold",
        title="answers",
        title_justify="left",
    )
    for key in ("requests", "answers", "questions", "failed", "pending", "parsed", "duplicates", "answers_with_duplicates",
                "unknown_ids", "acceptance_rate", "estimated_ratios"):  # fmt: skip
        if key in result:
            table.add_row(key.replace("_", " "), Text(_v(result[key])))
    return table


def costs(result: dict[str, Any]) -> Table:
    table = Table("", "p50", "p90", "p99", "mean", "total", box=box.SIMPLE_HEAD, header_style="bold",
                  title="latency (s) and tokens", title_justify="left")  # fmt: skip
    for key in ("latency_s", "prompt_tokens", "output_tokens"):
        row = result.get(key) or {}
        label = {
            "latency_s": "latency (s)",
            "prompt_tokens": "prompt tok.",
            "output_tokens": "output tok.",
        }[key]
        table.add_row(label, *(_v(row.get(k)) for k in ("p50", "p90", "p99", "mean", "total")))
    return table


def honesty(result: dict[str, Any]) -> Table | Text:
    """The LLM's hit@k on the training sessions (its labels), on the calibration sessions
    (its accuracy where no list memorised the target), and the candidate lists' own hit@k on
    training and validation sessions (the candidate leak), with the warning where it leaks."""
    rows: list[tuple[str, dict[str, Any]]] = [("LLM, training sessions", result)]
    if result.get("calibration"):
        rows.append(("LLM, calibration (accuracy)", result["calibration"]))
    leak = result.get("candidate_leak") or {}
    rows += [(f"candidates, {part}", leak[part]) for part in ("training", "validation") if part in leak]
    if len(rows) == 1:
        return Text("")
    table = Table("hit rate", "hit@1", "hit@10", "hit@25", box=box.SIMPLE_HEAD, header_style="bold",
                  title="how honest the hit@k is", title_justify="left",
                  caption=leak.get("warning"), caption_justify="left", caption_style="yellow")  # fmt: skip
    for label, figures in rows:
        table.add_row(label, *(_v(figures.get(f"hit@{k}")) for k in (1, 10, 25)))
    return table


def groups(result: dict[str, Any], key: str, title: str) -> Table:
    data = result.get(key) or {}
    shown = [k for k in GROUP_KEYS if any(k in g for g in data.values())]
    table = Table(
        title.split()[-1],
        *(k.replace("acceptance_rate", "accepted") for k in shown),
        box=box.SIMPLE_HEAD,
        header_style="bold",
        title=title,
        title_justify="left",
    )
    for name, figures in data.items():
        table.add_row(Text(name), *(_v(figures.get(k)) for k in shown))
    return table


def reviewers(result: dict[str, Any]) -> Table | Text:
    """How far reviewers agree: per pair, the labels both decided, percent agreement and
    Cohen's kappa; Light's kappa over the pairs; how many labels have differing verdicts."""
    agreed = result.get("agreement") or {}
    if not agreed.get("pairs"):
        return Text("")
    caption = f"{len(agreed['disagreements'])} labels with differing verdicts"
    if len(agreed["pairs"]) > 1:
        caption = f"all pairs: {_v(agreed['percent'])}% agreement, Light's kappa {_v(agreed['kappa'])}; " + caption
    table = Table("reviewers", "labels", "agree %", "kappa", box=box.SIMPLE_HEAD, header_style="bold",
                  title="review agreement (Cohen's kappa)", title_justify="left",
                  caption=caption, caption_justify="left", caption_style="dim")  # fmt: skip
    for pair in agreed["pairs"]:
        table.add_row(Text(" & ".join(pair["reviewers"])), _v(pair["labels"]), _v(pair["percent"]),
                      _v(pair["kappa"]))  # fmt: skip
    return table


CLASSES = ("effective", "similar", "incorrect")


def class_bars(result: dict[str, Any]) -> tuple[list[tuple[str, float | None]], str]:
    """The classes chart: the measured shares, each followed by the share the selection's
    policy assumed (where it assumed ratios), and the chart's title."""
    if "effective" not in result:
        return [], "classes: choose a student"
    assumed = result.get("assumed_ratios") or {}
    bars: list[tuple[str, float | None]] = []
    for name in CLASSES:
        bars.append((name, result.get(name)))
        if name in assumed:
            bars.append(("  assumed", assumed[name]))
    if not assumed:
        return bars, "classes against the student"
    return bars, (
        f"classes against the student, and as the {assumed['strategy']} selection assumed them "
        f"({assumed['ratios']})"
    )


class AuditScreen(AreaScreen):
    """Audit of the teacher's answers."""

    AREA = "audit"
    HELP = """\
How good the teacher's answers were and what they cost: **hit@k** is the share of answers
whose first k items contain the true next item; the parse statuses say how cleanly answers
could be read; the review bars count the decisions. Choose a **student** to sort answers
into *effective* (only the teacher finds the target), *similar* (the student would have
said much the same) and *incorrect* (the teacher misses it) — the classes the selection's
ratios assume; for one selection, each share has the one its policy assumed beneath it.

**How honest the hit@k is**: a teacher recommender memorises its training sessions, so its
candidate lists there often hold the target, and an LLM that copies the list looks
accurate. The table sets the LLM's hit@k on the training sessions beside its hit@k on the
*calibration* sessions (validation sessions asked with `alkd label --calibration N`: its real
accuracy; the classes then come from them) and the lists' own hit@k on training and
validation sessions (the *candidate leak*, warned about in yellow). The tables at the bottom
split the figures by teacher model and by strategy.

Filters: selection, strategy (of the selection the answers were asked for), teacher model,
dataset. Every change runs the audit again (in the background).
"""
    BINDINGS: ClassVar[list[BindingType]] = []

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="audit-filters"):
            yield FormSelect([], id="aud-selection", prompt="any selection")
            yield FormSelect([], id="aud-strategy", prompt="any strategy")
            yield FormSelect([], id="aud-teacher", prompt="any teacher model")
            yield FormSelect([], id="aud-dataset", prompt="any dataset")
            yield FormSelect([], id="aud-student", prompt="no student (no classes)")
        with VerticalScroll(id="audit-body"):
            yield Static("", id="aud-status")
            with Horizontal(classes="charts"):
                yield Static("", id="aud-overview")
                yield BarChart("hit@k (share of answers)", id="aud-hits", width=24, fmt="{:.3f}")
                yield BarChart("parse status", id="aud-parse", width=20)
            with Horizontal(classes="charts"):
                yield BarChart("review", id="aud-review", width=20)
                yield BarChart(
                    "classes against the student", id="aud-classes", width=20, fmt="{:.3f}"
                )
                yield Static("", id="aud-costs")
            yield Static("", id="aud-honesty")
            yield Static("", id="aud-by-model")
            yield Static("", id="aud-by-strategy")
            yield Static("", id="aud-reviewers")
            yield Label("")

    def on_mount(self) -> None:
        self._ready = False
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if self._ready:
            self.action_refresh()

    def action_refresh(self) -> None:
        self.load_choices()

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-choices")
    def load_choices(self) -> None:
        from alkd_tui.pipeline.models import list_models

        students = [
            m.name
            for m in list_models(self.store)
            if m.role in ("student", "distilled") and m.status == "done"
        ]
        datasets = [d.name for d in list_datasets(self.store)]
        self.post_message(
            AuditChoices(
                list_selections(self.store), teacher_models(self.store), students, datasets
            )
        )

    def on_audit_choices(self, message: AuditChoices) -> None:
        self._ready = False
        strategies = sorted({s.strategy for s in message.selections} | set(STRATEGIES))
        for selector, names in (("#aud-selection", [s.name for s in message.selections]),
                                ("#aud-strategy", strategies), ("#aud-teacher", message.teachers),
                                ("#aud-dataset", message.datasets), ("#aud-student", message.students)):  # fmt: skip
            widget = self.query_one(selector, Select)
            current = widget.value
            with widget.prevent(Select.Changed):
                widget.set_options([(n, n) for n in names])
                if current in names:
                    widget.value = current
        if (
            len(message.datasets) > 1
            and self.query_one("#aud-dataset", Select).value is Select.NULL
        ):
            with self.query_one("#aud-dataset", Select).prevent(Select.Changed):
                self.query_one("#aud-dataset", Select).value = message.datasets[0]
        self._ready = True
        self.run_audit_now()

    def filters(self) -> dict[str, str | None]:
        values: dict[str, str | None] = {}
        for key in ("selection", "strategy", "teacher", "dataset", "student"):
            value = self.query_one(f"#aud-{key}", Select).value
            values[key] = None if value is Select.NULL else str(value)
        return values

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        if self._ready:
            self.run_audit_now()

    def run_audit_now(self) -> None:
        filters = self.filters()
        shown = ", ".join(f"{k} {v}" for k, v in filters.items() if v) or "all answers"
        self.query_one("#aud-status", Static).update(f"auditing {shown}…")
        self.run_audit(filters)

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit")
    def run_audit(self, filters: dict[str, str | None]) -> None:
        with self.alkd.heap.paused():
            result = audit(self.store, **filters)
        self.post_message(AuditReady(result))

    def on_audit_ready(self, message: AuditReady) -> None:
        r = message.result
        filters = ", ".join(f"{k} {v}" for k, v in r["filters"].items() if v) or "all answers"
        self.query_one("#aud-status", Static).update(
            f"[b]audit[/b] of {escape(filters)}: {r['answers']:,} answers of {r['requests']:,} requests"
            + ("" if r["answers"] else " · nothing to audit yet: label a selection first (key 3)")
        )
        self.query_one("#aud-overview", Static).update(overview(r))
        self.query_one("#aud-hits", BarChart).plot(
            [(f"hit@{k}", r.get(f"hit@{k}")) for k in (1, 5, 10, 25)], top=1.0
        )
        self.query_one("#aud-parse", BarChart).plot(list((r.get("parse") or {}).items()))
        self.query_one("#aud-review", BarChart).plot(list((r.get("review") or {}).items()))
        bars, title = class_bars(r)
        self.query_one("#aud-classes", BarChart).plot(bars, title, top=1.0)
        self.query_one("#aud-costs", Static).update(costs(r))
        self.query_one("#aud-honesty", Static).update(honesty(r))
        self.query_one("#aud-by-model", Static).update(groups(r, "by_model", "by teacher model"))
        self.query_one("#aud-by-strategy", Static).update(groups(r, "by_strategy", "by strategy"))
        self.query_one("#aud-reviewers", Static).update(reviewers(r))

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield ("Audit everything", "Clear the filters", self._clear)

    def _clear(self) -> None:
        self._ready = False
        for key in ("selection", "strategy", "teacher", "dataset", "student"):
            self.query_one(f"#aud-{key}", Select).clear()
        self._ready = True
        self.run_audit_now()
