"""Labelling a selection with a teacher: build the questions, store them, ask, store answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import select

from alkd_tui.config import build
from alkd_tui.data import load_dataset
from alkd_tui.data.canonical import SessionDataset
from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.cross_fit import cross_fitted_candidates
from alkd_tui.pipeline.endpoint import teacher_endpoint
from alkd_tui.pipeline.models import get_model, load_trained
from alkd_tui.pipeline.results import LabelResult
from alkd_tui.pipeline.run_records import recorded_run
from alkd_tui.pipeline.selection import get_selection
from alkd_tui.progress import ProgressEvent, Reporter, silent
from alkd_tui.store import Dataset, Hint, Store
from alkd_tui.store import teacher_requests as requests
from alkd_tui.store.answers import AnswerFilter
from alkd_tui.store.datasets import validation_sessions
from alkd_tui.teacher.asking import Question, register_requests, run_requests
from alkd_tui.teacher.backends.base import Teacher, TeacherInfo
from alkd_tui.teacher.candidates import top_candidates
from alkd_tui.teacher.prompts import ItemRef, Prompt, ranking_prompt, soft_label_prompt
from alkd_tui.teacher.registry import get_backend
from alkd_tui.teacher.settings import LabelSettings, TeacherChoice


def selection_sessions(store: Store, selection_id: int) -> list[tuple[int, int, str]]:
    """The members of a selection in order: (session row id, instance index, external id)."""
    return requests.selection_members(store, selection_id)


def _item_refs(ds: SessionDataset, items: np.ndarray) -> list[ItemRef]:
    titles = ds.titles or [None] * ds.n_items
    return [ItemRef(ds.item_ids[i], titles[i]) for i in items.tolist()]


def _hints(
    store: Store, dataset_id: int, model_name: str, request_id: int | None = None
) -> list[str]:
    """The hints `model_name` wrote for the dataset (its latest set, or the set of hints
    request `request_id`, in order), for `--hints`; a clear line where there are none
    (`alkd teacher hints` makes them)."""
    with store.reading() as orm:
        query = select(Hint).where(Hint.dataset_id == dataset_id, Hint.model_name == model_name)
        if request_id is not None:
            query = query.where(Hint.request_id == request_id)
        rows = orm.exec(query.order_by(Hint.id)).all()
        latest = max((h.request_id or 0 for h in rows), default=0)
        hints = [h.text for h in rows if (h.request_id or 0) == latest]
    if not hints and request_id is not None:
        raise BadInputError(
            f"--hints: hints request {request_id} holds no hints by {model_name} for this dataset"
        )
    if not hints:
        raise BadInputError(
            f"--hints: no hints by {model_name} for this dataset; make them with "
            f"`alkd teacher hints --dataset D --teacher-model REC --model {model_name}`"
        )
    return hints


def make_teacher(
    choice: TeacherChoice, settings: LabelSettings, recommender: str | None = None
) -> Teacher:
    """The teacher backend the choice names (`alkd_tui.teacher.registry`); nothing is
    contacted yet. `recommender`: the teacher recommender (the candidates; tr's answers)."""
    return get_backend(choice.teacher).load().create(choice, settings, recommender)  # type: ignore[no-any-return]


def build_questions(
    store: Store,
    ds: SessionDataset,
    members: list[tuple[int, int, str]],
    teacher: Teacher,
    info: TeacherInfo,
    opts: LabelSettings,
    candidates_model: str | None,
    dataset_id: int,
    hints_request: int | None = None,
    report: Reporter = silent,
) -> list[Question]:
    """One question per member: recorded answers are keyed by session; LLM and TR questions
    show the teacher recommender's candidates (an LLM's cross-fitted by default: see
    `alkd_tui.pipeline.cross_fit`; with `opts.hints`, the model's latest hints, or those of
    `hints_request`)."""
    options = opts.generation()
    if get_backend(teacher.backend).needs == "file":  # recorded answers, keyed by session
        catalogue = {item: k for k, item in enumerate(ds.item_ids)}
        questions = []
        for session_id, _, key in members:
            prompt = Prompt("replay", [], None, opts.n, session_key=key)
            # The answer is read as a ranking of n items: another n is another question (the
            # recorded answer is read again, not asked of anyone).
            digest = f"{info.digest}:{key}:n{opts.n}"
            questions.append(
                Question(session_id, key, prompt, digest, catalogue, None, prompt_text="")
            )
        return questions
    if candidates_model is None:
        raise BadInputError(
            "give --candidates-from MODEL: the teacher recommender whose top items are the candidates"
        )
    model = load_trained(store, get_model(store, candidates_model))
    rows = np.array([idx for _, idx, _ in members], dtype=np.int64)
    kappa = min(opts.kappa, 20) if opts.soft else opts.kappa
    if opts.candidates == "cross-fit" and info.is_llm:
        top = cross_fitted_candidates(store, candidates_model, ds, rows, kappa, folds=opts.folds,
                                      force_target=opts.force_target, report=report)  # fmt: skip
    else:
        top, _ = top_candidates(model, ds, rows, kappa, force_target=opts.force_target)
    hints = _hints(store, dataset_id, info.model, hints_request) if opts.hints else []
    questions = []
    for (session_id, idx, key), cands in zip(members, top, strict=True):
        session = _item_refs(ds, ds.inputs(idx)[-model.max_len :])
        refs = _item_refs(ds, cands)
        if opts.soft:
            prompt = soft_label_prompt(session, refs, hints)
        else:
            prompt = ranking_prompt(session, refs, opts.n, hints)
        prompt.session_key = key
        known = {ref.external_id: int(i) for ref, i in zip(refs, cands.tolist(), strict=True)}
        questions.append(
            # The model's digest is part of the hash: a rebuilt model under the same name is asked anew.
            Question(
                session_id,
                key,
                prompt,
                prompt.hash({**options, "model_digest": info.digest}),
                known,
                cands.tolist(),
            )
        )
    return questions


def label_selection(
    store: Store,
    selection: str,
    teacher: TeacherChoice | str,
    settings: LabelSettings | dict[str, Any] | None = None,
    *,
    model: str | None = None,
    file: str | Path | None = None,
    hosts: list[str] | None = None,
    candidates_from: str | None = None,
    options: dict[str, Any] | None = None,
    hints_request: int | None = None,
    report: Reporter = silent,
) -> LabelResult:
    """Label the sessions of `selection` with a teacher; returns the job's figures. `teacher`
    is who answers (or just the backend's name, with `model`, `file`, `hosts`); `settings`
    (or `options`) how it is asked. With `settings.hints`, the prompts include the teacher
    model's latest hints for the dataset, or the hints of request `hints_request` (what
    `alkd run` made for this run).

    Resumable: what was answered before (by this or an earlier job) is not asked again.
    """
    if isinstance(teacher, str):
        choice = build(TeacherChoice, {"teacher": teacher, "model": model, "hosts": list(hosts or []),
                                       "file": None if file is None else str(file)})  # fmt: skip
    else:
        choice = teacher
    opts = (
        settings
        if isinstance(settings, LabelSettings)
        else build(LabelSettings, {**(settings or {}), **(options or {})})
    )
    with teacher_endpoint(choice, seed=opts.seed, report=report) as endpoint:
        return _label(
            store, selection, endpoint.choice, opts, candidates_from, hints_request, report
        )


def _label(
    store: Store,
    selection: str,
    choice: TeacherChoice,
    opts: LabelSettings,
    candidates_from: str | None,
    hints_request: int | None,
    report: Reporter,
) -> dict[str, Any]:
    entry = get_backend(choice.teacher)
    backend = entry.name
    sel = get_selection(store, selection)
    assert sel.id is not None
    with store.reading() as orm:
        ds_row = orm.get(Dataset, sel.dataset_id)
    assert ds_row is not None and ds_row.id is not None
    if candidates_from is None and sel.teacher_model_id is not None and entry.needs != "file":
        candidates_from = str(sel.teacher_model_id)
    recommender = get_model(store, candidates_from).name if candidates_from else None
    answering = make_teacher(choice, opts, recommender if entry.needs == "recommender" else None)
    info = answering.describe()
    members = selection_sessions(store, sel.id)
    unanswerable = 0
    if entry.needs == "file":  # recorded answers: only the sessions they have
        answerable = [m for m in members if answering.has(m[2])]  # type: ignore[attr-defined]
        unanswerable = len(members) - len(answerable)
        members = answerable
    ds = load_dataset(store, ds_row.name)
    calibration = calibration_sessions(store, ds_row.id, opts.calibration, opts.seed)
    if entry.needs == "file":
        calibration = [m for m in calibration if answering.has(m[2])]  # type: ignore[attr-defined]
    members = members + calibration
    questions = build_questions(
        store, ds, members, answering, info, opts, candidates_from, ds_row.id, hints_request, report
    )
    check_context(questions, info, opts, report)
    config = {
        "selection": sel.name, "backend": backend, "model": info.model, "candidates_from": candidates_from,
        "file": choice.file, "hosts": info.hosts, **opts.model_dump(mode="json"),
    }  # fmt: skip
    if info.model_info:
        config["model_info"] = info.model_info
    if hints_request is not None:
        config["hints_request"] = hints_request
    with recorded_run(store, "label", sel.name, config, opts.seed) as run:
        todo, cached = register_requests(
            store, questions, info, selection_id=sel.id, run_id=run.id, options=opts.generation()
        )
        report(
            ProgressEvent(
                "log",
                "label",
                message=f"{len(questions)} requests: {cached} answered before, {len(todo)} to ask",
            )
        )
        state = run_requests(store, todo, answering, opts, report=report)
        summary = label_summary(store, sel.id, info.model)
        result = LabelResult(
            selection=sel.id, name=sel.name,
            teacher={"backend": info.backend, "model": info.model, "digest": info.digest,
                     "server_version": info.server_version, "hosts": info.hosts, "is_llm": info.is_llm,
                     "description": info.description, "model_info": info.model_info},
            requests=len(questions), cached=cached, sent=state.sent, answered_now=state.answered,
            failed_now=state.failed, elsewhere=dict(state.elsewhere), unanswerable=unanswerable,
            budget_exhausted=len(todo) > state.answered + state.failed, run=run.id, **summary,
        )  # fmt: skip
        if calibration:
            result.calibration = calibration_summary(store, sel.id, info.model, len(calibration))
        cost = opts.cost(result.tokens["prompt"], result.tokens["output"])
        if cost is not None and result.tokens["prompt"] + result.tokens["output"]:
            result.cost = round(cost, 6)
        figures = result.as_json()
        run.done(
            metrics={"label": {k: v for k, v in figures.items() if isinstance(v, int | float)}},
            step="label",
        )
    return result


def calibration_sessions(
    store: Store, dataset_id: int, count: int, seed: int
) -> list[tuple[int, int, str]]:
    """`count` validation sessions drawn with `seed`, in order: (row id, index, external id)."""
    if count <= 0:
        return []
    pool = validation_sessions(store, dataset_id)
    if not pool:
        raise BadInputError("--calibration: the dataset has no validation sessions")
    picked = np.random.default_rng(seed).choice(len(pool), min(count, len(pool)), replace=False)
    return [pool[i] for i in sorted(picked.tolist())]


def calibration_summary(
    store: Store, selection_id: int, model_name: str, asked: int
) -> dict[str, Any]:
    """The calibration questions of a selection to one model: how many were asked and
    answered, and hit@k of the answers (the LLM's accuracy where no list memorised the target)."""
    from alkd_tui.pipeline.candidate_leak import hit_rates
    from alkd_tui.store.answers import audit_rows

    which = AnswerFilter(selection_id=selection_id, teacher=model_name, calibration=True)
    with store.read() as conn:
        rows = [r for r in audit_rows(conn, which) if r["status"] == "answered"]
    rankings = [json.loads(r["ranking"]) if r["ranking"] else [] for r in rows]
    return {"asked": asked, **hit_rates(rankings, [int(r["target"]) for r in rows], (1, 5, 10, 25))}


#: Characters per token assumed when a prompt's length is checked before it is sent (English
#: text with ids runs at 3-4; the lower figure errs towards warning).
CHARS_PER_TOKEN = 3.0


def check_context(
    questions: list[Question], info: TeacherInfo, opts: LabelSettings, report: Reporter
) -> None:
    """Before anything is sent: refuse a job whose longest prompt cannot fit in `num_ctx`
    tokens (a server cuts such a prompt and the answer is about something else), and warn
    when `num_ctx` is larger than the context the model was trained for (/api/show)."""
    trained = info.model_info.get("context_length")
    if isinstance(trained, int) and opts.num_ctx > trained:
        report(ProgressEvent("log", "label", message=(
            f"warning: --num-ctx {opts.num_ctx} is more than the {trained} tokens {info.model} "
            "was trained for; answers about long prompts may suffer")))  # fmt: skip
    if info.backend != "ollama":  # only Ollama is sent num_ctx (other servers set their own)
        return
    longest = max((len(q.prompt.text()) for q in questions if q.prompt.messages), default=0)
    estimate = int(longest / CHARS_PER_TOKEN)
    if estimate > opts.num_ctx:
        raise BadInputError(
            f"--num-ctx {opts.num_ctx}: the longest prompt is about {estimate} tokens "
            f"({longest} characters) and would be cut; raise --num-ctx or lower --kappa"
        )
    if estimate > 0.8 * opts.num_ctx:
        report(ProgressEvent("log", "label", message=(
            f"warning: the longest prompt is about {estimate} tokens, close to --num-ctx "
            f"{opts.num_ctx}")))  # fmt: skip


def label_summary(store: Store, selection_id: int, model_name: str) -> dict[str, Any]:
    """Figures over a selection's answers from one model: statuses and parse statuses per session
    (its label, as `SELECTION_USES` picks it); latency and tokens per request (sessions with
    identical questions share one request)."""
    rows = requests.selection_answers(store, selection_id, model_name)
    statuses: dict[str, int] = {}
    parse: dict[str, int] = {}
    latencies = []
    prompt_tokens = output_tokens = 0
    counted: set[int] = set()
    for request_id, _, status, parse_status, latency, p_tok, o_tok in rows:
        statuses[status] = statuses.get(status, 0) + 1
        if parse_status:
            parse[parse_status] = parse.get(parse_status, 0) + 1
        if request_id in counted:
            continue
        counted.add(request_id)
        if latency is not None and status == "answered":
            latencies.append(float(latency))
        prompt_tokens += p_tok or 0
        output_tokens += o_tok or 0
    lat = np.array(latencies) if latencies else np.zeros(0)
    return {
        "answered": statuses.get("answered", 0),
        "failed": statuses.get("failed", 0),
        "pending": statuses.get("pending", 0) + statuses.get("sent", 0),
        "parse": parse,
        "latency_s": {
            "p50": round(float(np.percentile(lat, 50)), 4) if lat.size else None,
            "p90": round(float(np.percentile(lat, 90)), 4) if lat.size else None,
            "max": round(float(lat.max()), 4) if lat.size else None,
        },
        "tokens": {"prompt": prompt_tokens, "output": output_tokens},
    }


def answer_filter(
    store: Store,
    *,
    selection: str | None = None,
    teacher: str | None = None,
    dataset: str | None = None,
    strategy: str | None = None,
    calibration: bool = False,
) -> AnswerFilter:
    """Which answers to read, by names: a selection's labels (one per member session and
    teacher model, as `SELECTION_USES` picks them, however many jobs asked), a teacher model,
    a dataset, a strategy."""
    from alkd_tui.pipeline.datasets import get_dataset

    return AnswerFilter(
        selection_id=None if selection is None else get_selection(store, selection).id,
        teacher=teacher,
        dataset_id=None if dataset is None else get_dataset(store, dataset).id,
        strategy=strategy,
        calibration=calibration,
    )
