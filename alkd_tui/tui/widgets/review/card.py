"""The focus card of one label: the session in order, the teacher's ranking beside a student's top-k, provenance, and on demand the raw prompt and answer."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from alkd_tui.pipeline.results import ItemView, LabelDetail
from alkd_tui.pipeline.review import RULE_MEANING
from alkd_tui.pipeline.settings import ReviewSettings, field_specs
from alkd_tui.pipeline.views import (
    QUEUE_FILTERS,
    QUEUE_SORTS,
)

ALL = "*"
STATUS_STYLE = {
    "pending": "",
    "accepted": "green",
    "rejected": "red",
    "skipped": "dim",
    "flagged": "yellow",
}
SORTS = QUEUE_SORTS
FILTERS = QUEUE_FILTERS
#: The rules `ReviewSettings` offers, its default first, each with what it accepts.
RULE = next(s for s in field_specs(ReviewSettings) if s.name == "rule")
RULES = [(r, RULE_MEANING[r]) for r in sorted(RULE.choices, key=lambda r: r != RULE.default)]


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def render_card(
    detail: LabelDetail, student: list[ItemView] | None, student_name: str | None
) -> Group:
    """The focus card: the session, the target, the two rankings side by side, provenance."""
    member = detail.member or {}
    status = detail.status + (" (edited)" if detail.edited else "")
    head = Text.assemble(
        ("session ", "dim"), (detail.session_key, "bold"),
        ("  status ", "dim"), (status, f"bold {STATUS_STYLE.get(detail.status, '')}"),
        ("  parse ", "dim"), (str(detail.parse_status), ""),
    )  # fmt: skip
    if detail.verdicts:
        decided = Text("decided by ", style="dim")
        for n, (who, verdict) in enumerate(detail.verdicts.items()):
            decided.append(", " if n else "")
            decided.append(who, style="bold")
            decided.append(f" {verdict}", style=STATUS_STYLE.get(verdict, ""))
        if detail.reviews_required > 1:
            decided.append(f"  ({detail.reviews_required} decisions needed)", style="dim")
        head = Text.assemble(head, "\n", decided)
    why = Text.assemble(
        ("why chosen: ", "dim"),
        f"order {member.get('order', '-')} · p {_num(member.get('probability'))} · "
        f"difficulty {_num(member.get('difficulty'))} · gain {_num(member.get('gain'))}",
    )
    session = Table.grid(padding=(0, 1))
    session.add_column(justify="right", style="dim")
    session.add_column()
    for n, item in enumerate(detail.session, start=1):
        session.add_row(str(n), Text.assemble(item.label, (f"  {item.item}", "dim")))
    target = detail.target
    target_line = Text.assemble(
        ("◆ true next item ", "bold magenta"), target.label, (f"  {target.item}", "dim"),
        ("  (for the audit: the LLM never saw it)", "dim italic"),
    )  # fmt: skip
    teacher = "teacher recommender" if detail.provenance["backend"] == "tr" else "LLM"
    rankings = Table(
        "#", f"{teacher} ranking" + (" (edited)" if detail.edited else ""), "score",
        "student top-k", "score",
        expand=True, show_edge=False, pad_edge=False, box=None, header_style="bold",
        caption=f"student: {student_name or 'choose one above'}", caption_justify="left", caption_style="dim",
    )  # fmt: skip
    llm = detail.ranking
    other = student or []
    other_ids = {s.idx for s in other}
    llm_ids = {i.idx for i in llm}
    for n in range(max(len(llm), len(other))):
        cells: list[Any] = [str(n + 1)]
        for items, elsewhere in ((llm, other_ids), (other, llm_ids)):
            if n < len(items):
                item = items[n]
                mark = "◆ " if item.is_target else ("• " if item.idx in elsewhere else "  ")
                style = "bold magenta" if item.is_target else ""
                cells += [
                    Text(mark + item.label, style=style, overflow="ellipsis", no_wrap=True),
                    _num(item.score),
                ]
            else:
                cells += ["", ""]
        rankings.add_row(*cells)
    if not llm and not other:
        rankings.add_row("", Text("empty ranking", style="yellow"), "", "", "")
    p = detail.provenance
    options = ", ".join(f"{k}={v}" for k, v in sorted((p.get("options") or {}).items()))
    provenance = Text.assemble(
        ("provenance  ", "bold"),
        f"{p['model']} ({p['backend']})",
        (f" · digest {str(p['digest'])[:19]}" if p.get("digest") else ""),
        (f" · server {p['server_version']}" if p.get("server_version") else ""),
        f" · template {p['template_version'] or '-'} · latency {_num(p.get('latency_s'))}s",
        f" · tokens {p.get('prompt_tokens') or 0}/{p.get('output_tokens') or 0} · attempts {p.get('attempts')}",
        f" · request {detail.request} · run {p.get('run') or '-'}",
        (f"\noptions  {options}", "dim"),
    )  # fmt: skip
    legend = Text("◆ the true next item   • in both lists", style="dim")
    return Group(
        head, why, Text(""), Text("session, oldest first", style="bold underline"), session, target_line,
        Text(""), rankings, legend, Text(""), provenance,
    )  # fmt: skip


def render_raw(detail: LabelDetail) -> Group:
    """The raw prompt and answer, parse notes and the review history."""
    history = Table(
        "event", "action", "reviewer", "note", box=None, show_edge=False, header_style="bold"
    )
    for h in detail.history:
        history.add_row(str(h["id"]), h["action"], Text(h["reviewer"]), Text(h["note"]))
    notes = "; ".join(detail.parse_notes) or "none"
    return Group(
        Text("prompt", style="bold underline"), Text(detail.prompt or "(none stored)"), Text(""),
        Text("raw answer", style="bold underline"), Text(detail.raw_response or "(none)"), Text(""),
        Text(f"parse notes: {notes}", style="dim"), Text(""),
        Text("review history (append-only)", style="bold underline"), history,
    )  # fmt: skip
