"""Teacher answers read back from the store: by filter (audits, exports), as a selection's
labels (review, its queue), one request in full, the latest answers of a job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from alkd_tui.store.db import Store
from alkd_tui.store.label_use import SELECTION_USES, selection_labels_sql
from alkd_tui.store.queries import dict_rows, json_first_number, plain_rows

#: A use made for a selection about a session that is not its member: a calibration question.
CALIBRATION_USE = (
    "(u.selection_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM selection_member cm "
    "WHERE cm.selection_id = u.selection_id AND cm.session_id = u.session_id))"
)


@dataclass(frozen=True)
class AnswerFilter:
    """Which answers: by selection (its labels, one per member session and teacher model, as
    `SELECTION_USES` picks them), teacher model, dataset and the strategy of the selection a
    request was asked for; None matches all."""

    selection_id: int | None = None
    teacher: str | None = None
    dataset_id: int | None = None
    strategy: str | None = None
    calibration: bool = False
    """The calibration questions (sessions a job asked about beside a selection's members:
    `alkd label --calibration N`) instead of the labels; they are never a session's label."""

    def where(self) -> tuple[str, tuple[Any, ...]]:
        """SQL conditions and their parameters over the aliases `u` (request_use), `r`
        (teacher_request), `s` (session) and `sel` (the selection a use came from)."""
        where = [CALIBRATION_USE if self.calibration else f"NOT {CALIBRATION_USE}"]
        params: list[Any] = []
        if self.selection_id is not None and self.calibration:
            where.append("u.selection_id = ?")
            params.append(self.selection_id)
        elif self.selection_id is not None:
            where.append(f"u.id IN ({SELECTION_USES})")
            params.append(self.selection_id)
        if self.teacher is not None:
            where.append("r.model_name = ?")
            params.append(self.teacher)
        if self.dataset_id is not None:
            where.append("s.dataset_id = ?")
            params.append(self.dataset_id)
        if self.strategy is not None:
            where.append("sel.strategy = ?")
            params.append(self.strategy)
        return " AND ".join(where), tuple(params)


def audit_rows(conn: Connection, which: AnswerFilter) -> list[dict[str, Any]]:
    """Every request use matching `which` with what an audit reads of its request and session
    (id, status, model_name, backend, raw_response, ranking, candidates, parse_status,
    latency_s, prompt_tokens, output_tokens, idx, session_id (external), target, split,
    dataset_id, strategy), by request."""
    where, params = which.where()
    return dict_rows(
        conn,
        "SELECT r.id, r.status, r.model_name, r.backend, r.raw_response, r.ranking, r.candidates, r.parse_status, "
        "r.latency_s, r.prompt_tokens, r.output_tokens, s.idx, s.external_id AS session_id, s.target, s.split, "
        "s.dataset_id, sel.strategy "
        "FROM request_use u JOIN teacher_request r ON r.id = u.request_id JOIN session s ON s.id = u.session_id "
        f"LEFT JOIN selection sel ON sel.id = u.selection_id WHERE {where} ORDER BY r.id, u.session_id",
        params,
    )


def export_rows(conn: Connection, which: AnswerFilter) -> list[dict[str, Any]]:
    """The answered request uses matching `which` with what an export writes (id, session_id
    (external), dataset (name), model_name, backend, model_digest, template_version, ranking,
    scores, parse_status, latency_s, prompt_tokens, output_tokens, answered_at, dataset_id)."""
    where, params = which.where()
    return dict_rows(
        conn,
        "SELECT r.id, s.external_id AS session_id, d.name AS dataset, r.model_name, r.backend, r.model_digest, "
        "r.template_version, r.ranking, r.scores, r.parse_status, r.latency_s, r.prompt_tokens, r.output_tokens, "
        "r.answered_at, s.dataset_id FROM request_use u JOIN teacher_request r ON r.id = u.request_id "
        "LEFT JOIN selection sel ON sel.id = u.selection_id "
        "JOIN session s ON s.id = u.session_id JOIN dataset d ON d.id = s.dataset_id "
        f"WHERE r.status = 'answered' AND {where} ORDER BY r.id, u.session_id",
        params,
    )


def selection_label_rows(
    conn: Connection, selection_id: int, model_name: str | None = None
) -> list[tuple[Any, ...]]:
    """A selection's answered labels (of one teacher model, if given) in selection order:
    (request id, session id, session idx, session external id, model name, ranking JSON,
    scores JSON, parse status)."""
    labels_sql = selection_labels_sql(
        "sr.id AS request_id, su.session_id AS session_id, sr.model_name AS model_name, "
        "sr.status AS status, sr.ranking AS ranking, sr.scores AS scores, "
        'sr.parse_status AS parse_status, sm."order" AS member_order'
    )
    query = (
        "SELECT l.request_id, l.session_id, s.idx, s.external_id, l.model_name, l.ranking, l.scores, "
        f"l.parse_status FROM ({labels_sql}) l JOIN session s ON s.id = l.session_id "
        "WHERE l.status = 'answered'"
    )
    params: tuple[Any, ...] = (selection_id,)
    if model_name is not None:
        # `+`: a filter SQLite may move into the picking pass must not make it read the
        # model's requests by index (every selection's), rather than the members' links.
        query += " AND +l.model_name = ?"
        params += (model_name,)
    query += " ORDER BY l.member_order, l.request_id"
    return plain_rows(conn, query, params).fetchall()


def review_queue_rows(conn: Connection, selection_id: int) -> list[tuple[Any, ...]]:
    """A selection's answered labels, lean for a long review queue, in selection order:
    (request id, session id, session idx, session external id, model name, ranking length,
    top score, parse status, member order, probability, difficulty); lengths and top scores
    come from the database's JSON functions, in the pass that picks the labels."""
    labels_sql = selection_labels_sql(
        "sr.id AS request_id, su.session_id AS session_id, sr.model_name AS model_name, "
        "sr.status AS status, json_array_length(sr.ranking) AS ranked, "
        f"{json_first_number(conn, 'sr.scores')} AS top_score, sr.parse_status AS parse_status, "
        'sm."order" AS member_order, sm.probability AS probability, sm.difficulty AS difficulty'
    )
    return plain_rows(
        conn,
        "SELECT l.request_id, l.session_id, s.idx, s.external_id, l.model_name, l.ranked, "
        "l.top_score, l.parse_status, l.member_order, l.probability, l.difficulty "
        f"FROM ({labels_sql}) l JOIN session s ON s.id = l.session_id WHERE l.status = 'answered' "
        "ORDER BY l.member_order, l.request_id",
        (selection_id,),
    ).fetchall()


def request_detail(
    conn: Connection, request_id: int, session_id: int | None = None
) -> dict[str, Any] | None:
    """A teacher request's every column, with the session it is read for (default: the one
    it was first asked for) as use_session_id, dataset_id, session_index, session_key,
    session_items, target and split; None when there is no such request."""
    rows = dict_rows(
        conn,
        "SELECT r.*, s.id AS use_session_id, s.dataset_id AS dataset_id, s.idx AS session_index, "
        "s.external_id AS session_key, s.items AS session_items, s.target AS target, s.split AS split "
        "FROM teacher_request r JOIN session s ON s.id = COALESCE(?, r.session_id) WHERE r.id = ?",
        (session_id, request_id),
    )
    return rows[0] if rows else None


def member_figures(conn: Connection, selection_id: int, session_id: int) -> dict[str, Any] | None:
    """A session's order, probability, gain and difficulty in a selection; None if not a member."""
    rows = dict_rows(
        conn,
        'SELECT "order", probability, gain, difficulty FROM selection_member '
        "WHERE selection_id = ? AND session_id = ?",
        (selection_id, session_id),
    )
    return rows[0] if rows else None


#: Before every store timestamp ("" would do for SQLite's text; PostgreSQL wants a time).
_DAWN = "0001-01-01 00:00:00.000000"


def recent_answer_rows(
    store: Store, selection_id: int, since: str, limit: int
) -> list[tuple[Any, ...]]:
    """The requests about a selection's members answered or failed after `since` (a store
    timestamp; "" for all), oldest first, at most `limit`: (id, session external id, model name, status,
    parse status, latency, error, when, ranking JSON)."""
    with store.read() as conn:
        return plain_rows(
            conn,
            "SELECT r.id, s.external_id, r.model_name, r.status, r.parse_status, r.latency_s, r.error, "
            "COALESCE(r.answered_at, r.sent_at) AS at, r.ranking FROM request_use u "
            "JOIN teacher_request r ON r.id = u.request_id "
            "JOIN selection_member m ON m.session_id = u.session_id AND m.selection_id = ? "
            "JOIN session s ON s.id = u.session_id "
            "WHERE +r.status IN ('answered', 'failed') AND COALESCE(r.answered_at, r.sent_at) > ? "
            "ORDER BY at, r.id LIMIT ?",
            (selection_id, since or _DAWN, limit),
        ).fetchall()


def teacher_model_names(store: Store) -> list[str]:
    """Every teacher model name that has requests in the store, sorted."""
    with store.read() as conn:
        return [
            str(m)
            for (m,) in plain_rows(
                conn, "SELECT DISTINCT model_name FROM teacher_request ORDER BY model_name"
            )
        ]
