"""Read-only views of the store for interactive faces (the TUI): the review queue of a
selection, one label in full, the latest answers of a labelling job, a student's top items for
one session, item look-ups, the import formats and what training a recommender offers.

Nothing here decides anything: review decisions are `pipeline.review`'s, statuses come from
its append-only history. torch loads only in `student_top_k` and `load_model_code`.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alkd_tui.errors import AlkdError, BadInputError, NotFoundError
from alkd_tui.pipeline import review
from alkd_tui.pipeline.results import ItemView, LabelDetail
from alkd_tui.pipeline.selection import get_selection
from alkd_tui.store import Store, open_store, sql_timestamp
from alkd_tui.store.answers import (
    member_figures,
    recent_answer_rows,
    request_detail,
    review_queue_rows,
    teacher_model_names,
)
from alkd_tui.store.datasets import find_item, item_names, session_for_scoring
from alkd_tui.store.packing import unpack_items
from alkd_tui.store.reviews import request_history, request_rankings

#: How much a parse status says about an answer, worst first (used to sort the review queue).
PARSE_GRADE = {
    None: 0,
    "empty": 0,
    "too_long": 0,
    "not_json": 1,
    "truncated": 2,
    "short": 3,
    "repaired": 4,
    "ok": 5,
}


def open_database(path: str | Path) -> Store:
    """The store at `path` (a SQLite file or a PostgreSQL URL; created, or its schema
    upgraded, as it opens): what a face reads these views from; close it when done."""
    return open_store(path)


def choose_device(name: str | None) -> None:
    """Where this process's recommenders score ("auto", "cpu", "cuda"; None: `$ALKD_DEVICE`),
    and, when named, where the jobs it starts compute."""
    from alkd_tui.rec.device import choose_device as choose

    choose(name)


def database_failure(error: BaseException, store: Store) -> AlkdError | None:
    """What a failure a face met means when the database caused it (locked by another
    program, disk full, damaged), as one line; None when it is something else."""
    from alkd_tui.store.failures import describe

    return describe(error, store.where)


def dataset_formats() -> list[dict[str, Any]]:
    """The formats `import_dataset` reads: name, summary, default preprocessing, reader options."""
    from alkd_tui.data.formats import FORMATS

    return [
        {
            "name": f.name,
            "summary": f.summary,
            "defaults": dict(f.defaults),
            "reader_options": sorted(f.reader_options),
            "uses_gap": f.uses_gap,
        }
        for f in FORMATS.values()
    ]


def load_model_code() -> None:
    """Import the recommenders and their training code (torch): a face may do it ahead of
    time, so that the first dialog or ranking does not wait for it."""
    import alkd_tui.rec.trainer  # noqa: F401


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One answered label in a selection's review queue."""

    request_id: int  # sessions with identical questions share one request (and its decisions)
    session_id: int
    order: int  # the member's order in the selection (1 = drawn first)
    session_key: str
    session_index: int
    model_name: str
    status: str  # pending, accepted, rejected, skipped, flagged
    parse_status: str | None
    ranked: int  # length of the (latest) ranking
    top_score: float | None  # the teacher's score of its first item, where it gave scores
    edited: bool
    probability: float | None  # the member's selection probability
    difficulty: float | None  # the member's difficulty (larger = harder)
    reviewers: tuple[str, ...] = ()  # who has a standing verdict on it
    disagreement: bool = False  # the reviewers' verdicts differ

    @property
    def key(self) -> str:
        """Unique in a queue: the request and the session it answers."""
        return f"{self.request_id}:{self.session_id}"

    @property
    def confidence(self) -> tuple[int, float]:
        """How sure the teacher looks, lowest first: the parse grade, then the top score
        (1.0 where the answer has no scores)."""
        grade = PARSE_GRADE.get(self.parse_status, 0)
        return grade, 1.0 if self.top_score is None else self.top_score


STATUS_RANK = {"pending": 0, "flagged": 1, "skipped": 2, "rejected": 3, "accepted": 4}


def _neg(value: float | None) -> float:
    return -value if value is not None and math.isfinite(value) else math.inf


#: Orders of a review queue: name -> (what it shows, the sort key as numbers, most
#: significant first).
QUEUE_SORTS: dict[str, tuple[str, Callable[[QueueEntry], tuple[float, ...]]]] = {
    "confidence": ("lowest confidence first", lambda e: (*e.confidence, e.order)),
    "order": ("selection order", lambda e: (e.order,)),
    "difficulty": ("hardest first", lambda e: (_neg(e.difficulty), e.order)),
    "probability": ("most probable first", lambda e: (_neg(e.probability), e.order)),
    "status": ("pending first", lambda e: (STATUS_RANK.get(e.status, 9), *e.confidence, e.order)),
}
#: Filters of a review queue: name -> (what it keeps, the test).
QUEUE_FILTERS: dict[str, tuple[str, Callable[[QueueEntry], bool]]] = {
    "all": ("all labels", lambda e: True),
    "pending": ("pending", lambda e: e.status == "pending"),
    "undecided": ("not accepted or rejected", lambda e: e.status not in ("accepted", "rejected")),
    "accepted": ("accepted", lambda e: e.status == "accepted"),
    "rejected": ("rejected", lambda e: e.status == "rejected"),
    "flagged": ("flagged", lambda e: e.status == "flagged"),
    "skipped": ("skipped", lambda e: e.status == "skipped"),
    "parse": ("parse problems", lambda e: e.parse_status != "ok"),
    "mine": ("not decided by me", lambda e: review.default_reviewer() not in e.reviewers),
    "disagreements": ("reviewers disagree", lambda e: e.disagreement),
}


def sort_queue(
    entries: Sequence[QueueEntry], sort: str = "confidence", show: str = "all"
) -> list[QueueEntry]:
    """The entries of a review queue that filter `show` keeps, in `sort` order (numpy's sort:
    100,000 entries take a fraction of a second, and other threads run meanwhile)."""
    import numpy as np

    if sort not in QUEUE_SORTS or show not in QUEUE_FILTERS:
        raise BadInputError(
            f"sort {sort!r} or filter {show!r}: use {', '.join(QUEUE_SORTS)} / {', '.join(QUEUE_FILTERS)}"
        )
    keep = QUEUE_FILTERS[show][1]
    kept = [e for e in entries if keep(e)]
    if not kept:
        return kept
    key = QUEUE_SORTS[sort][1]
    columns = np.array([key(e) for e in kept], dtype=np.float64)
    order = np.lexsort(columns.T[::-1])
    return [kept[i] for i in order.tolist()]


def review_queue(store: Store, selection: str, model_name: str | None = None) -> dict[str, Any]:
    """The answered labels of `selection` (of one teacher model, if given) with their review
    status and why each session was chosen; also the selection's size and the models seen.

    The same labels and statuses as `pipeline.review.selection_labels` (the latest answer per
    session and model; a status from the history with undos), read lean for a long queue: in
    one pass that picks the labels (`label_use.selection_labels_sql`), ranking lengths and top
    scores from SQLite's JSON functions, rows as plain tuples, and only edits decoded.
    """
    sel = get_selection(store, selection)
    assert sel.id is not None
    with store.read() as conn:
        # One label per (session, model): the selection's label, as review and distillation see it.
        rows = review_queue_rows(conn, sel.id)
        # Every model with an answer for a member has an answered label for it (the rule picks
        # answered links first), so the models seen come from the same rows.
        models = sorted({row[4] for row in rows})
        if model_name is not None:
            rows = [row for row in rows if row[4] == model_name]
        states = review.review_states(conn, (row[0] for row in rows))
    entries = []
    for request_id, session_id, idx, key, model, ranked, top, parse, order, prob, diff in rows:
        state = states[request_id]
        edit = state.edited_ranking
        entries.append(
            QueueEntry(
                request_id=request_id,
                session_id=session_id,
                order=order,
                session_key=str(key),
                session_index=idx,
                model_name=str(model),
                status=state.status,
                parse_status=parse,
                ranked=len(edit) if edit is not None else (ranked or 0),
                top_score=float(top) if isinstance(top, int | float) and edit is None else None,
                edited=edit is not None,
                probability=prob,
                difficulty=diff,
                reviewers=tuple(who for who, _ in state.verdicts),
                disagreement=state.disagreement,
            )
        )
    return {
        "selection": sel.id,
        "name": sel.name,
        "dataset_id": sel.dataset_id,
        "strategy": sel.strategy,
        "size": sel.size,
        "models": models,
        "entries": entries,
    }


def review_states(store: Store, request_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The review status, edited flag, ranking length, reviewers with a verdict and whether they
    disagree, of each request, from its history."""
    states: dict[int, dict[str, Any]] = {}
    with store.read() as conn:
        reviewed = review.review_states(conn, request_ids)
        for request_id, ranking in request_rankings(conn, request_ids):
            state = reviewed[int(request_id)]
            edited = state.edited_ranking is not None
            states[int(request_id)] = {
                "status": state.status,
                "edited": edited,
                "ranked": len(
                    state.edited_ranking if edited else (json.loads(ranking) if ranking else [])
                ),
                "reviewers": tuple(who for who, _ in state.verdicts),
                "disagreement": state.disagreement,
            }
    return states


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value else value


def label_detail(
    store: Store, request_id: int, session_id: int | None = None, selection_id: int | None = None
) -> LabelDetail:
    """One teacher request in full, for a reviewer, as the answer for one session (default:
    the session it was first asked for; sessions with identical questions share a request):
    the session's items in order with titles, its true next item, the ranking as answered and
    as it stands after edits (with scores, the target marked), the candidates shown, the prompt
    and raw answer, provenance, the session's figures in the selection (default: the
    request's) and the review history."""
    with store.read() as conn:
        row = request_detail(conn, request_id, session_id)
        if row is None:
            raise NotFoundError(f"no teacher request {request_id} in {store.where}")
        history = [
            {"id": i, "action": a, "after": _json(af), "note": n, "reviewer": who}
            for i, a, af, n, who in request_history(conn, request_id)
        ]
        in_selection = selection_id if selection_id is not None else row["selection_id"]
        member = (
            None
            if in_selection is None
            else member_figures(conn, in_selection, row["use_session_id"])
        )
        session = [int(i) for i in unpack_items(row["session_items"])]
        answered = _json(row["ranking"]) or []
        candidates = _json(row["candidates"]) or []
        state = review.review_states(conn, [request_id])[request_id]
        edited = state.edited_ranking is not None
        ranking = list(state.edited_ranking) if state.edited_ranking is not None else list(answered)
        target = int(row["target"])
        names = item_names(
            conn, row["dataset_id"], [*session, *answered, *ranking, *candidates, target]
        )
    scores = _json(row["scores"])
    score_of = dict(zip(answered, scores, strict=False)) if scores else {}

    def item(idx: int, score: float | None = None) -> ItemView:
        ext, title = names.get(idx, (str(idx), None))
        return ItemView(idx=idx, item=ext, title=title, is_target=idx == target, score=score)

    return LabelDetail(
        request=int(row["id"]),
        session_id=int(row["use_session_id"]),
        session_key=str(row["session_key"]),
        session_index=int(row["session_index"]),
        dataset_id=int(row["dataset_id"]),
        split=row["split"],
        status=state.status,
        edited=edited,
        verdicts=dict(state.verdicts),
        reviews_required=state.required,
        session=[item(i) for i in session],
        target=item(target),
        ranking=[item(i, score_of.get(i) if not edited else None) for i in ranking],
        answered_ranking=[item(i, score_of.get(i)) for i in answered],
        candidates=[item(i) for i in candidates],
        prompt=row["prompt"] or "",
        raw_response=row["raw_response"] or "",
        parse_status=row["parse_status"],
        parse_notes=_json(row["parse_notes"]) or [],
        request_status=row["status"],
        error=row["error"],
        provenance={
            "backend": row["backend"],
            "model": row["model_name"],
            "digest": row["model_digest"],
            "server_version": row["server_version"],
            "template_version": row["template_version"],
            "prompt_hash": row["prompt_hash"],
            "options": _json(row["options"]) or {},
            "latency_s": row["latency_s"],
            "prompt_tokens": row["prompt_tokens"],
            "output_tokens": row["output_tokens"],
            "attempts": row["attempts"],
            "run": row["run_id"],
        },
        member=member,
        history=history,
    )


def find_items(store: Store, dataset_id: int, external_ids: Sequence[str]) -> list[ItemView]:
    """The items of a dataset with these external ids, in the order given; an unknown id is a
    `BadInputError` naming it."""
    found = []
    for ext in external_ids:
        item = find_item(store, dataset_id, ext.strip())
        if item is None:
            raise BadInputError(f"no item {ext.strip()!r} in dataset {dataset_id}")
        found.append(ItemView(idx=item[0], item=item[1], title=item[2]))
    return found


def recent_answers(
    store: Store, selection: str, *, since: str | float = "", limit: int = 200
) -> list[dict[str, Any]]:
    """The requests of `selection` answered or failed after `since` (a store timestamp, e.g.
    the previous call's last `at`, or a UNIX time: when a job started), oldest first, at most
    `limit`."""
    if isinstance(since, int | float):
        since = sql_timestamp(datetime.fromtimestamp(since, UTC))
    sel = get_selection(store, selection)
    assert sel.id is not None
    rows = recent_answer_rows(store, sel.id, since, limit)
    return [
        {
            "request": int(r[0]),
            "session": r[1],
            "model": r[2],
            "status": r[3],
            "parse_status": r[4],
            "latency_s": r[5],
            "error": r[6],
            "at": str(r[7]),
            "ranked": len(json.loads(r[8])) if r[8] else 0,
        }
        for r in rows
    ]


def teacher_models(store: Store) -> list[str]:
    """Every teacher model name that has answers in the store."""
    return teacher_model_names(store)


_model_lock = threading.Lock()


_trained_cache: dict[tuple[str, str, str | None], Any] = {}


def _trained(store: Store, name: str, sha: str | None) -> Any:
    """The trained model `name` of `store`, loaded once (the last few are kept). Loaded through
    the store already open: a SQLite file must never be opened a second time by this process
    except by SQLite itself (see `alkd_tui.store.engine`)."""
    from alkd_tui.pipeline.models import get_model, load_trained

    key = (store.target, name, sha)  # a retrained model under the same name is loaded anew
    if key not in _trained_cache:
        while len(_trained_cache) >= 4:
            _trained_cache.pop(next(iter(_trained_cache)))
        _trained_cache[key] = load_trained(store, get_model(store, name))
    return _trained_cache[key]


def student_top_k(
    store: Store, model: str, session_index: int, k: int = 10
) -> list[ItemView]:
    """A trained model's top `k` next items for one session of its dataset (its own items
    excluded), best first, with titles and scores."""
    import numpy as np

    from alkd_tui.data.canonical import SessionDataset
    from alkd_tui.pipeline.models import get_model
    from alkd_tui.teacher.candidates import top_candidates

    row = get_model(store, model)
    assert row.dataset_id is not None
    found = session_for_scoring(store, row.dataset_id, session_index)
    if found is None:
        raise NotFoundError(f"no session {session_index} in the dataset of model {row.name!r}")
    with _model_lock:
        net = _trained(store, row.name, row.checkpoint_sha256)
    items = np.asarray(unpack_items(found[0]), dtype=np.int32)
    n_items = int(found[2])
    one = SessionDataset(
        item_ids=[""] * n_items,
        session_ids=["0"],
        split=np.zeros(1, dtype=np.int8),
        offsets=np.array([0, len(items)], dtype=np.int64),
        items=items,
        targets=np.array([found[1]], dtype=np.int32),
    )
    with _model_lock:
        top, scores = top_candidates(net, one, np.array([0]), k)
    with store.read() as conn:
        names = item_names(conn, row.dataset_id, top[0].tolist())
    return [
        ItemView(
            idx=int(i),
            item=names.get(int(i), (str(i), None))[0],
            title=names.get(int(i), (str(i), None))[1],
            score=float(s),
            is_target=int(i) == int(found[1]),
        )
        for i, s in zip(top[0].tolist(), scores[0].tolist(), strict=True)
    ]
