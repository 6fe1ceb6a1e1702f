"""`alkd review`: review teacher labels without a screen (each decision an append-only event)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from alkd_tui.cli.options import JsonOpt
from alkd_tui.cli.output import OutputMode, err, out
from alkd_tui.cli.settings import settings_options
from alkd_tui.cli.state import state
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.settings import ReviewSettings

review_app = typer.Typer(
    help="Review teacher labels: list, accept, reject, undo, import decisions.",
    no_args_is_help=True,
)

SelectionArg = Annotated[str, typer.Argument(help="Selection name or id.", show_default=False)]
TeacherOpt = Annotated[
    str | None, typer.Option("--teacher", help="Only this teacher model's labels.")
]
IdsOpt = Annotated[
    list[int] | None, typer.Option("--id", help="A teacher request id (repeatable).")
]
NoteOpt = Annotated[str, typer.Option("--note", help="A note kept with the decision.")]
ReviewerOpt = Annotated[
    str | None,
    typer.Option("--reviewer", help="Who decides (default: $ALKD_REVIEWER, else your user name)."),
]


def _labels(ctx: typer.Context, selection: str, teacher: str | None) -> tuple[Any, list[Any]]:
    from alkd_tui.pipeline.review import selection_labels
    from alkd_tui.pipeline.selection import get_selection

    store = state(ctx).store()
    sel = get_selection(store, selection)
    assert sel.id is not None
    return sel, selection_labels(store, sel.id, teacher)


@review_app.command("list")
def list_(
    ctx: typer.Context,
    selection: SelectionArg,
    teacher: TeacherOpt = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, accepted, rejected, skipped or flagged."),
    ] = None,
    undecided_by: Annotated[
        str | None,
        typer.Option(
            "--undecided-by", help="Only labels this reviewer has no decision on (their queue)."
        ),
    ] = None,
    disagreements: Annotated[
        bool,
        typer.Option("--disagreements", help="Only labels whose reviewers' verdicts differ."),
    ] = False,
    json: JsonOpt = False,
) -> None:
    """List a selection's labels with their review status and who decided what."""
    _, labels = _labels(ctx, selection, teacher)

    def wanted(lb: Any) -> bool:
        verdicts = lb.review
        return (
            (status is None or lb.status == status)
            and (undecided_by is None or verdicts is None or verdicts.verdict_of(undecided_by) is None)
            and (not disagreements or (verdicts is not None and verdicts.disagreement))
        )

    rows = [
        {"request": lb.request_id, "session": lb.session_key, "model": lb.model_name, "status": lb.status,
         "parse_status": lb.parse_status, "ranking_length": len(lb.ranking), "edited": lb.edited,
         "verdicts": dict(lb.review.verdicts) if lb.review else {}}
        for lb in labels if wanted(lb)
    ]  # fmt: skip
    counts: dict[str, int] = {}
    for lb in labels:
        counts[lb.status] = counts.get(lb.status, 0) + 1

    def human() -> None:
        table = Table("request", "session", "model", "status", "parse", "ranked", "decided by")
        for r in rows:
            table.add_row(
                str(r["request"]),
                r["session"],
                r["model"],
                r["status"],
                r["parse_status"] or "",
                str(r["ranking_length"]),
                ", ".join(f"{who}: {verdict}" for who, verdict in r["verdicts"].items()),
            )
        out.print(table)
        err.print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())))

    OutputMode(json=json).result({"labels": rows, "counts": counts}, human)


def _decide(
    ctx: typer.Context, action: str, ids: list[int], note: str, reviewer: str | None
) -> list[int]:
    from alkd_tui.pipeline.review import record_review

    store = state(ctx).store()
    return [
        record_review(store, request_id, action, note=note, reviewer=reviewer) for request_id in ids
    ]


@review_app.command("accept")
@settings_options(ReviewSettings, exclude={"policy"})
def accept(
    ctx: typer.Context,
    selection: SelectionArg,
    settings: ReviewSettings,
    ids: IdsOpt = None,
    teacher: TeacherOpt = None,
    note: NoteOpt = "",
    reviewer: ReviewerOpt = None,
    json: JsonOpt = False,
) -> None:
    """Accept labels by id, or every pending label that meets a rule (and a minimum confidence)."""
    from alkd_tui.pipeline.review import accept_by_rule

    by_rule = bool(settings.model_fields_set & {"rule", "min_confidence"})
    if bool(ids) == by_rule:
        raise BadInputError("give --id (one or more) or --rule / --min-confidence, not both")
    sel, labels = _labels(ctx, selection, teacher)
    if by_rule:
        result: dict[str, Any] = accept_by_rule(
            state(ctx).store(), sel.id, settings.rule, min_confidence=settings.min_confidence,
            model_name=teacher, reviewer=reviewer, note=note,
        )  # fmt: skip
    else:
        known = {lb.request_id for lb in labels}
        unknown = [i for i in ids or [] if i not in known]
        if unknown:
            raise BadInputError(f"--id {unknown[0]}: not a label of selection {sel.name!r}")
        result = {"accepted": len(_decide(ctx, "accept", ids or [], note, reviewer))}
    OutputMode(json=json).result(
        result, lambda: err.print(", ".join(f"{k} {v}" for k, v in result.items()))
    )


def _simple(action: str):  # type: ignore[no-untyped-def]
    def command(
        ctx: typer.Context,
        selection: SelectionArg,
        ids: IdsOpt = None,
        teacher: TeacherOpt = None,
        note: NoteOpt = "",
        reviewer: ReviewerOpt = None,
        json: JsonOpt = False,
    ) -> None:
        if not ids:
            raise BadInputError("give the labels with --id")
        sel, labels = _labels(ctx, selection, teacher)
        known = {lb.request_id for lb in labels}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise BadInputError(f"--id {unknown[0]}: not a label of selection {sel.name!r}")
        events = _decide(ctx, action, ids, note, reviewer)
        OutputMode(json=json).result(
            {action: len(events), "events": events}, lambda: err.print(f"{action}: {len(events)}")
        )

    command.__doc__ = {"reject": "Reject labels by id.", "undo": "Undo your latest standing decision on labels.",
                       "flag": "Flag labels for a second look.", "skip": "Skip labels (no decision)."}[action]  # fmt: skip
    return command


for _action in ("reject", "undo", "flag", "skip"):
    review_app.command(_action)(_simple(_action))


@review_app.command("require")
def require(
    ctx: typer.Context,
    selection: SelectionArg,
    reviewers: Annotated[
        int,
        typer.Argument(
            help="Reviewers who must decide each label (1: the latest decision stands).",
            show_default=False,
        ),
    ],
    json: JsonOpt = False,
) -> None:
    """Ask for several reviewers' decisions per label: a label stays pending until that many
    have decided, and the majority's verdict stands (no majority: flagged)."""
    from alkd_tui.pipeline.review import require_reviews

    result = require_reviews(state(ctx).store(), selection, reviewers)
    OutputMode(json=json).result(
        result,
        lambda: err.print(
            f"{result['selection']}: {reviewers} decision{'s' if reviewers > 1 else ''} per label"
        ),
    )


@review_app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            help="JSONL of decisions (`alkd export reviews` writes one): request, action, optional "
            "ranking (edit), note, reviewer, created_at.",
            show_default=False,
        ),
    ],
    json: JsonOpt = False,
) -> None:
    """Import review decisions from a JSONL file (all or nothing); decisions already recorded
    (same request, action, ranking, note, reviewer and time) are skipped, so a second import of
    the same file changes nothing."""
    from alkd_tui.pipeline.review import import_decisions

    result = import_decisions(state(ctx).store(), path)
    OutputMode(json=json).result(
        result,
        lambda: err.print(
            f"imported {result['imported']} decisions, skipped {result['skipped']} already recorded"
        ),
    )
