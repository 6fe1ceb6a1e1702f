"""Reviewing teacher labels: append-only decisions, and a label's status from its history.

Actions: `accept`, `reject`, `edit` (a new ranking, in `after`), `skip`, `flag`, and `undo`,
which cancels the reviewer's own latest decision still standing. Each reviewer's verdict on a
label is their latest standing decision. With one decision required (the default), a label's
status is the latest standing decision by anyone (`pending` when there is none). A selection
can require N > 1 (`alkd review require`): then a label is `pending` until N reviewers have a
verdict other than skip, and its status is the verdict of a strict majority of them, or
`flagged` when there is none (a disagreement for another reviewer to settle). An edited
label's ranking is its latest standing edit. docs/method.md, "Several reviewers".
"""

from __future__ import annotations

import getpass
import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection

from alkd_tui.errors import BadInputError, InputFileError, NotFoundError, shown
from alkd_tui.store import ReviewEvent, Store, teacher_requests
from alkd_tui.store.answers import selection_label_rows
from alkd_tui.store.reviews import review_event_rows

ACTIONS = ("accept", "reject", "edit", "skip", "flag", "undo")
STATUS_OF = {
    "accept": "accepted",
    "reject": "rejected",
    "edit": "accepted",
    "skip": "skipped",
    "flag": "flagged",
}
RULES = ("parsed", "ok", "full")
#: What each rule accepts, in words (for lists of the rules).
RULE_MEANING = {
    "parsed": "every pending label with a non-empty ranking",
    "ok": "pending labels parsed cleanly (exactly N known ids)",
    "full": "pending labels parsed cleanly or repaired to the asked length",
}


class ReviewSettings(BaseModel):
    """Who decides the labels: a rule, or a person; `alkd review accept`, the TUI's accept by
    rule and `alkd run`'s [review] section."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    policy: Literal["auto", "manual"] = "auto"
    """auto: accept the labels that meet the rule; manual: stop until a person has reviewed
    them (alkd-tui, `alkd review`)."""
    rule: Literal[RULES] = "parsed"  # type: ignore[valid-type]
    """parsed: a non-empty ranking; ok: parsed cleanly; full: parsed cleanly or repaired."""
    min_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    """Also require the teacher's score for its top choice to be at least this (soft labels
    give a probability); labels without a score are then left pending."""


@dataclass
class Label:
    """A teacher's answer for one session, as reviewed."""

    request_id: int
    session_id: int
    session_index: int
    session_key: str
    model_name: str
    ranking: list[int]
    scores: list[float] | None
    parse_status: str | None
    status: str  # pending, accepted, rejected, skipped, flagged
    edited: bool = False
    review: ReviewState | None = None
    """Each reviewer's verdict and the decisions required (None: no decision yet)."""


#: Who decides when no --reviewer is given: this variable, else the OS user.
REVIEWER_ENV = "ALKD_REVIEWER"


def default_reviewer() -> str:
    """`$ALKD_REVIEWER`, else the OS user name."""
    named = os.environ.get(REVIEWER_ENV, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class ReviewState:
    """Where the review of one answer stands: its status and, if edited, the new ranking;
    each reviewer's verdict (their latest standing decision's status) and the decisions the
    label needs."""

    status: str
    edited_ranking: list[int] | None = None
    verdicts: tuple[tuple[str, str], ...] = ()
    required: int = 1

    @property
    def decided(self) -> int:
        """Reviewers with a verdict other than skipped."""
        return sum(1 for _, status in self.verdicts if status != "skipped")

    @property
    def disagreement(self) -> bool:
        """Whether reviewers' verdicts (other than skipped) differ."""
        return len({status for _, status in self.verdicts if status != "skipped"}) > 1

    def verdict_of(self, reviewer: str) -> str | None:
        """This reviewer's verdict, or None."""
        return dict(self.verdicts).get(reviewer)


#: The state of every answer without review events (shared: a state is never changed).
PENDING = ReviewState("pending")


def decide(events: list[tuple[str, str, Any]], required: int = 1) -> ReviewState:
    """A label's state from its events, oldest first: (reviewer, action, after). The rule is
    the module's docstring."""
    stacks: dict[str, list[tuple[int, str, Any]]] = {}
    for at, (reviewer, action, after) in enumerate(events):
        stack = stacks.setdefault(reviewer, [])
        if action == "undo":
            if stack:
                stack.pop()
        else:
            stack.append((at, action, after))
    standing = sorted(d for stack in stacks.values() for d in stack)  # by time, all reviewers
    if not standing:
        return PENDING
    latest = {who: STATUS_OF[stack[-1][1]] for who, stack in stacks.items() if stack}
    verdicts = tuple(sorted(latest.items()))
    edits = [after for _, action, after in standing if action == "edit" and after]
    edited = list(edits[-1].get("ranking", [])) if edits else None
    if required <= 1:
        return ReviewState(STATUS_OF[standing[-1][1]], edited, verdicts, 1)
    votes = Counter(status for status in latest.values() if status != "skipped")
    if sum(votes.values()) < required:
        return ReviewState("pending", None, verdicts, required)
    status, n = votes.most_common(1)[0]
    if n * 2 <= sum(votes.values()):
        status = "flagged"  # no strict majority: a disagreement to settle
    return ReviewState(status, edited if status == "accepted" else None, verdicts, required)


def review_states(conn: Connection, request_ids: Iterable[int]) -> dict[int, ReviewState]:
    """The review state of each request, from its append-only events: one query however many
    requests, and work only for those that have events."""
    ids = list(dict.fromkeys(int(i) for i in request_ids))
    states = dict.fromkeys(ids, PENDING)
    if not ids:
        return states
    events: dict[int, list[tuple[str, str, Any]]] = {}
    required: dict[int, int] = {}
    rows = review_event_rows(conn, ids)
    for _, request_id, action, after, reviewer, needs in rows:  # oldest first
        events.setdefault(int(request_id), []).append(
            (reviewer or "", action, json.loads(after) if isinstance(after, str) else after)
        )
        required[int(request_id)] = int(needs or 1)
    for request_id, history in events.items():
        states[request_id] = decide(history, required[request_id])
    return states


def selection_labels(store: Store, selection_id: int, model_name: str | None = None) -> list[Label]:
    """The labels of a selection's sessions (of one teacher model, if given) with their review
    status, in selection order: per session and model, the answer `label_use.SELECTION_USES`
    picks (the most recently used answered request); sessions with no answer have none."""
    with store.read() as conn:
        rows = selection_label_rows(conn, selection_id, model_name)
        states = review_states(conn, (row[0] for row in rows))
    labels = []
    for request_id, session_id, idx, key, model, ranking, scores, parse_status in rows:
        state = states[request_id]
        edited = state.edited_ranking is not None
        answered = json.loads(ranking) if ranking and not edited else []
        labels.append(
            Label(
                request_id=request_id,
                session_id=session_id,
                session_index=idx,
                session_key=key,
                model_name=model,
                ranking=state.edited_ranking if edited else answered,
                scores=None if edited or not scores else json.loads(scores),
                parse_status=parse_status,
                status=state.status,
                edited=edited,
                review=state if state.verdicts else None,
            )
        )
    return labels


def record_review(
    store: Store,
    request_id: int,
    action: str,
    *,
    after: dict[str, Any] | None = None,
    note: str = "",
    reviewer: str | None = None,
) -> int:
    """Append one review decision; returns its id."""
    if action not in ACTIONS:
        raise BadInputError(f"review action {action!r}: use {', '.join(ACTIONS)}")
    if action == "edit" and not (after and isinstance(after.get("ranking"), list)):
        raise BadInputError("an edit needs the new ranking")
    found = teacher_requests.rankings_and_catalogues(store, [request_id]).get(request_id)
    if found is None:
        raise NotFoundError(f"no teacher request {request_id} in {store.where}")
    if action == "edit" and after is not None:
        problem = ranking_problem(after["ranking"], found[1])
        if problem:
            raise BadInputError(f"the edited ranking of request {request_id}: {problem}")
    who = reviewer or default_reviewer()
    if action == "undo":
        with store.read() as conn:
            state = review_states(conn, [request_id])[request_id]
        if state.verdict_of(who) is None:
            others = ", ".join(f"{name} {verdict}" for name, verdict in state.verdicts)
            raise BadInputError(
                f"request {request_id}: {who} has no decision to undo"
                + (f" (standing: {others}; undo takes back only your own)" if others else "")
            )
    before = {"ranking": found[0]}
    with store.session() as orm:
        event = ReviewEvent(
            request_id=request_id, action=action, before=before, after=after, note=note,
            reviewer=who,
        )  # fmt: skip
        orm.add(event)
        orm.flush()
        assert event.id is not None
        return event.id


def require_reviews(store: Store, selection: str, n: int) -> dict[str, Any]:
    """Ask for `n` reviewers' decisions per label of `selection` (1: the latest decision
    stands). Decisions already made keep counting; the statuses follow at once."""
    from alkd_tui.pipeline.selection import get_selection

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise BadInputError(f"reviews required {shown(n)}: a whole number of reviewers, 1 or more")
    row = get_selection(store, selection)
    with store.session() as orm:
        found = orm.get(type(row), row.id)
        assert found is not None
        found.reviews_required = n
        orm.add(found)
    return {"selection": row.name, "reviews_required": n}


def ranking_problem(ranking: Any, n_items: int) -> str:
    """What is wrong with a reviewed ranking (empty when nothing): it must be a list of
    distinct item indices of the dataset (0 to n_items - 1)."""
    if not isinstance(ranking, list) or not ranking:
        return "expected a non-empty list of item indices"
    for value in ranking:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{shown(value)} is not an item index"
        if not 0 <= value < n_items:
            return f"item {value} is not an item of the dataset (it has {n_items} items: 0 to {n_items - 1})"
    if len(set(ranking)) != len(ranking):
        return "an item is listed twice"
    return ""


def confidence(label: Label) -> float | None:
    """How sure the teacher said it was of a label: the score it gave its top choice (the first
    item of its ranking), as stored with the answer. Soft labels store probabilities (from the
    answer's logprobs), so this is the top choice's probability; recorded answers carry the
    scores of their file, if any. None when the answer has no score for its top choice (plain
    rankings, edited labels)."""
    if not label.ranking or not label.scores:
        return None
    top = label.scores[0]
    return float(top) if isinstance(top, int | float) else None


def accept_by_rule(
    store: Store, selection_id: int, rule: str | None = None, *, min_confidence: float | None = None,
    model_name: str | None = None, reviewer: str | None = None, note: str = "",
) -> dict[str, int]:  # fmt: skip
    """Accept every pending label that meets `rule` (`parsed`: any non-empty ranking; `ok`:
    parsed cleanly; `full`: a ranking of the asked length or parsed cleanly or repaired) and,
    with `min_confidence`, whose `confidence` is at least that (a label without one never
    passes a confidence threshold; the result counts them as `without_confidence`). Without
    `rule`, `ReviewSettings`' default."""
    rule = rule or ReviewSettings().rule
    if rule not in RULES:
        raise BadInputError(f"rule {rule!r}: use {', '.join(RULES)}")
    if min_confidence is not None and not (
        isinstance(min_confidence, int | float) and 0.0 <= min_confidence <= 1.0
    ):
        raise BadInputError(f"minimum confidence {min_confidence}: a probability between 0 and 1")
    accepted = skipped = unscored = 0
    who = reviewer or "policy"
    decided: set[int] = set()  # sessions with identical questions share one request
    for label in selection_labels(store, selection_id, model_name):
        if label.status != "pending" or label.request_id in decided:
            continue
        if label.review is not None and label.review.verdict_of(who) is not None:
            continue  # this reviewer decided it already: it waits for other reviewers
        decided.add(label.request_id)
        good = {
            "parsed": bool(label.ranking),
            "ok": label.parse_status == "ok",
            "full": label.parse_status in ("ok", "repaired"),
        }[rule]
        if good and min_confidence is not None:
            sure = confidence(label)
            unscored += sure is None
            good = sure is not None and sure >= min_confidence
        if good:
            record_review(
                store,
                label.request_id,
                "accept",
                note=note or describe_rule(rule, min_confidence),
                reviewer=who,
            )
            accepted += 1
        else:
            skipped += 1
    result = {"accepted": accepted, "not_matching": skipped}
    if min_confidence is not None:
        result["without_confidence"] = unscored
    return result


def describe_rule(rule: str, min_confidence: float | None = None) -> str:
    """The note an accept by rule keeps: `rule: parsed` or `rule: parsed, confidence >= 0.8`."""
    return f"rule: {rule}" + (
        "" if min_confidence is None else f", confidence >= {min_confidence:g}"
    )


def _moment(value: Any) -> datetime | None:
    """A stored or exported time as an aware UTC datetime (naive times are UTC)."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Decision(BaseModel):
    """One review decision of an import file (`alkd export reviews` writes them)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    request: int = Field(gt=0)
    action: Literal["accept", "reject", "edit", "skip", "flag", "undo"]
    ranking: list[Any] | None = None
    note: str | None = ""
    reviewer: str | None = None
    created_at: str | None = None


def read_decisions(path: Path) -> list[dict[str, Any]]:
    """The decisions of a JSONL file (`alkd export reviews` writes one): request (an id),
    action, ranking (item indices, for an edit), and optional note, reviewer, created_at.
    Every line is checked before any is used: a wrong one is one line naming it."""
    from alkd_tui.data.readers import text_file

    text_file(path, "utf-8")
    decisions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError:
            raise InputFileError(path, "not a JSON object", number) from None
        try:
            decision = Decision.model_validate(raw)
        except ValidationError as exc:
            raise InputFileError(path, _decision_problem(exc), number) from None
        d = decision.model_dump()
        if d["action"] == "edit" and not isinstance(d.get("ranking"), list):
            raise InputFileError(path, "an edit needs a ranking (item indices)", number)
        try:
            d["at"] = _moment(d.get("created_at"))
        except (TypeError, ValueError):
            raise InputFileError(
                path, f"created_at {shown(d['created_at'])}: not an ISO time", number
            ) from None
        d["line"] = number
        decisions.append(d)
    return decisions


def _decision_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err.get("loc", ()))
    if err.get("type") == "model_type":
        return f"expected an object with request (an id) and action ({', '.join(ACTIONS)})"
    if field == "action":
        return f"action {shown(err.get('input'))}: use {', '.join(ACTIONS)}"
    if field == "request":
        return f"request {shown(err.get('input'))}: expected a request id (a whole number above 0)"
    return f"{field}: {err['msg']}"


def import_decisions(store: Store, path: Path) -> dict[str, int]:
    """Append the decisions of a JSONL file as review events, all or nothing, skipping those
    already recorded, so importing a file twice changes nothing.

    A decision is already recorded when an event has the same request, action, ranking, note
    and reviewer and, where the file gives its time (exports do; the event keeps it), the same
    time. Without a time, the k-th such decision of the file is skipped when the store already
    holds k such events.
    """
    decisions = read_decisions(path)
    requests = sorted({d["request"] for d in decisions})
    found = teacher_requests.rankings_and_catalogues(store, requests)
    for d in decisions:  # every line checked before anything is stored
        if d["request"] not in found:
            raise InputFileError(
                path, f"request {d['request']} does not exist in {store.where}", d["line"]
            )
        if d["action"] == "edit":
            problem = ranking_problem(d["ranking"], found[d["request"]][1])
            if problem:
                raise InputFileError(path, f"the edited ranking: {problem}", d["line"])
    rankings = {request_id: ranking for request_id, (ranking, _) in found.items()}
    existing = teacher_requests.review_events_of(store, requests)

    def key(
        request_id: int, action: str, ranking: Any, note: str, reviewer: str
    ) -> tuple[Any, ...]:
        return (int(request_id), action, json.dumps(ranking), note or "", reviewer or "")

    timed: set[tuple[Any, ...]] = set()
    untimed: Counter[tuple[Any, ...]] = Counter()
    for request_id, action, after, note, reviewer, at in existing:
        after = json.loads(after) if isinstance(after, str) else after
        k = key(
            request_id,
            action,
            (after or {}).get("ranking") if action == "edit" else None,
            note,
            reviewer,
        )
        timed.add((*k, _moment(at)))
        untimed[k] += 1
    me = default_reviewer()
    seen: Counter[tuple[Any, ...]] = Counter()
    new: list[ReviewEvent] = []
    for d in decisions:
        ranking = d["ranking"] if d["action"] == "edit" else None
        k = key(d["request"], d["action"], ranking, d.get("note", ""), d.get("reviewer") or me)
        seen[k] += 1
        if (d["at"] is not None and (*k, d["at"]) in timed) or (
            d["at"] is None and seen[k] <= untimed[k]
        ):
            continue
        if d["at"] is not None:
            timed.add((*k, d["at"]))
        event = ReviewEvent(
            request_id=d["request"], action=d["action"], before={"ranking": rankings[d["request"]]},
            after=None if ranking is None else {"ranking": ranking}, note=d.get("note", "") or "",
            reviewer=d.get("reviewer") or me,
        )  # fmt: skip
        if d["at"] is not None:
            event.created_at = d["at"]  # the decision's own time, as exported
        new.append(event)
    with store.session() as orm:
        orm.add_all(new)
    return {"imported": len(new), "skipped": len(decisions) - len(new)}
