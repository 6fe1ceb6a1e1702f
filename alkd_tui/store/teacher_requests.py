"""Teacher requests in the store: registered before they are sent, claimed by one labelling
job at a time, answered once.

A job claims a request before it asks it (`claim`), renews its claims while it lives
(`renew_claims`) and releases them as each request ends. Another job skips what is claimed;
it takes over a claim whose process is gone, or whose lease ran out. Every change is one
short write transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from alkd_tui.store.db import Store
from alkd_tui.store.models import sql_timestamp, utcnow
from alkd_tui.store.owners import is_alive
from alkd_tui.store.queries import IN_IDS, dict_rows, ids_param, insert_returning_id, run_sql

#: How long a claim lasts unless its job renews it (a job renews every third of it).
LEASE_S = 60.0

#: Link a session to the request that answers it, or mark an existing link used now. The link
#: keeps the selection that made it (or takes this one, where that selection was deleted).
_USE = (
    "INSERT INTO request_use (request_id, session_id, selection_id, created_at, used_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id, session_id) DO UPDATE SET "
    "used_at = excluded.used_at, selection_id = COALESCE(request_use.selection_id, excluded.selection_id)"
)
_INSERT = (
    "INSERT INTO teacher_request (session_id, selection_id, run_id, backend, model_name, model_digest, "
    "server_version, template_version, prompt_hash, prompt, candidates, options, status, attempts, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)"
)


@dataclass
class NewRequest:
    """A question to store before it is asked (one per session; identical ones share a row)."""

    session_id: int
    prompt_hash: str
    template: str
    prompt: str
    candidates: list[int] | None


@dataclass
class Registered:
    """A registered question: its request, and whether an answer is already stored."""

    request_id: int
    answered: bool
    first: bool  # the first question of this call with this request (later ones share it)


def register(
    store: Store,
    questions: Sequence[NewRequest],
    *,
    backend: str,
    model: str,
    digest: str | None,
    server_version: str | None,
    selection_id: int | None,
    run_id: int | None,
    options: dict[str, Any],
    link_sessions: bool = True,
) -> list[Registered]:
    """Store every question that has no request yet and link each session to its request,
    in one write transaction (two jobs registering at once wait for each other: neither
    stores a question twice). A link made before is marked used now."""
    now = sql_timestamp(utcnow())
    found: list[Registered] = []
    seen: set[int] = set()
    with store.write() as conn:
        for q in questions:
            row = run_sql(
                conn,
                "SELECT id, status FROM teacher_request WHERE model_name = ? AND prompt_hash = ?",
                (model, q.prompt_hash),
            ).first()
            if row is None:
                request_id = insert_returning_id(
                    conn,
                    _INSERT,
                    (
                        q.session_id, selection_id, run_id, backend, model, digest, server_version,
                        q.template, q.prompt_hash, q.prompt,
                        None if q.candidates is None else json.dumps(q.candidates), json.dumps(options), now,
                    ),
                )  # fmt: skip
                status = "pending"
            else:
                request_id, status = int(row[0]), str(row[1])
            if link_sessions:
                run_sql(conn, _USE, (request_id, q.session_id, selection_id, now, now))
            found.append(Registered(request_id, status == "answered", request_id not in seen))
            seen.add(request_id)
    return found


ClaimOutcome = Literal["claimed", "answered", "busy"]


def claim(store: Store, request_id: int, owner: str, lease_s: float = LEASE_S) -> ClaimOutcome:
    """Claim a request for the job `owner`: "claimed"; "answered" when an answer is stored
    (by another job, since this one registered it); "busy" when a live job holds it."""
    now = time.time()
    with store.write() as conn:
        row = run_sql(
            conn,
            "SELECT status, claimed_by, claimed_until FROM teacher_request WHERE id = ?",
            (request_id,),
        ).first()
        if row is None or row[0] == "answered":
            return "answered"
        holder, until = row[1], row[2]
        if holder and holder != owner:
            alive = is_alive(holder)  # on this host: known at once; elsewhere: the lease tells
            if alive or (alive is None and (until or 0) > now):
                return "busy"
        run_sql(
            conn,
            "UPDATE teacher_request SET claimed_by = ?, claimed_until = ? WHERE id = ?",
            (owner, now + lease_s, request_id),
        )
    return "claimed"


def renew_claims(store: Store, owner: str, lease_s: float = LEASE_S) -> int:
    """Extend every claim `owner` holds; returns how many it holds."""
    with store.write() as conn:
        cursor = run_sql(
            conn,
            "UPDATE teacher_request SET claimed_until = ? WHERE claimed_by = ?",
            (time.time() + lease_s, owner),
        )
        return int(cursor.rowcount or 0)


def release_claims(store: Store, owner: str) -> None:
    """Give up every claim `owner` holds (its requests in flight stay `sent`: asked again,
    once, by the next job)."""
    with store.write() as conn:
        run_sql(
            conn,
            "UPDATE teacher_request SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?",
            (owner,),
        )


def mark_sent(store: Store, request_id: int) -> None:
    """Record an attempt going out (status `sent` until it is answered or fails)."""
    with store.write() as conn:
        run_sql(
            conn,
            "UPDATE teacher_request SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
            "error = NULL WHERE id = ?",
            (sql_timestamp(utcnow()), request_id),
        )


@dataclass
class StoredAnswer:
    """What an answered request keeps: the answer as received, how it parsed, its cost."""

    raw_response: str
    ranking: list[int] | None
    scores: list[float | None] | None
    parse_status: str
    parse_notes: list[str]
    latency_s: float | None
    prompt_tokens: int | None
    output_tokens: int | None
    thinking: str | None = None


def store_answer(store: Store, request_id: int, answer: StoredAnswer) -> None:
    """Store a request's answer and release its claim."""
    with store.write() as conn:
        run_sql(conn,
            "UPDATE teacher_request SET status = 'answered', raw_response = ?, thinking = ?, ranking = ?, scores = ?, "
            "parse_status = ?, parse_notes = ?, latency_s = ?, prompt_tokens = ?, output_tokens = ?, "
            "answered_at = ?, error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
            (
                answer.raw_response, answer.thinking, None if answer.ranking is None else json.dumps(answer.ranking),
                None if answer.scores is None else json.dumps(answer.scores), answer.parse_status,
                json.dumps(answer.parse_notes), answer.latency_s, answer.prompt_tokens,
                answer.output_tokens, sql_timestamp(utcnow()), request_id,
            ),
        )  # fmt: skip


def mark_failed(store: Store, request_id: int, error: str) -> None:
    """Record that a request failed (a later job asks it again) and release its claim."""
    with store.write() as conn:
        run_sql(
            conn,
            "UPDATE teacher_request SET status = 'failed', error = ?, claimed_by = NULL, "
            "claimed_until = NULL WHERE id = ?",
            (error, request_id),
        )


def rankings_and_catalogues(
    store: Store, request_ids: Sequence[int]
) -> dict[int, tuple[list[int] | None, int]]:
    """For each request that exists: its answer's ranking and the number of items in its
    session's dataset (what a reviewed ranking may hold: item indices below it)."""
    found: dict[int, tuple[list[int] | None, int]] = {}
    ids = sorted(set(request_ids))
    with store.read() as conn:
        for request_id, ranking, n_items in run_sql(
            conn,
            "SELECT r.id, r.ranking, d.n_items FROM teacher_request r JOIN session s ON s.id = r.session_id "
            f"JOIN dataset d ON d.id = s.dataset_id WHERE r.id {IN_IDS}",
            (ids_param(ids),),
        ):
            found[int(request_id)] = (json.loads(ranking) if ranking else None, int(n_items))
    return found


def review_events_of(store: Store, request_ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(request, action, after, note, reviewer, created_at) of every review event of these
    requests."""
    with store.read() as conn:
        return [
            tuple(row)
            for row in run_sql(
                conn,
                "SELECT request_id, action, after, note, reviewer, created_at FROM review_event "
                f"WHERE request_id {IN_IDS}",
                (ids_param(sorted(set(request_ids))),),
            )
        ]


def request_by_hash(store: Store, model: str, prompt_hash: str) -> dict[str, Any]:
    """The request that asked `model` the question with `prompt_hash`: status, answer, cost."""
    with store.read() as conn:
        rows = dict_rows(
            conn,
            "SELECT id, status, raw_response, parse_status, parse_notes, error, attempts, "
            "prompt_tokens, output_tokens, latency_s FROM teacher_request "
            "WHERE model_name = ? AND prompt_hash = ?",
            (model, prompt_hash),
        )
    if len(rows) != 1:
        raise LookupError(f"no request of {model} with prompt hash {prompt_hash}")
    return rows[0]


def selection_members(store: Store, selection_id: int) -> list[tuple[int, int, str]]:
    """The members of a selection in order: (session row id, instance index, external id)."""
    with store.read() as conn:
        rows = run_sql(
            conn,
            "SELECT s.id, s.idx, s.external_id FROM selection_member m JOIN session s ON m.session_id = s.id "
            'WHERE m.selection_id = ? ORDER BY m."order"',
            (selection_id,),
        ).all()
    return [(int(a), int(b), str(c)) for a, b, c in rows]


def selection_answers(store: Store, selection_id: int, model: str) -> list[tuple[Any, ...]]:
    """(request, session, status, parse status, latency, prompt and output tokens) of a
    selection's labels from `model`, one per member session (`label_use.SELECTION_USES`)."""
    from alkd_tui.store.label_use import SELECTION_USES

    with store.read() as conn:
        return [
            tuple(row)
            for row in run_sql(
                conn,
                "SELECT r.id, u.session_id, r.status, r.parse_status, r.latency_s, r.prompt_tokens, "
                "r.output_tokens FROM teacher_request r JOIN request_use u ON u.request_id = r.id "
                f"WHERE r.model_name = ? AND u.id IN ({SELECTION_USES})",
                (model, selection_id),
            )
        ]
