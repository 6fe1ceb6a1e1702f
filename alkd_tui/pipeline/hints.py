"""Hints (the paper's Module 1): an LLM reads the teacher recommender's rankings of about 20
training sessions and summarises their patterns into a few short hints, which `alkd label
--hints` then includes in its ranking prompts.

The hints question is a teacher request like any other (the labelling job's machinery): it is
stored before it is sent, answered from the store when the same prompt was asked of the same
model, kept with its raw answer and parse status for the audit. Its hints go to the `hint`
table, linked to that request. Only an LLM can write hints: recorded answers (`replay`) are
rankings, and the teacher recommender (`tr`) is no LLM.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlmodel import select

from alkd_tui.config import build
from alkd_tui.data import load_dataset
from alkd_tui.errors import BadInputError, StepFailedError
from alkd_tui.pipeline import labels
from alkd_tui.pipeline.datasets import get_dataset
from alkd_tui.pipeline.endpoint import teacher_endpoint
from alkd_tui.pipeline.models import get_model, load_trained
from alkd_tui.pipeline.run_records import recorded_run
from alkd_tui.progress import ProgressEvent, Reporter, silent
from alkd_tui.store import Hint, Store
from alkd_tui.store import teacher_requests as requests
from alkd_tui.store.datasets import training_sessions
from alkd_tui.teacher.asking import Question, register_requests, run_requests
from alkd_tui.teacher.candidates import top_candidates
from alkd_tui.teacher.parsing import parse_hints
from alkd_tui.teacher.prompts import hints_prompt
from alkd_tui.teacher.registry import get_backend, llm_backends
from alkd_tui.teacher.settings import GenerationSettings, HintSettings, TeacherChoice


def _refuse(backend: str) -> None:
    """Hints need an LLM (`alkd_tui.teacher.registry`; auto and local are LLMs): recorded
    answers and the teacher recommender cannot write them."""
    if backend in ("auto", "local"):
        return
    entry = get_backend(backend)
    if not entry.is_llm:
        raise BadInputError(
            f"--teacher {backend} cannot write hints: it answers with {entry.summary}; use "
            f"--teacher {' or '.join(llm_backends())}"
        )


def sample_sessions(
    store: Store, dataset_id: int, count: int, seed: int
) -> list[tuple[int, int, str]]:
    """`count` training sessions drawn with `seed`, in dataset order: (row id, index, external id)."""
    rows = training_sessions(store, dataset_id)
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(len(rows), size=min(count, len(rows)), replace=False))
    return [rows[k] for k in picked.tolist()]


def _request(store: Store, model_name: str, prompt_hash: str) -> dict[str, Any]:
    return requests.request_by_hash(store, model_name, prompt_hash)


def store_hints(
    store: Store, dataset_id: int, model_name: str, request_id: int, hints: list[str]
) -> list[dict[str, Any]]:
    """The request's hints for the dataset: stored once (a cached or resumed request adds none)."""
    with store.session() as orm:
        query = select(Hint).where(Hint.request_id == request_id, Hint.dataset_id == dataset_id)
        if orm.exec(query).first() is None:
            for text in hints:
                orm.add(
                    Hint(
                        dataset_id=dataset_id,
                        model_name=model_name,
                        text=text,
                        request_id=request_id,
                    )
                )
            orm.flush()
        return [{"id": h.id, "text": h.text} for h in orm.exec(query.order_by(Hint.id))]


def make_hints(
    store: Store,
    dataset: str,
    teacher_model: str,
    teacher: TeacherChoice | str | None = None,
    *,
    model: str | None = None,
    hosts: list[str] | None = None,
    settings: HintSettings | None = None,
    generation: GenerationSettings | None = None,
    options: dict[str, Any] | None = None,
    report: Reporter = silent,
) -> dict[str, Any]:
    """Ask an LLM for hints about `dataset` from the teacher recommender's rankings of sampled
    training sessions; store the request and the hints. Asked once per prompt and model.
    `teacher`: who answers (or the backend's name, with `model` and `hosts`); `settings`: what
    the question shows; `generation`: how it is sent (its seed also samples the sessions);
    `options` may give either's fields instead."""
    if isinstance(teacher, TeacherChoice):
        choice = teacher
    else:
        given = {"model": model, "hosts": list(hosts or [])}
        choice = build(TeacherChoice, {**given, **({"teacher": teacher} if teacher else {})})
    _refuse(choice.teacher)
    given = dict(options or {})
    hint_keys = set(HintSettings.model_fields)
    if settings is None:
        settings = build(HintSettings, {k: v for k, v in given.items() if k in hint_keys})
    if generation is None:
        generation = build(
            GenerationSettings, {k: v for k, v in given.items() if k not in hint_keys}
        )
    opts = settings
    ds_row = get_dataset(store, dataset)
    rec_row = get_model(store, teacher_model)
    if rec_row.dataset_id != ds_row.id:
        raise BadInputError(
            f"--teacher-model {rec_row.name!r} was trained on another dataset than {ds_row.name!r}"
        )
    assert ds_row.id is not None
    members = sample_sessions(store, ds_row.id, opts.sessions, generation.seed)
    if not members:
        raise BadInputError(f"dataset {ds_row.name!r} has no training sessions to show")
    with teacher_endpoint(choice, seed=generation.seed, report=report, task="hints") as endpoint:
        return _ask_hints(
            store, ds_row, rec_row, members, endpoint.choice, settings, generation, report
        )


def _ask_hints(
    store: Store,
    ds_row: Any,
    rec_row: Any,
    members: list[tuple[int, int, str]],
    choice: TeacherChoice,
    opts: HintSettings,
    generation: GenerationSettings,
    report: Reporter,
) -> dict[str, Any]:
    label_opts = opts.label_settings(generation)
    backend = choice.teacher
    teacher = labels.make_teacher(choice, label_opts)
    info = teacher.describe()
    ds = load_dataset(store, ds_row.name)
    rec = load_trained(store, rec_row)
    rows = np.array([idx for _, idx, _ in members], dtype=np.int64)
    top, _ = top_candidates(rec, ds, rows, opts.top_k)
    examples = [
        (labels._item_refs(ds, ds.inputs(idx)[-rec.max_len :]), labels._item_refs(ds, cands))
        for (_, idx, _), cands in zip(members, top, strict=True)
    ]
    prompt = hints_prompt(examples, opts.max_hints)
    asked = label_opts.generation()
    question = Question(
        members[0][0], "", prompt, prompt.hash({**asked, "model_digest": info.digest}), {}
    )
    config = {
        "dataset": ds_row.name, "teacher_model": rec_row.name, "backend": backend,
        "model": info.model, "hosts": info.hosts, **opts.model_dump(mode="json"),
        **generation.model_dump(mode="json"),
    }  # fmt: skip
    with recorded_run(store, "hints", ds_row.name, config, generation.seed) as run:
        todo, cached = register_requests(
            store, [question], info, selection_id=None, run_id=run.id, options=asked,
            link_sessions=False,
        )  # fmt: skip
        if cached:
            report(ProgressEvent("log", "hints", message="answered before: nothing to ask"))
        run_requests(store, todo, teacher, label_opts, report=report, task_name="hints")
        request = _request(store, info.model, question.prompt_hash)
        if request["status"] != "answered":
            raise StepFailedError(
                f"the hints request {request['id']} to {info.model} failed after "
                f"{request['attempts']} attempts: {request['error']}; it is stored, and asking again retries it"
            )
        parsed = parse_hints(request["raw_response"], opts.max_hints)
        stored = store_hints(store, ds_row.id, info.model, request["id"], parsed.hints)
        result = {
            "dataset": ds_row.name,
            "teacher_model": rec_row.name,
            "teacher": {"backend": info.backend, "model": info.model, "digest": info.digest,
                        "server_version": info.server_version, "hosts": info.hosts,
                        "description": info.description},
            "request": request["id"],
            "cached": bool(cached),
            "sessions": [key for _, _, key in members],
            "parse_status": parsed.status,
            "parse_notes": parsed.notes,
            "raw_response": request["raw_response"],
            "hints": stored,
            "tokens": {"prompt": request["prompt_tokens"] or 0, "output": request["output_tokens"] or 0},
            "latency_s": request["latency_s"],
            "run": run.id,
        }  # fmt: skip
        run.done(
            step="hints",
            metrics={"hints": {"hints": len(stored), "sessions": len(members), "cached": int(bool(cached))}},
        )  # fmt: skip
    return result


def list_hints(store: Store, dataset: str, model: str | None = None) -> dict[str, Any]:
    """The stored hints of `dataset` (by one LLM, if given), oldest first, with their requests;
    `--hints` uses each model's latest set."""
    ds_row = get_dataset(store, dataset)
    with store.reading() as orm:
        query = select(Hint).where(Hint.dataset_id == ds_row.id)
        if model is not None:
            query = query.where(Hint.model_name == model)
        rows = list(orm.exec(query.order_by(Hint.id)))
    latest: dict[str, int] = {}
    for h in rows:
        latest[h.model_name] = max(latest.get(h.model_name, 0), h.request_id or 0)
    return {
        "dataset": ds_row.name,
        "hints": [
            {
                "id": h.id,
                "model": h.model_name,
                "text": h.text,
                "request": h.request_id,
                "in_use": (h.request_id or 0) == latest[h.model_name],
                "created_at": h.created_at.isoformat(timespec="seconds"),
            }
            for h in rows
        ],
    }
