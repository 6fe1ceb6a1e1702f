"""Selection steps over the store: choose a budget of training sessions for the LLM (or import
a recorded choice), preview the policy, list and show selections. Called by the CLI and TUI.

A selection's members are numbered by `order` from 1 (the first selected); each keeps the
probability it had when drawn, its gain and its difficulty where the strategy has them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import select

from alkd_tui.active.policy import check_ratios, policy_by_rank
from alkd_tui.active.registry import STRATEGY_ENTRIES
from alkd_tui.active.settings import SelectSettings
from alkd_tui.active.strategies import (
    STRATEGIES,
    SelectionOutcome,
    SelectionRequest,
    get_strategy,
    restrict_pool,
)
from alkd_tui.active.strategies import select as run_strategy
from alkd_tui.config import build
from alkd_tui.data.canonical import SPLIT_CODES
from alkd_tui.errors import BadInputError, InputFileError, NotFoundError
from alkd_tui.pipeline.datasets import get_dataset
from alkd_tui.pipeline.results import SelectionSummary
from alkd_tui.pipeline.run_records import recorded_run
from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.store import Dataset, RecModel, Selection, Store
from alkd_tui.store.datasets import names_by_id, session_keys, training_count
from alkd_tui.store.selections import insert_members, member_rows

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
STUDENT_ROLES = ("student", "distilled")
PoolSpec = str | Sequence[str] | None
#: Sessions scored at once for difficulty (memory, not results: any size gives the same ranks).
SCORE_BATCH = 1024


def parse_ratios(value: str | Sequence[float]) -> tuple[float, float, float]:
    """`"1:5:4"` (or three numbers) as effective:similar:incorrect ratios."""
    text = value if isinstance(value, str) else ":".join(str(v) for v in value)
    try:
        parts = [float(p) for p in text.split(":")] if isinstance(value, str) else list(value)
        return check_ratios(parts)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadInputError(
            f"--ratios {text!r}: expected three non-negative numbers with a positive sum, like 1:5:4"
        ) from None


def resolve_ratios(store: Store, value: str | Sequence[float]) -> str | Sequence[float]:
    """`from:SELECTION` becomes the ratios an audit measured on that selection's answers
    (`alkd audit --selection S --student M --save-ratios`); anything else is left as it is."""
    if not (isinstance(value, str) and value.startswith("from:")):
        return value
    source = get_selection(store, value.removeprefix("from:"))
    measured = (source.params or {}).get("estimated_ratios")
    if not measured:
        raise BadInputError(
            f"--ratios {value!r}: no ratios measured on selection {source.name!r}; run "
            f"`alkd audit --selection {source.name} --student MODEL --save-ratios` first"
        )
    return str(measured)


def check_selection_name(name: str) -> str:
    """A selection name: letters, digits, '.', '_', '-', starting with a letter or digit."""
    if not _NAME.match(name):
        raise BadInputError(
            f"--name {name!r}: use letters, digits, '.', '_' or '-' (at most 100, starting with a letter or digit)"
        )
    return name


@dataclass
class _Sessions:
    """A dataset's sessions by index: row ids in the store, external ids, split codes."""

    dataset: Dataset
    ids: np.ndarray
    external: list[str]
    split: np.ndarray

    @cached_property
    def index(self) -> dict[str, int]:
        return {ext: k for k, ext in enumerate(self.external)}

    def row_of(self, external_id: str) -> int | None:
        return self.index.get(external_id)


def _sessions(store: Store, dataset: Dataset) -> _Sessions:
    assert dataset.id is not None
    rows = session_keys(store, dataset.id)
    return _Sessions(
        dataset,
        np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
        [r[1] for r in rows],
        np.fromiter((SPLIT_CODES[r[2]] for r in rows), dtype=np.int8, count=len(rows)),
    )


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        raise InputFileError(path, "no such file")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not UTF-8 text ({exc.reason})") from None


def _replay_ids(path: Path) -> list[tuple[int | None, str]]:
    """The sessions of a file of recorded answers, in file order, read by the replay backend's
    reader (JSONL, CSV or Parquet, the paper's answers or alkd's own label exports), so the
    pool holds exactly the sessions `--teacher replay --file` can answer."""
    from alkd_tui.teacher.backends.replay import read_recorded

    if not path.is_file():
        raise InputFileError(path, "no such file")
    records, _ = read_recorded(path)
    return [(None, key) for key in records]


def _id_lines(path: Path) -> list[tuple[int | None, str]]:
    """(line number, session external id) of each non-blank line of a text file."""
    return [
        (number, line.strip())
        for number, line in enumerate(_read_lines(path), start=1)
        if line.strip()
    ]


def _resolve_pool(sessions: _Sessions, pool: PoolSpec) -> tuple[np.ndarray, dict[str, Any]]:
    """Pool rows and a JSON-ready description of where they came from."""
    name = sessions.dataset.name
    if pool is None:
        return restrict_pool(sessions.split), {"pool": "train"}
    if isinstance(pool, str):
        kind, sep, where = pool.partition(":")
        if not sep or kind not in ("replay", "ids") or not where:
            raise BadInputError(
                f"--pool {pool!r}: use replay:FILE (recorded answers: JSONL, CSV or Parquet) or "
                "ids:FILE (session ids)"
            )
        path = Path(where).expanduser()
        lines = _replay_ids(path) if kind == "replay" else _id_lines(path)
        rows = []
        for number, external in lines:
            row = sessions.row_of(external)
            if row is None:
                raise InputFileError(path, f"session {external!r} is not in dataset {name}", number)
            if kind == "ids" and sessions.split[row] != SPLIT_CODES["train"]:
                raise InputFileError(
                    path, f"session {external!r} is not a training session of {name}", number
                )
            rows.append(row)
        chosen = restrict_pool(sessions.split, rows, strict=False)
        info = {"pool": f"{kind}:{path.resolve()}", "pool_entries": len(lines)}
        info["pool_not_train"] = len(np.unique(rows)) - len(chosen)
        return chosen, info
    rows = []
    for external in pool:
        row = sessions.row_of(str(external))
        if row is None:
            raise BadInputError(f"pool session {str(external)!r} is not in dataset {name}")
        if sessions.split[row] != SPLIT_CODES["train"]:
            raise BadInputError(
                f"pool session {str(external)!r} is not a training session of {name}"
            )
        rows.append(row)
    return restrict_pool(sessions.split, rows), {"pool": f"{len(rows)} given sessions"}


def _model(
    store: Store, name: str, flag: str, dataset: Dataset, roles: tuple[str, ...]
) -> RecModel:
    from alkd_tui.pipeline.models import get_model

    row = get_model(store, name)
    if row.dataset_id != dataset.id:
        raise BadInputError(f"{flag} {name!r} was trained on another dataset, not {dataset.name}")
    if row.role not in roles:
        raise BadInputError(
            f"{flag} {name!r} is a {row.role} model; {flag} takes a {' or '.join(roles)} model"
        )
    if row.status != "done":
        raise BadInputError(f"{flag} {name!r} is {row.status}, not trained")
    return row


def _summary(row: Selection, dataset: str, teacher: str | None) -> SelectionSummary:
    log10 = row.params.get("log_abs_gamma")
    return SelectionSummary(
        selection=row.id,
        name=row.name,
        dataset=dataset,
        strategy=row.strategy,
        budget=row.budget,
        size=row.size,
        pool_size=row.pool_size,
        k_star=row.k_star,
        gamma=row.gamma,
        log10_gamma=None if log10 is None else log10 / math.log(10),
        teacher_model=teacher,
        params=row.params,
        run=row.run_id,
        created_at=row.created_at.isoformat(timespec="seconds"),
    )


def _unique_name(store: Store, base: str) -> str:
    with store.reading() as orm:
        taken = set(orm.exec(select(Selection.name).where(Selection.name.startswith(base))))  # type: ignore[attr-defined]
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _check_name_free(store: Store, name: str) -> None:
    with store.reading() as orm:
        if orm.exec(select(Selection).where(Selection.name == name)).first() is not None:
            raise BadInputError(f"a selection called {name!r} already exists")


def _floats(values: np.ndarray | None, n: int) -> list[float | None]:
    if values is None:
        return [None] * n
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def _store_selection(
    store: Store,
    sessions: _Sessions,
    outcome: SelectionOutcome,
    *,
    name: str,
    strategy: str,
    budget: int,
    params: dict[str, Any],
    pool_size: int,
    teacher_id: int | None,
    run_id: int | None,
) -> Selection:
    n = len(outcome)
    ids = sessions.ids[outcome.rows].tolist()
    members = list(
        zip(
            ids,
            range(1, n + 1),
            _floats(outcome.probability, n),
            _floats(outcome.gain, n),
            _floats(outcome.difficulty, n),
            strict=True,
        )
    )
    with store.session() as orm:
        row = Selection(
            name=name,
            dataset_id=sessions.dataset.id,
            strategy=strategy,
            budget=budget,
            params=params,
            pool_size=pool_size,
            size=n,
            k_star=outcome.k_star,
            gamma=outcome.gamma,
            teacher_model_id=teacher_id,
            run_id=run_id,
        )
        orm.add(row)
        orm.flush()
        assert row.id is not None
        insert_members(orm.connection(), row.id, members)
    return row


def create_selection(
    store: Store,
    dataset: str,
    settings: SelectSettings | str,
    budget: int | None = None,
    *,
    teacher_model: str | None = None,
    student_model: str | None = None,
    name: str | None = None,
    pool: PoolSpec = None,
    score_batch: int = SCORE_BATCH,
    report: Reporter = silent,
    **given: Any,
) -> SelectionSummary:
    """Select training sessions of `dataset` as `settings` say and store them (`settings` may
    instead be a strategy's name, with `budget` and any other settings as keywords).

    `pool` (else the settings' pool): None (every training session), `"replay:PATH"` (the
    sessions of a file of recorded answers, in any format the replay backend reads;
    non-training sessions are left out), `"ids:PATH"` (a text file of session ids) or a list
    of session ids. `teacher_model`/`student_model` are stored model names or ids. Returns
    the selection's summary (`show_selection` without members).
    """
    if isinstance(settings, str):
        values = {"strategy": settings, **given, **({} if budget is None else {"budget": budget})}
        if isinstance(values.get("ratios"), list | tuple):
            values["ratios"] = ":".join(f"{float(r):g}" for r in values["ratios"])
        settings = build(SelectSettings, values)
    if pool is None:
        pool = settings.pool
    strategy, budget, seed = settings.strategy, settings.budget, settings.seed
    ratios, mu, form = settings.ratios, settings.mu, settings.form
    sequential, difficulty_from = settings.sequential, settings.difficulty_from
    chosen = get_strategy(strategy)
    ratio_values = parse_ratios(resolve_ratios(store, ratios))
    if not math.isfinite(mu):
        raise BadInputError(f"--mu {mu}: must be a finite number >= 0")
    if form == "two-class":
        raise BadInputError(
            "--form two-class is RAD-BC's: use --strategy rad-bc (or --form paper or exact)"
        )
    ds_row = get_dataset(store, dataset)
    if name is not None:
        check_selection_name(name)
        _check_name_free(store, name)
    needs_difficulty = "difficulty" in chosen.needs
    entry = STRATEGY_ENTRIES[chosen.name]
    needs_teacher = (entry.needs_teacher and not needs_difficulty) or (
        needs_difficulty and difficulty_from == "teacher"
    )
    if needs_teacher and teacher_model is None:
        raise BadInputError(
            f"--strategy {chosen.name} needs --teacher MODEL (a trained teacher recommender; see `alkd models list`)"
        )
    if ((needs_difficulty and difficulty_from == "student") or entry.needs_student) and (
        student_model is None
    ):
        raise BadInputError(
            f"--strategy {chosen.name} needs --student MODEL (a trained student recommender)"
        )
    teacher_row = (
        _model(store, teacher_model, "--teacher", ds_row, ("teacher",)) if teacher_model else None
    )
    student_row = _model(store, student_model, "--student", ds_row, STUDENT_ROLES) if student_model else None  # fmt: skip

    sessions = _sessions(store, ds_row)
    pool_rows, pool_info = _resolve_pool(sessions, pool)
    if budget > len(pool_rows):
        raise BadInputError(
            f"--budget {budget} is more than the pool's {len(pool_rows):,} training sessions"
        )
    sel_name = name or _unique_name(store, f"{ds_row.name}-{chosen.name}-b{budget}-s{seed}")
    params: dict[str, Any] = {
        "ratios": list(ratio_values),
        "mu": float(mu),
        "seed": seed,
        "form": form,
        "sequential": sequential,
        "difficulty_from": difficulty_from if needs_difficulty else None,
        "teacher_model": teacher_row.name if teacher_row else None,
        "student_model": student_row.name if student_row else None,
        **pool_info,
    }
    config = {"dataset": ds_row.name, "strategy": chosen.name, "budget": budget, **params}
    with recorded_run(store, "select", sel_name, config, seed, what=f"selection {sel_name}") as run:
        outcome = _run(
            store, chosen.name, sessions, pool_rows, budget, seed, ratio_values, float(mu), form,
            sequential, difficulty_from, teacher_row, student_row, score_batch, report, chosen.needs,
        )  # fmt: skip
        info = {k: v for k, v in outcome.info.items() if k != "rank"}
        params["form"] = {"alkd": form, "rad-bc": "two-class"}.get(chosen.name)
        task = Task(report, "store selection", len(outcome), "sessions")
        row = _store_selection(
            store, sessions, outcome, name=sel_name, strategy=chosen.name, budget=budget,
            params={**params, **info}, pool_size=len(pool_rows),
            teacher_id=teacher_row.id if teacher_row else None, run_id=run.id,
        )  # fmt: skip
        task.advance(len(outcome))
        task.end()
        figures: dict[str, float] = {"size": float(row.size), "pool_size": float(row.pool_size)}
        if row.k_star is not None and row.gamma is not None:
            figures.update(k_star=float(row.k_star), gamma=float(row.gamma))
        run.done(metrics={"": figures}, step="select")
    return _summary(row, ds_row.name, teacher_row.name if teacher_row else None)


def _run(
    store: Store,
    strategy: str,
    sessions: _Sessions,
    pool_rows: np.ndarray,
    budget: int,
    seed: int,
    ratios: tuple[float, float, float],
    mu: float,
    form: str,
    sequential: bool,
    difficulty_from: str,
    teacher: RecModel | None,
    student: RecModel | None,
    score_batch: int,
    report: Reporter,
    needs: tuple[str, ...] = (),
) -> SelectionOutcome:
    difficulty = entropy = disagreement = popularity = None
    if "popularity" in needs:
        from alkd_tui.active.signals import popularity_scorer
        from alkd_tui.data import load_dataset

        popularity = popularity_scorer(load_dataset(store, sessions.dataset.name))
    if teacher is not None or student is not None:
        # torch loads only here: random selections and previews stay light.
        from alkd_tui.active.difficulty import (
            difficulty_scorer,
            disagreement_scorer,
            entropy_scorer,
        )
        from alkd_tui.data import load_dataset
        from alkd_tui.pipeline.models import load_trained

        task = Task(report, "load dataset", None)
        ds = load_dataset(store, sessions.dataset.name)
        task.end()
        teacher_net = load_trained(store, teacher) if teacher is not None else None
        student_net = load_trained(store, student) if student is not None else None
        source = student_net if difficulty_from == "student" else teacher_net
        if source is not None:
            difficulty = difficulty_scorer(
                source,
                ds,
                batch_size=score_batch,
                report=report,
                task=f"difficulty ({difficulty_from})",
            )
        if student_net is not None:
            entropy = entropy_scorer(student_net, ds, report=report)
        if "disagreement" in needs and teacher_net is not None and student_net is not None:
            disagreement = disagreement_scorer(teacher_net, student_net, ds, report=report)
    request = SelectionRequest(
        pool=pool_rows, budget=budget, seed=seed, ratios=ratios, mu=mu, form=form,  # type: ignore[arg-type]
        sequential=sequential, difficulty=difficulty, entropy=entropy, disagreement=disagreement,
        popularity=popularity,
    )  # fmt: skip
    task = Task(report, f"select ({strategy})", None)
    outcome = run_strategy(strategy, request)
    task.end()
    return outcome


def import_selection(
    store: Store,
    dataset: str,
    path: str | Path,
    name: str,
    *,
    limit: int | None = None,
    report: Reporter = silent,
) -> SelectionSummary:
    """Store the sessions listed in `path` (external ids, one per line, first = selected
    first) as selection `name`; only the first `limit` if given."""
    check_selection_name(name)
    if limit is not None and limit < 1:
        raise BadInputError(f"--limit {limit}: must be at least 1")
    ds_row = get_dataset(store, dataset)
    _check_name_free(store, name)
    source = Path(path).expanduser()
    lines = _id_lines(source)
    if limit is not None:
        lines = lines[:limit]
    if not lines:
        raise InputFileError(source, "lists no sessions")
    sessions = _sessions(store, ds_row)
    rows: list[int] = []
    first_line: dict[int, int] = {}
    for number, external in lines:
        row = sessions.row_of(external)
        if row is None:
            raise InputFileError(
                source, f"session {external!r} is not in dataset {ds_row.name}", number
            )
        if sessions.split[row] != SPLIT_CODES["train"]:
            raise InputFileError(
                source, f"session {external!r} is not a training session of {ds_row.name}", number
            )
        if row in first_line:
            raise InputFileError(
                source,
                f"session {external!r} is listed twice (first at line {first_line[row]})",
                number,
            )
        first_line[row] = number
        rows.append(row)
    params = {"file": str(source.resolve()), "limit": limit}
    config = {"dataset": ds_row.name, "strategy": "file", **params}
    with recorded_run(store, "select", name, config, what=f"selection {name}") as run:
        task = Task(report, "store selection", len(rows), "sessions")
        outcome = SelectionOutcome(rows=np.asarray(rows, dtype=np.int64))
        row = _store_selection(
            store, sessions, outcome, name=name, strategy="file", budget=len(rows), params=params,
            pool_size=int((sessions.split == SPLIT_CODES["train"]).sum()), teacher_id=None, run_id=run.id,
        )  # fmt: skip
        task.advance(len(rows))
        task.end()
        run.done(metrics={"": {"size": float(row.size)}}, step="select")
    return _summary(row, ds_row.name, None)


def get_selection(store: Store, name: str) -> Selection:
    """The selection called `name` (or with that id), or a `NotFoundError`."""
    with store.reading() as orm:
        row = orm.exec(select(Selection).where(Selection.name == name)).first()
        if row is None and name.isdigit():
            row = orm.get(Selection, int(name))
    if row is None:
        raise NotFoundError(f"no selection {name!r} in {store.where} (see `alkd selections list`)")
    return row


def list_selections(store: Store, dataset: str | None = None) -> list[SelectionSummary]:
    """Every selection (of `dataset`, if given), oldest first, without members."""
    datasets, models = names_by_id(store)
    with store.reading() as orm:
        query = select(Selection).order_by(Selection.id)  # type: ignore[arg-type]
        if dataset is not None:
            query = query.where(Selection.dataset_id == get_dataset(store, dataset).id)
        rows = list(orm.exec(query))
    return [
        _summary(r, datasets.get(r.dataset_id, "?"), models.get(r.teacher_model_id))  # type: ignore[arg-type]
        for r in rows
    ]


def show_selection(store: Store, name: str, *, limit: int | None = None) -> SelectionSummary:
    """A selection's summary and its members in order (the first `limit` if given): order,
    session (external id), idx (the session's index in the dataset), split, probability,
    gain, difficulty."""
    row = get_selection(store, name)
    datasets, models = names_by_id(store)
    assert row.id is not None
    members = member_rows(store, row.id, limit)
    data = _summary(row, datasets.get(row.dataset_id, "?"), models.get(row.teacher_model_id))  # type: ignore[arg-type]
    keys = ("order", "session", "idx", "split", "probability", "gain", "difficulty")
    data.members = [dict(zip(keys, m, strict=True)) for m in members]
    return data


def preview_selection(
    store: Store,
    dataset: str,
    settings: SelectSettings | str | None = None,
    *,
    points: int = 200,
    **given: Any,
) -> dict[str, Any]:
    """What a selection would look like, without running a model or storing anything.

    The policy depends only on the pool size, ratios and mu (difficulty decides only *which*
    session gets which rank): k*, Gamma(k*), p* by rank downsampled to about `points` ranks
    (always including 1, k* and the last), the class counts the policy assumes, and how the
    budget would split over the ranks the worst case gives each class (budget x p* mass: exact
    for the first draw, first-order after). `settings` may instead be a strategy's name, with
    other settings as keywords; a budget counts only where one is given.
    """
    budget = given.get("budget") if not isinstance(settings, SelectSettings) else (
        settings.budget if "budget" in settings.model_fields_set else None
    )  # fmt: skip
    if not isinstance(settings, SelectSettings):
        values = {k: v for k, v in given.items() if v is not None}
        if settings is not None:
            values["strategy"] = settings
        if isinstance(values.get("ratios"), list | tuple):
            values["ratios"] = ":".join(f"{float(r):g}" for r in values["ratios"])
        settings = build(SelectSettings, values)
    strategy, ratios, mu, form, pool = (
        settings.strategy,
        settings.ratios,
        settings.mu,
        settings.form,
        settings.pool,
    )
    chosen = get_strategy(strategy)
    ratio_values = parse_ratios(resolve_ratios(store, ratios))
    if not math.isfinite(mu):
        raise BadInputError(f"--mu {mu}: must be a finite number >= 0")
    if form == "two-class":
        raise BadInputError(
            "--form two-class is RAD-BC's: use --strategy rad-bc (or --form paper or exact)"
        )
    ds_row = get_dataset(store, dataset)
    if pool is None:
        assert ds_row.id is not None
        n = training_count(store, ds_row.id)
        pool_info: dict[str, Any] = {"pool": "train"}
    else:
        rows, pool_info = _resolve_pool(_sessions(store, ds_row), pool)
        n = len(rows)
    if n == 0:
        raise BadInputError(f"dataset {ds_row.name} has no training sessions in the pool")
    if budget is not None and not 1 <= budget <= n:
        raise BadInputError(f"--budget {budget} is not between 1 and the pool's {n:,} sessions")
    result: dict[str, Any] = {
        "preview": True,
        "dataset": ds_row.name,
        "strategy": chosen.name,
        "pool_size": n,
        "budget": budget,
        "ratios": list(ratio_values),
        "mu": float(mu),
        **pool_info,
        "k_star": None,
        "gamma": None,
        "curve": None,
    }
    if chosen.name in ("random", "tr"):
        result["curve"] = [
            {"rank": r, "probability": 1.0 / n, "cumulative": r / n}
            for r in _sample_ranks(n, n, points)
        ]
        return result
    if chosen.name not in ("alkd", "rad-bc"):
        result["note"] = f"{chosen.name} is deterministic given the scores: no probability curve"
        return result
    use_form = "two-class" if chosen.name == "rad-bc" else form
    policy = policy_by_rank(n, ratio_values, float(mu), form=use_form)  # type: ignore[arg-type]
    p = policy.probability
    cumulative = np.cumsum(p)
    counts = policy.counts
    bounds = {
        "incorrect": (0, math.floor(counts.incorrect)),
        "similar": (math.floor(counts.incorrect), math.floor(counts.incorrect + counts.similar)),
        "effective": (math.floor(counts.incorrect + counts.similar), n),
    }
    if use_form == "two-class":
        bounds = {"incorrect": bounds["incorrect"], "correct": (bounds["incorrect"][1], n)}
    mass = {c: float(p[a:b].sum()) for c, (a, b) in bounds.items()}
    log10 = policy.log_abs_gamma / math.log(10)
    result.update(
        form=use_form,
        k_star=policy.k_star,
        support_share=policy.k_star / n,
        gamma=policy.gamma,
        log10_gamma=None if not math.isfinite(log10) else log10,
        class_counts=counts.as_dict(),
        p_mass_by_worst_case_class=mass,
        budget_by_worst_case_class=None
        if budget is None
        else {c: budget * m for c, m in mass.items()},
        curve=[
            {
                "rank": r,
                "probability": float(p[r - 1]),
                "log10_probability": None
                if not math.isfinite(policy.log_probability[r - 1])
                else float(policy.log_probability[r - 1] / math.log(10)),
                "cumulative": float(cumulative[r - 1]),
            }
            for r in _sample_ranks(n, policy.k_star, points)
        ],
    )
    return result


def _sample_ranks(n: int, k_star: int, points: int) -> list[int]:
    """About `points` ranks spread over 1..n, always with 1, k*, k*+1 and n."""
    ranks = set(np.unique(np.round(np.linspace(1, n, max(2, points))).astype(int)).tolist())
    ranks.update(r for r in (1, k_star, k_star + 1, n) if 1 <= r <= n)
    return sorted(ranks)


__all__ = [
    "STRATEGIES",
    "create_selection",
    "get_selection",
    "import_selection",
    "list_selections",
    "parse_ratios",
    "preview_selection",
    "show_selection",
]
