"""Labelling jobs: every request is stored before it is sent and its answer as it arrives, so a
job killed at any moment resumes without asking again what was answered; an identical prompt
to the same model is answered from the store (unique on model and prompt hash).

Retries with exponential backoff on transient failures (connection, timeout, 5xx, a broken
stream); a refused request (4xx) is not retried. Budget caps on requests and tokens leave the
rest pending for a later job.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.store import Store
from alkd_tui.store import teacher_requests as requests
from alkd_tui.store.owners import this_process
from alkd_tui.teacher.backends.base import (
    Answer,
    PermanentTeacherError,
    Teacher,
    TeacherInfo,
    TransientTeacherError,
)
from alkd_tui.teacher.parsing import ParsedRanking, normalize_id, parse_hints, parse_ranking
from alkd_tui.teacher.prompts import HINTS_TEMPLATE, LETTERS, SOFT_TEMPLATE, Prompt
from alkd_tui.teacher.settings import LabelSettings

#: The settings of a labelling job (declared in `alkd_tui.teacher.settings`).
LabelOptions = LabelSettings


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
    """What a labelling job did: sent (attempts), answered, failed, tokens; `elsewhere`
    counts the requests another job had ("busy": it is asking them; "answered": it did)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    tokens: int = 0
    stop: bool = False
    answered: int = 0
    failed: int = 0
    elsewhere: dict[str, int] = field(default_factory=dict)
    errors: list[BaseException] = field(default_factory=list)


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
    session's label is this job's answer once it has one (see `store.label_use.SELECTION_USES`);
    it keeps the selection that made it. Without `link_sessions` (questions that are not about
    one session's next item, such as hints), no session is linked, so the request is never read
    as a session's label.

    Returns the requests still to ask (new, pending, sent-but-unanswered, failed; each once)
    and how many questions were already answered (the cache).
    """
    registered = requests.register(
        store,
        [
            requests.NewRequest(
                q.session_id, q.prompt_hash, q.prompt.template,
                q.prompt.text() if q.prompt_text is None else q.prompt_text, q.candidates,
            )
            for q in questions
        ],
        backend=info.backend, model=info.model, digest=info.digest, server_version=info.server_version,
        selection_id=selection_id, run_id=run_id, options=options, link_sessions=link_sessions,
    )  # fmt: skip
    todo = [
        (r.request_id, q)
        for r, q in zip(registered, questions, strict=True)
        if r.first and not r.answered
    ]
    return todo, len(questions) - len(todo)


def _job_owner() -> str:
    """This job's claim token: the process (`alkd_tui.store.owners`) and a job number, so
    two jobs of one process never take each other's claims for their own."""
    return f"{this_process()}:{secrets.token_hex(4)}"


def run_requests(
    store: Store,
    todo: Sequence[tuple[int, Question]],
    teacher: Teacher,
    opts: LabelOptions,
    *,
    report: Reporter = silent,
    task_name: str = "label",
) -> JobState:
    """Ask every pending request (concurrently), storing each answer as it arrives.

    Each request is claimed in the store before it is asked: a request another live job
    claimed is skipped (`JobState.elsewhere`), so two jobs on one selection ask every question
    once; a claim whose process is gone is taken over. The claims are renewed while the job
    runs and released as it ends. The workers are daemon threads: an interrupt (SIGINT,
    SIGTERM) ends the job at once, even while requests hang; a request in flight then stays
    `sent`, and the next job asks it again, once.
    """
    state = JobState()
    options = opts.generation()
    queue = iter(todo)
    # With a request budget the job asks at most that many (retries aside): its total.
    total = len(todo) if opts.max_requests is None else min(len(todo), opts.max_requests)
    task = Task(report, task_name, total, "requests")
    owner = _job_owner()
    stopped = threading.Event()

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
                state.sent += 1  # a budget slot, given back when another job has the request
            sent = state.sent
        if item is not None:
            task.advance(0, sent=sent)  # what a paused job spent of its budget, for a resume
        return item

    def ask(request_id: int, q: Question) -> None:
        error = "not sent"
        retry_after = 0.0  # what the server asked to wait before the next attempt
        for attempt in range(opts.retries + 1):
            if attempt:
                with state.lock:
                    if state.stop or (
                        opts.max_requests is not None and state.sent >= opts.max_requests
                    ):
                        break
                    state.sent += 1
                    sent = state.sent
                task.advance(0, sent=sent)
                delay = opts.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
                if stopped.wait(max(delay, retry_after)):
                    break
            requests.mark_sent(store, request_id)
            retry_after = 0.0
            try:
                answer = teacher.ask(q.prompt, options, attempt)
            except TransientTeacherError as exc:
                error = str(exc)
                retry_after = min(exc.retry_after or 0.0, MAX_RETRY_AFTER_S)
                wait = f"; the server asks to wait {retry_after:g} s" if retry_after else ""
                task.log(
                    f"request {request_id}: {error} (attempt {attempt + 1} of {opts.retries + 1}{wait})"
                )
                continue
            except PermanentTeacherError as exc:
                error = str(exc)
                break
            except Exception as exc:  # a backend fault nobody foresaw: record it, go on
                error = f"unexpected {type(exc).__name__}: {exc}"
                break
            requests.store_answer(store, request_id, _stored_answer(q, answer, opts))
            with state.lock:
                state.answered += 1
                state.tokens += (answer.prompt_tokens or 0) + (answer.output_tokens or 0)
            task.advance(1)
            return
        if stopped.is_set():
            return  # interrupted: the request stays as it is, for the next job
        requests.mark_failed(store, request_id, error)
        with state.lock:
            state.failed += 1
        task.advance(1, failed=state.failed)

    def worker() -> None:
        try:
            while (item := take()) is not None:
                request_id, q = item
                outcome = requests.claim(store, request_id, owner)
                if outcome != "claimed":
                    with state.lock:
                        state.sent -= 1
                        state.elsewhere[outcome] = state.elsewhere.get(outcome, 0) + 1
                        sent = state.sent
                    task.advance(1, sent=sent, **{f"{outcome} elsewhere": state.elsewhere[outcome]})
                    continue
                ask(request_id, q)
        except BaseException as exc:  # surfaced by the main thread
            with state.lock:
                state.stop = True
                state.errors.append(exc)

    def heartbeat() -> None:
        while not stopped.wait(requests.LEASE_S / 3):
            try:
                requests.renew_claims(store, owner)
            except Exception:  # a busy moment: the next beat tries again
                continue

    threads = [
        threading.Thread(target=worker, name=f"alkd-{task_name}-{k}", daemon=True)
        for k in range(opts.concurrency)
    ]
    beat = threading.Thread(target=heartbeat, name=f"alkd-{task_name}-claims", daemon=True)
    beat.start()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)  # short waits: a signal is handled between them
    except BaseException:
        with state.lock:
            state.stop = True  # nothing new is sent; requests in flight are abandoned
        stopped.set()
        _release(store, owner)
        raise
    stopped.set()
    _release(store, owner)
    if state.errors:
        raise state.errors[0]
    task.end()
    return state


#: The longest wait a server's Retry-After is honoured for (a longer one is cut to this).
MAX_RETRY_AFTER_S = 600.0


def _release(store: Store, owner: str) -> None:
    # The database gone or locked: the claims run out on their own.
    with contextlib.suppress(Exception):
        requests.release_claims(store, owner)


def _stored_answer(q: Question, answer: Answer, opts: LabelOptions) -> requests.StoredAnswer:
    """What to store of an answer: parsed by the question's template, cut at
    `opts.max_answer_chars` (status `too_long`, no ranking) when it is longer."""
    thinking = answer.thinking[: opts.max_answer_chars] if answer.thinking else None
    if answer.cut or len(answer.content) > opts.max_answer_chars:
        return requests.StoredAnswer(
            answer.content[: opts.max_answer_chars], [] if q.prompt.template != HINTS_TEMPLATE else None,
            None, "too_long", [f"the answer was longer than {opts.max_answer_chars:,} characters: cut there, not read"],
            answer.latency_s, answer.prompt_tokens, answer.output_tokens, thinking,
        )  # fmt: skip
    hints_only = q.prompt.template == HINTS_TEMPLATE  # a hints answer has no ranking
    if hints_only:
        hints = parse_hints(answer.content, q.prompt.n)
        parsed, scores = ParsedRanking([], hints.status, hints.notes), None
    elif q.prompt.template == SOFT_TEMPLATE:
        parsed, scores = parse_soft(answer, q)
    else:
        parsed = parse_ranking(answer.content, q.known, q.prompt.n)
        scores = _answer_scores(answer, parsed, q)
    return requests.StoredAnswer(
        answer.content, None if hints_only else parsed.ranking, scores, parsed.status,
        parsed.notes, answer.latency_s, answer.prompt_tokens, answer.output_tokens, thinking,
    )  # fmt: skip
