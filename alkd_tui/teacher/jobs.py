"""Labelling jobs: every request is stored before it is sent and its answer as it arrives, so a
job killed at any moment resumes without asking again what was answered; an identical prompt
to the same model is answered from the store (unique on model and prompt hash).

Retries with exponential backoff on transient failures (connection, timeout, 5xx, a broken
stream); a refused request (4xx) is not retried. Budget caps on requests and tokens leave the
rest pending for a later job.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.store import Store, sql_timestamp, utcnow
from alkd_tui.teacher.backends.base import (
    Answer,
    PermanentTeacherError,
    Teacher,
    TeacherInfo,
    TransientTeacherError,
)
from alkd_tui.teacher.parsing import ParsedRanking, normalize_id, parse_hints, parse_ranking
from alkd_tui.teacher.prompts import HINTS_TEMPLATE, LETTERS, SOFT_TEMPLATE, Prompt

#: A Go duration as Ollama reads `keep_alive`: 10m, 1h30m, 300s, -1m.
_DURATION = re.compile(r"-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


class LabelOptions(BaseModel):
    """How to ask: candidates, answer length, generation options, concurrency, budget, retries."""

    model_config = ConfigDict(extra="forbid")

    kappa: int = Field(50, ge=1)
    """Candidates shown: the teacher recommender's top kappa (soft labels: at most 20)."""
    n: int = Field(25, ge=1)
    """Items the teacher is asked to rank."""
    soft: bool = False
    """Ask for one lettered choice and read the answer token's logprobs (soft labels)."""
    force_target: bool = False
    """The paper's behaviour: put the true target into the candidates (optimistic answers)."""
    hints: bool = False
    """Include the dataset's stored hints in the prompts."""
    temperature: float = Field(0.0, ge=0)
    seed: int = 0
    num_ctx: int = Field(4096, ge=256)
    num_predict: int | None = Field(None, ge=1)
    """Output token cap (default: enough for N ids)."""
    concurrency: int = Field(1, ge=1, le=64)
    max_requests: int | None = Field(None, ge=0)
    """Send at most this many requests in this job (retries included); the rest stay pending."""
    max_tokens: int | None = Field(None, ge=0)
    """Stop sending once this job's prompt + output tokens reach this."""
    retries: int = Field(3, ge=0)
    backoff: float = Field(1.0, ge=0)
    """Seconds before the first retry; doubled each time, with jitter."""
    timeout: float = Field(300.0, gt=0)
    """Seconds one request may take (the whole streamed answer)."""
    keep_alive: str | int | float | None = "10m"
    """Ollama: how long the model stays loaded after a request (a duration such as 10m or 1h,
    or seconds; 0 unloads it at once, a negative value keeps it loaded; None: the server's
    default). Not part of the prompt hash: it does not change answers."""

    @field_validator("keep_alive")
    @classmethod
    def _keep_alive(cls, value: str | int | float | None) -> str | int | float | None:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if _NUMBER.fullmatch(text):
            number = float(text)
            return int(number) if number.is_integer() else number
        if not _DURATION.fullmatch(text):
            raise ValueError(
                f"{value!r} is not a duration (e.g. 10m, 1h30m, 300s) or a number of seconds"
            )
        return text

    def generation(self) -> dict[str, Any]:
        """The options sent with every request (part of the prompt hash)."""
        options: dict[str, Any] = {
            "temperature": self.temperature,
            "seed": self.seed,
            "num_ctx": self.num_ctx,
            "num_predict": self.num_predict or (4 if self.soft else 16 * self.n + 32),
        }
        if self.soft:
            options.update(logprobs=True, top_logprobs=len(LETTERS))
        return options


@dataclass
class Question:
    """One session's question: its prompt, the hash that identifies it, and how to read answers."""

    session_id: int  # session.id (row)
    session_key: str  # the session's external id
    prompt: Prompt
    prompt_hash: str
    known: dict[str, int]  # answer id -> item index
    candidates: list[int] | None = None  # item indices, in the order shown
    prompt_text: str | None = None  # what to store as the prompt (default: the rendered messages)


@dataclass
class JobState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    tokens: int = 0
    stop: bool = False
    answered: int = 0
    failed: int = 0


def answered_letter(content: str, letters: str) -> str:
    """The letter an answer chose: a leading letter ("B", "B.", "(B) ..."), else the last
    capital letter standing alone ("The answer is B"), else a lone lower-case letter ("b")."""
    text = content.strip()
    lead = re.match(r"^\W*([A-Z])(?![a-z]|\s+[a-z])", text)  # "I think B" is not an answer "I"
    if lead and lead.group(1) in letters:
        return lead.group(1)
    alone = [c for c in re.findall(r"\b([A-Z])\b", text) if c in letters]
    if alone:
        return alone[-1]
    return text.upper() if len(text) == 1 and text.upper() in letters else ""


def parse_soft(answer: Answer, question: Question) -> tuple[ParsedRanking, list[float] | None]:
    """A distribution over the lettered candidates from the first answer token's logprobs
    (its own and its `top_logprobs`); without them, the answered letter alone (status short)."""
    letters = LETTERS[: len(question.prompt.candidates)]
    probs: dict[str, float] = {}
    first = (answer.logprobs or [None])[0]
    if first:
        entries = [first, *(first.get("top_logprobs") or [])]
        for entry in entries:
            letter = str(entry.get("token", "")).strip().strip(".").upper()
            if len(letter) == 1 and letter in letters and entry.get("logprob") is not None:
                probs[letter] = max(probs.get(letter, 0.0), math.exp(float(entry["logprob"])))
    notes: list[str] = []
    if not probs:
        notes.append(
            "the first answer token is not a letter; the answered letter alone"
            if first
            else "no logprobs; the answered letter alone"
        )
        chosen = answered_letter(answer.content, letters)
        if chosen:
            probs[chosen] = 1.0
        else:
            notes.append("no candidate letter in the answer")
    total = sum(probs.values())
    order = sorted(probs, key=lambda k: -probs[k])
    ranking = [question.known[question.prompt.candidates[letters.index(k)]] for k in order]
    scores = [probs[k] / total for k in order] if total else None
    status = "ok" if ranking and not notes else ("short" if ranking else "empty")
    return ParsedRanking(ranking, status, notes), scores


def _answer_scores(answer: Answer, parsed: ParsedRanking, question: Question) -> list[float] | None:
    """Scores the teacher gave with its ranking (replayed answers may carry them)."""
    try:
        data = json.loads(answer.content)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("scores"), list):
        return None
    by_item: dict[int, float] = {}
    for value, score in zip(data.get("ranking", []), data["scores"], strict=False):
        index = question.known.get(normalize_id(value))
        if index is not None and index not in by_item and isinstance(score, int | float):
            by_item[index] = float(score)
    return [by_item.get(i) for i in parsed.ranking] if by_item else None  # type: ignore[misc]


#: Link a session to the request that answers it, or mark an existing link used now. The link
#: keeps the selection that made it (or takes this one, where that selection was deleted).
_USE = (
    "INSERT INTO request_use (request_id, session_id, selection_id, created_at, used_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (request_id, session_id) DO UPDATE SET "
    "used_at = excluded.used_at, selection_id = COALESCE(request_use.selection_id, excluded.selection_id)"
)


def register_requests(
    store: Store,
    questions: Sequence[Question],
    info: TeacherInfo,
    *,
    selection_id: int | None,
    run_id: int | None,
    options: dict[str, Any],
    link_sessions: bool = True,
) -> tuple[list[tuple[int, Question]], int]:
    """Store every question as a request before anything is sent (one transaction), and link
    each session to the request that answers it: sessions with identical questions share one.
    A link made before (an earlier job asked the same question) is marked used now, so the
    session's label is this job's answer once it has one (see `pipeline.label_use.SELECTION_USES`);
    it keeps the selection that made it. Without `link_sessions` (questions that are not about
    one session's next item, such as hints), no session is linked, so the request is never read
    as a session's label.

    Returns the requests still to ask (new, pending, sent-but-unanswered, failed; each once)
    and how many questions were already answered (the cache).
    """
    todo: list[tuple[int, Question]] = []
    queued: set[int] = set()
    cached = 0
    now = sql_timestamp(utcnow())
    with store.engine.begin() as conn:
        for q in questions:
            row = conn.exec_driver_sql(
                "SELECT id, status FROM teacher_request WHERE model_name = ? AND prompt_hash = ?",
                (info.model, q.prompt_hash),
            ).first()
            if row is not None and link_sessions:
                conn.exec_driver_sql(_USE, (row[0], q.session_id, selection_id, now, now))
            if row is not None and (row[1] == "answered" or row[0] in queued):
                cached += 1
                continue
            if row is None:
                cursor = conn.exec_driver_sql(
                    "INSERT INTO teacher_request (session_id, selection_id, run_id, backend, model_name, model_digest, "
                    "server_version, template_version, prompt_hash, prompt, candidates, options, status, attempts, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)",
                    (
                        q.session_id, selection_id, run_id, info.backend, info.model, info.digest, info.server_version,
                        q.prompt.template, q.prompt_hash, q.prompt.text() if q.prompt_text is None else q.prompt_text,
                        None if q.candidates is None else json.dumps(q.candidates), json.dumps(options), now,
                    ),
                )  # fmt: skip
                request_id = int(cursor.lastrowid)  # type: ignore[arg-type]
                if link_sessions:
                    conn.exec_driver_sql(_USE, (request_id, q.session_id, selection_id, now, now))
            else:
                request_id = int(row[0])
            queued.add(request_id)
            todo.append((request_id, q))
    return todo, cached


class _Writer:
    """Serialises the job's writes (one short transaction each)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.Lock()

    def __call__(self, sql: str, params: tuple[Any, ...]) -> None:
        with self.lock, self.store.engine.begin() as conn:
            conn.exec_driver_sql(sql, params)


def run_requests(
    store: Store,
    todo: Sequence[tuple[int, Question]],
    teacher: Teacher,
    opts: LabelOptions,
    *,
    report: Reporter = silent,
    sleep: Callable[[float], None] = time.sleep,
    task_name: str = "label",
) -> JobState:
    """Ask every pending request (concurrently), storing each answer as it arrives."""
    write = _Writer(store)
    state = JobState()
    options = opts.generation()
    queue = iter(todo)
    task = Task(report, task_name, len(todo), "requests")

    def take() -> tuple[int, Question] | None:
        with state.lock:
            if state.stop:
                return None
            if opts.max_requests is not None and state.sent >= opts.max_requests:
                return None
            if opts.max_tokens is not None and state.tokens >= opts.max_tokens:
                return None
            item = next(queue, None)
            if item is not None:
                state.sent += 1
            return item

    def ask(request_id: int, q: Question) -> None:
        error = "not sent"
        for attempt in range(opts.retries + 1):
            if attempt:
                with state.lock:
                    if state.stop or (
                        opts.max_requests is not None and state.sent >= opts.max_requests
                    ):
                        break
                    state.sent += 1
                sleep(opts.backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))
            write(
                "UPDATE teacher_request SET status = 'sent', attempts = attempts + 1, sent_at = ?, error = NULL WHERE id = ?",
                (sql_timestamp(utcnow()), request_id),
            )
            try:
                answer = teacher.ask(q.prompt, options, attempt)
            except TransientTeacherError as exc:
                error = str(exc)
                task.log(
                    f"request {request_id}: {error} (attempt {attempt + 1} of {opts.retries + 1})"
                )
                continue
            except PermanentTeacherError as exc:
                error = str(exc)
                break
            except Exception as exc:  # a backend fault nobody foresaw: record it, go on
                error = f"unexpected {type(exc).__name__}: {exc}"
                break
            _store_answer(write, request_id, q, answer, opts)
            with state.lock:
                state.answered += 1
                state.tokens += (answer.prompt_tokens or 0) + (answer.output_tokens or 0)
            task.advance(1)
            return
        write(
            "UPDATE teacher_request SET status = 'failed', error = ? WHERE id = ?",
            (error, request_id),
        )
        with state.lock:
            state.failed += 1
        task.advance(1, failed=state.failed)

    def worker() -> None:
        while (item := take()) is not None:
            ask(*item)

    with ThreadPoolExecutor(max_workers=opts.concurrency, thread_name_prefix="alkd-label") as pool:
        futures = [pool.submit(worker) for _ in range(opts.concurrency)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            with state.lock:
                state.stop = True  # in-flight requests finish and are stored; nothing new is sent
            raise
    task.end()
    return state


def _store_answer(
    write: _Writer, request_id: int, q: Question, answer: Answer, opts: LabelOptions
) -> None:
    hints_only = q.prompt.template == HINTS_TEMPLATE  # a hints answer has no ranking
    if hints_only:
        hints = parse_hints(answer.content, q.prompt.n)
        parsed, scores = ParsedRanking([], hints.status, hints.notes), None
    elif q.prompt.template == SOFT_TEMPLATE:
        parsed, scores = parse_soft(answer, q)
    else:
        parsed = parse_ranking(answer.content, q.known, q.prompt.n)
        scores = _answer_scores(answer, parsed, q)
    write(
        "UPDATE teacher_request SET status = 'answered', raw_response = ?, ranking = ?, scores = ?, parse_status = ?, "
        "parse_notes = ?, latency_s = ?, prompt_tokens = ?, output_tokens = ?, answered_at = ?, error = NULL "
        "WHERE id = ?",
        (
            answer.content, None if hints_only else json.dumps(parsed.ranking),
            None if scores is None else json.dumps(scores), parsed.status,
            json.dumps(parsed.notes), answer.latency_s, answer.prompt_tokens, answer.output_tokens,
            sql_timestamp(utcnow()), request_id,
        ),
    )  # fmt: skip
