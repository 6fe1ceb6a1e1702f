"""`alkd run`: the whole method, headless. Each step reuses what an identical earlier step made
(trained models, selections, answered questions, distilled models), so a re-run resumes where
an interrupted one stopped, and the run record keeps config, seeds, versions and every step's
status, time and results."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from alkd_tui.errors import (
    AlkdError,
    BadInputError,
    InputFileError,
    NotFoundError,
    StepFailedError,
)
from alkd_tui.paths import EXAMPLE_DATASET, example_db_path
from alkd_tui.pipeline.config import RunConfig, config_message
from alkd_tui.pipeline.endpoint import Endpoint, teacher_endpoint
from alkd_tui.pipeline.results import (
    DatasetSummary,
    LabelResult,
    ModelSummary,
    Result,
    RunSummary,
    SelectionSummary,
)
from alkd_tui.pipeline.run_records import environment, parent_run, shown_status
from alkd_tui.progress import ProgressEvent, Reporter, silent
from alkd_tui.store import Run, Store, utcnow
from alkd_tui.store.owners import this_process
from alkd_tui.teacher.settings import GenerationSettings, LabelSettings, TeacherChoice

STEPS = (
    "dataset",
    "teacher_recommender",
    "student",
    "select",
    "hints",
    "label",
    "review",
    "distill",
    "evaluate",
)


def config_digest(cfg: RunConfig) -> str:
    return hashlib.sha256(json.dumps(cfg.dump(), sort_keys=True).encode()).hexdigest()[:12]


def ensure_dataset(store: Store, cfg: RunConfig, report: Reporter) -> DatasetSummary:
    """Reuse the dataset; import it when missing (from `path`, or the bundled example)."""
    from alkd_tui.pipeline.datasets import import_dataset, show_dataset

    step = cfg.dataset
    try:
        return show_dataset(store, step.name).model_copy(update={"reused": True})
    except NotFoundError:
        pass
    if step.format and step.path:
        return import_dataset(
            store,
            step.format,
            step.path,
            step.name,
            preprocess=step.preprocess,
            reader=step.reader,
            report=report,
        )
    if step.name == EXAMPLE_DATASET:
        return copy_example_dataset(store, report)
    raise BadInputError(
        f"dataset {step.name!r} is not in {store.where}: import it, or give dataset.format and dataset.path"
    )


def copy_example_dataset(store: Store, report: Reporter = silent) -> DatasetSummary:
    """Copy the bundled example dataset into `store` (the bundled file is never changed)."""
    from alkd_tui.data import load_dataset
    from alkd_tui.data.importer import write_dataset
    from alkd_tui.pipeline.datasets import get_dataset, show_dataset
    from alkd_tui.store import open_store

    source = example_db_path()
    if source is None:
        raise BadInputError(
            f"the example database is not installed; import a dataset called {EXAMPLE_DATASET!r}"
        )
    with tempfile.TemporaryDirectory() as tmp:
        copy = shutil.copy(source, f"{tmp}/example.db")
        with open_store(copy) as example:
            row = get_dataset(example, EXAMPLE_DATASET)
            ds = load_dataset(example, EXAMPLE_DATASET)
    write_dataset(store, ds, name=row.name, format=row.format, source=f"{source} (bundled example)",
                  description=row.description, options=row.options, report=report)  # fmt: skip
    return show_dataset(store, EXAMPLE_DATASET)


class Pipeline:
    """One `alkd run`: executes the steps in order and keeps the run record up to date."""

    def __init__(self, store: Store, cfg: RunConfig, run_id: int, report: Reporter) -> None:
        self.store, self.cfg, self.run_id, self.report = store, cfg, run_id, report
        self.steps: dict[str, Any] = {}
        self.made: dict[str, Any] = {}
        self.resumed: dict[str, Any] = {}
        """The steps as a resumed run had recorded them (a step's record is replaced as it starts)."""
        self._teacher: Endpoint | None = None
        self._teacher_stack = ExitStack()

    def endpoint(self) -> Endpoint:
        """The teacher endpoint, opened at its first use (the local compatibility server starts
        once for the hints and the labels) and kept until `close_endpoint`."""
        if self._teacher is None:
            choice = TeacherChoice.model_validate(
                self.cfg.label.model_dump(include=set(TeacherChoice.model_fields))
            )
            self._teacher = self._teacher_stack.enter_context(
                teacher_endpoint(choice, seed=self.cfg.seed, report=self.report)
            )
        return self._teacher

    def close_endpoint(self) -> None:
        """Stop what `endpoint` started (the local compatibility server), if anything."""
        self._teacher = None
        self._teacher_stack.close()

    def _save(self, **changes: Any) -> None:
        with self.store.session() as orm:
            run = orm.get(Run, self.run_id)
            assert run is not None
            run.steps = json.loads(json.dumps(self.steps, default=str))
            for key, value in changes.items():
                setattr(run, key, value)

    def step(self, name: str, action: Callable[[], Any]) -> Any:
        """Run one step and record it; `action` returns a typed result or a dict (kept in the
        run's record in JSON form, without long lists)."""
        self.report(ProgressEvent("start", f"step {name}", 0, 1, "step"))
        self.steps[name] = {"status": "running", "started": utcnow().isoformat(timespec="seconds")}
        self._save()
        started = time.perf_counter()
        try:
            result = action()
        except KeyboardInterrupt:
            self.steps[name].update(
                status="interrupted", seconds=round(time.perf_counter() - started, 3)
            )
            raise
        except BaseException as exc:
            message = str(exc) if isinstance(exc, AlkdError) else f"{type(exc).__name__}: {exc}"
            self.steps[name].update(
                status="failed", error=message, seconds=round(time.perf_counter() - started, 3)
            )
            raise
        self.steps[name].update(
            status="done", seconds=round(time.perf_counter() - started, 3),
            result=_brief(result.as_json() if isinstance(result, Result) else result),
        )
        self.made[name] = result
        self._save()
        self.report(ProgressEvent("end", f"step {name}", 1, 1, "step"))
        return result

    def run(self) -> str:
        """Run every step; returns the final status (done or awaiting-review)."""
        try:
            return self._run()
        finally:
            self.close_endpoint()

    def _run(self) -> str:
        from alkd_tui.pipeline.distill import distill_student
        from alkd_tui.pipeline.labels import label_selection
        from alkd_tui.pipeline.models import compare_models, train_recommender
        from alkd_tui.pipeline.review import accept_by_rule, selection_labels

        cfg, store = self.cfg, self.store
        self.step("dataset", lambda: ensure_dataset(store, cfg, self.report))
        teacher = self.step("teacher_recommender", lambda: train_recommender(
            store, cfg.dataset.name, "teacher", cfg.seeded("teacher_recommender"), report=self.report))  # fmt: skip
        student = self.step("student", lambda: train_recommender(
            store, cfg.dataset.name, "student", cfg.seeded("student"), report=self.report))  # fmt: skip
        selection = self.step("select", lambda: self._select(teacher.name, student.name))
        hints = self.step("hints", lambda: self._hints(teacher.name)) if cfg.label.hints else None

        def do_label() -> LabelResult:
            settings = LabelSettings.model_validate(
                cfg.seeded("label").model_dump(include=set(LabelSettings.model_fields))
            )
            endpoint = self.endpoint()
            result = label_selection(
                store, selection.name, endpoint.choice, settings, candidates_from=teacher.name,
                hints_request=hints["request"] if hints else None, report=self.report,
            )  # fmt: skip
            if endpoint.choice.teacher == "ollama":
                result.teacher["description"] = (
                    f"{endpoint.choice.model} via the {endpoint.description}"
                )
            return result

        labelled = self.step("label", do_label)
        self.close_endpoint()  # the local compatibility server is not needed after labelling
        model_name = labelled.teacher["model"]

        def do_review() -> dict[str, Any]:
            if cfg.review.policy == "auto":
                return {"policy": "auto", "rule": cfg.review.rule, "min_confidence": cfg.review.min_confidence,
                        **accept_by_rule(store, selection.selection, cfg.review.rule,
                                         min_confidence=cfg.review.min_confidence, model_name=model_name)}  # fmt: skip
            labels = selection_labels(store, selection.selection, model_name)
            pending = sum(label.status == "pending" for label in labels)
            accepted = sum(label.status == "accepted" for label in labels)
            return {"policy": "manual", "pending": pending, "accepted": accepted}

        review = self.step("review", do_review)
        if review["policy"] == "manual" and review["pending"] > 0:
            return "awaiting-review"
        distilled = self.step("distill", lambda: distill_student(
            store, student.name, selection.name, cfg.seeded("distill"),
            teacher=model_name, report=self.report))  # fmt: skip
        self.step("evaluate", lambda: {"results": {
            "teacher_recommender": _test_metrics(teacher), "student": _test_metrics(student),
            "distilled": _test_metrics(distilled)},
            "distillation": compare_models(store, student.name, distilled.name)})  # fmt: skip
        return "done"

    def _hints_key(self, teacher: str) -> str:
        """What identifies this run's hints: dataset, teacher recommender, LLM (teacher, model,
        hosts as configured), seed and the `[hints]` settings that change the question."""
        cfg = self.cfg
        what = {
            "dataset": cfg.dataset.name, "teacher_recommender": teacher, "teacher": cfg.label.teacher,
            "model": cfg.label.model, "hosts": cfg.label.hosts, "temperature": cfg.label.temperature,
            "seed": cfg.seed, **cfg.hints.model_dump(),
        }  # fmt: skip
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:12]

    def _stored_hints(self, key: str) -> dict[str, Any] | None:
        """The result of an earlier `hints` step with the same key (this run's, when resumed,
        or another pipeline run's) whose hints are still stored; None when there is none."""
        from alkd_tui.store.pipeline_runs import done_hint_steps, hint_texts

        found = [self.resumed.get("hints") or {}]
        with self.store.read() as conn:
            found += [{"status": "done", "result": result} for result in done_hint_steps(conn, key)]
            for step in found:
                result = step.get("result") or {}
                if step.get("status") != "done" or result.get("key") != key:
                    continue
                texts = hint_texts(conn, result.get("request"), self.cfg.dataset.name)
                if texts:
                    return {**result, "hints": [{"id": i, "text": t} for i, t in texts]}
        return None

    def _hints(self, teacher: str) -> dict[str, Any]:
        """The `hints` step: the LLM teacher's hints for this run's label prompts, asked once
        (an earlier identical step's hints are reused without contacting the teacher)."""
        from alkd_tui.pipeline.hints import make_hints

        cfg = self.cfg
        key = self._hints_key(teacher)
        previous = self._stored_hints(key)
        if previous is not None:
            self.report(
                ProgressEvent(
                    "log", "hints", message=f"reusing hints request {previous['request']}"
                )
            )
            return {**previous, "reused": True}
        endpoint = self.endpoint()
        generation = GenerationSettings.model_validate(
            cfg.seeded("label").model_dump(include=set(GenerationSettings.model_fields))
        )
        made = make_hints(
            self.store, cfg.dataset.name, teacher, endpoint.choice, settings=cfg.hints,
            generation=generation, report=self.report,
        )  # fmt: skip
        if not made["hints"]:
            raise StepFailedError(
                f"the hints answer (request {made['request']}, parse {made['parse_status']}) held no "
                f"hints that could be read; it is kept for the audit. Set label.hints = false, or "
                f"change hints.max_hints or label.model"
            )
        keep = ("dataset", "teacher_model", "teacher", "request", "cached", "sessions",
                "parse_status", "parse_notes", "hints", "tokens", "latency_s", "run")  # fmt: skip
        if endpoint.choice.teacher == "ollama":
            made["teacher"]["description"] = (
                f"{endpoint.choice.model} via the {endpoint.description}"
            )
        return {**{k: made[k] for k in keep}, "key": key}

    def _select(self, teacher: str, student: str) -> SelectionSummary:
        from alkd_tui.pipeline.selection import (
            create_selection,
            get_selection,
            import_selection,
            show_selection,
        )

        step = self.cfg.seeded("select")
        digest = hashlib.sha256(
            json.dumps(
                [step.model_dump(mode="json"), teacher, student, self.cfg.seed], sort_keys=True
            ).encode()
        ).hexdigest()[:10]
        name = f"{self.cfg.dataset.name}-{step.strategy if not step.from_file else 'file'}-{digest}"
        try:
            get_selection(self.store, name)
            shown = show_selection(self.store, name, limit=0)
            return shown.model_copy(update={"members": None, "reused": True})
        except NotFoundError:
            pass
        if step.from_file:
            return import_selection(
                self.store, self.cfg.dataset.name, step.from_file, name, limit=step.budget
            )
        return create_selection(
            self.store, self.cfg.dataset.name, step, teacher_model=teacher, student_model=student,
            name=name, report=self.report,
        )  # fmt: skip


def _test_metrics(model: ModelSummary) -> dict[str, Any]:
    metrics = model.metrics
    keys = ("recall@5", "recall@10", "ndcg@5", "ndcg@10", "mrr@10")
    return {
        "model": model.name,
        "test": {k: metrics.get("test", {}).get(k) for k in keys},
        "test_excluding_own": {k: metrics.get("test_excluding_own", {}).get(k) for k in keys},
    }


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    """What a step's record keeps of its result: names, ids and figures, not long lists."""
    keep = {}
    for key, value in result.items():
        if key in ("history", "members", "top_items", "curve"):
            continue
        keep[key] = value
    return keep


def check_config(store: Store, cfg: RunConfig) -> None:
    """Refuse, before a run is recorded, a configuration a step would refuse later: a dataset
    that is neither stored nor importable, bad ratios, files that are not there (names the
    settings models know, such as architectures and strategies, they check as they load). A
    refused configuration stores nothing."""
    from alkd_tui.data.formats import get_format
    from alkd_tui.pipeline.datasets import get_dataset
    from alkd_tui.pipeline.selection import get_selection, parse_ratios

    def file(key: str, value: str | None) -> None:
        if value is not None and not Path(value).expanduser().exists():
            raise InputFileError(value, f"no such file (from {key})")

    step = cfg.dataset
    try:
        get_dataset(store, step.name)
    except NotFoundError:
        if step.format and step.path:
            get_format(step.format)
            file("dataset.path", step.path)
        elif step.name != EXAMPLE_DATASET:
            raise BadInputError(
                f"dataset {step.name!r} is not in {store.where}: import it, or give dataset.format "
                "and dataset.path"
            ) from None
    select = cfg.select
    if select.from_file:
        file("select.from_file", select.from_file)
    else:
        if select.ratios.startswith("from:"):
            get_selection(store, select.ratios.removeprefix("from:"))
        else:
            parse_ratios(select.ratios)
    if select.pool is not None:
        kind, sep, where = select.pool.partition(":")
        if kind not in ("replay", "ids") or not sep or not where:
            raise BadInputError(f"select.pool {select.pool!r}: use replay:FILE or ids:FILE")
        file("select.pool", where)
    if cfg.label.teacher == "replay":
        if not cfg.label.file:
            raise BadInputError("label.teacher = 'replay' needs label.file (recorded answers)")
        file("label.file", cfg.label.file)


def start_pipeline_run(store: Store, cfg: RunConfig) -> int:
    with store.session() as orm:
        run = Run(
            kind="pipeline",
            name=cfg.name,
            config=cfg.dump(),
            env=environment(),
            seed=cfg.seed,
            owner=this_process(),
        )
        orm.add(run)
        orm.flush()
        assert run.id is not None
        return run.id


def run_pipeline(
    store: Store,
    cfg: RunConfig | None = None,
    *,
    resume: str | None = None,
    report: Reporter = silent,
) -> RunSummary:
    """Run the pipeline (or continue run `resume` with its stored config); returns the summary."""
    if resume is not None:
        with store.reading() as orm:
            row = orm.get(Run, int(resume)) if resume.isdigit() else None
        if row is None or row.kind != "pipeline":
            raise NotFoundError(
                f"no pipeline run {resume!r} in {store.where} (see `alkd runs list`)"
            )
        try:
            cfg = RunConfig.model_validate(row.config)
        except ValidationError as exc:
            raise BadInputError(
                config_message(exc, f"run {resume}'s stored configuration")
            ) from None
        run_id = int(row.id)  # type: ignore[arg-type]
    else:
        assert cfg is not None
        check_config(store, cfg)
        run_id = start_pipeline_run(store, cfg)
    pipeline = Pipeline(store, cfg, run_id, report)
    if resume is not None:
        with store.reading() as orm:
            stored = orm.get(Run, run_id)
            assert stored is not None
            pipeline.steps = dict(stored.steps or {})
            pipeline.resumed = dict(pipeline.steps)
    pipeline._save(
        status="running", error=None, finished_at=None, env=environment(), owner=this_process()
    )
    token = parent_run.set(run_id)
    try:
        status = pipeline.run()
    except KeyboardInterrupt:
        pipeline._save(status="interrupted", finished_at=utcnow(), env=environment())
        raise
    except BaseException as exc:
        message = str(exc) if isinstance(exc, AlkdError) else f"{type(exc).__name__}: {exc}"
        pipeline._save(status="failed", error=message, finished_at=utcnow(), env=environment())
        raise
    finally:
        parent_run.reset(token)
    # The environment again as the run ends: torch's facts (threads, device) once it is loaded.
    pipeline._save(status=status, finished_at=utcnow(), env=environment())
    return run_summary(store, run_id)


def run_summary(store: Store, run_id: int) -> RunSummary:
    """A pipeline run as stored: config, status, steps, and the results table."""
    with store.reading() as orm:
        run = orm.get(Run, run_id)
    if run is None:
        raise NotFoundError(f"no run {run_id} in {store.where}")
    steps = run.steps or {}
    results = steps.get("evaluate", {}).get("result", {}).get("results")
    label = steps.get("label", {}).get("result", {})
    return RunSummary(
        run=run.id,
        name=run.name,
        kind=run.kind,
        status=shown_status(run.status, run.owner),
        error=run.error,
        seed=run.seed,
        started_at=run.started_at.isoformat(timespec="seconds"),
        finished_at=run.finished_at.isoformat(timespec="seconds") if run.finished_at else None,
        config=run.config,
        env=run.env,
        steps={
            name: {k: v for k, v in step.items() if k != "result"} for name, step in steps.items()
        },
        teacher=label.get("teacher"),
        selection=steps.get("select", {}).get("result", {}).get("name"),
        labels={
            k: label.get(k)
            for k in ("requests", "answered", "failed", "parse", "tokens", "latency_s")
        }
        if label
        else None,
        hints=steps.get("hints", {}).get("result", {}).get("hints"),
        review=steps.get("review", {}).get("result"),
        results=results,
        distillation=steps.get("evaluate", {}).get("result", {}).get("distillation"),
    )
