"""`alkd runs export --to mlflow URI`: the store's runs as MLflow runs (MLflow's client, the
optional `mlflow` extra), so that a researcher's run tracker holds them beside other work.

One MLflow run per alkd run, in an experiment (default `alkd`):

- **params**: the run's config, flattened (`train.dim`, `distill.lr`; lists as JSON), and its
  seed;
- **metrics**: the stored figures, `STEP.SPLIT.METRIC` (`distill.test.recall_at_10`: MLflow
  names cannot hold "@"), and every epoch of the models the run trained or distilled (loss,
  validation figures, seconds) with `step` = the epoch, prefixed with the model's name where
  the run made several;
- **tags**: `alkd.run`, `alkd.kind`, `alkd.name`, `alkd.status`, `alkd.database`, the
  environment (`alkd.env.*`: versions, platform), `alkd.key` (what identifies the run across
  databases), and `mlflow.parentRunId` for the steps of a whole `alkd run`.

Start and end times are the run's own. A run exported before (the same `alkd.key` in the
experiment) is skipped, so exporting again adds only new runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from alkd_tui.errors import BadInputError
from alkd_tui.pipeline.export import run_key
from alkd_tui.pipeline.history import flatten
from alkd_tui.progress import Reporter, Task, silent
from alkd_tui.store import RecModel, Run, RunMetric, Store
from alkd_tui.terminal_text import cut

#: MLflow's limit on a param value (longer values are cut, ending in "…").
PARAM_LIMIT = 6000
STATUS = {"done": "FINISHED", "failed": "FAILED", "interrupted": "KILLED", "running": "RUNNING"}


def metric_name(*parts: str) -> str:
    """An MLflow metric name from alkd's: "@" (not allowed there) becomes "_at_", any other
    character MLflow refuses becomes "_"."""
    name = ".".join(p for p in parts if p).replace("@", "_at_")
    return re.sub(r"[^A-Za-z0-9_\-. :/]", "_", name)


def _ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the store keeps UTC
    return int(moment.timestamp() * 1000)


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return cut(text, PARAM_LIMIT)


def _client(uri: str) -> Any:
    # MLflow's client sends usage telemetry from a background thread unless told not to; an
    # export from alkd sends nothing anywhere but to `uri` (set it to "false" to allow it).
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise BadInputError(
            "MLflow is not installed: pip install 'alkd-tui[mlflow]' (or mlflow-skinny)"
        ) from None
    return MlflowClient(tracking_uri=uri)


def export_to_mlflow(
    store: Store,
    uri: str,
    *,
    experiment: str = "alkd",
    runs: list[int] | None = None,
    report: Reporter = silent,
) -> dict[str, Any]:
    """Export the store's runs (or the ids in `runs`) to the MLflow tracking store at `uri`
    (`sqlite:///mlflow.db`, `http://host:5000`, ...); returns the counts and the experiment."""
    client = _client(uri)
    from mlflow.entities import Metric, Param
    from mlflow.exceptions import MlflowException

    try:
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(experiment)
        exported = _exported(client, experiment_id)
    except MlflowException as exc:
        raise BadInputError(f"MLflow at {uri}: {exc.message.splitlines()[0]}") from None
    with store.reading() as orm:
        query = select(Run).order_by(Run.id)  # type: ignore[arg-type]
        rows = [r for r in orm.exec(query) if runs is None or r.id in runs]
        metrics = list(orm.exec(select(RunMetric).order_by(RunMetric.id)))  # type: ignore[arg-type]
        models = list(orm.exec(select(RecModel).where(RecModel.run_id.is_not(None))))  # type: ignore[union-attr]
    if runs is not None:
        missing = sorted(set(runs) - {r.id for r in rows})
        if missing:
            raise BadInputError(f"--run {missing[0]}: no such run in {store.where}")
    figures: dict[int, list[RunMetric]] = {}
    for m in metrics:
        figures.setdefault(m.run_id, []).append(m)  # type: ignore[arg-type]
    made: dict[int, list[RecModel]] = {}
    for model in models:
        made.setdefault(model.run_id, []).append(model)  # type: ignore[arg-type]
    mlflow_id: dict[int, str] = {}
    added = skipped = 0
    task = Task(report, "mlflow", len(rows), "runs")
    for run in rows:
        assert run.id is not None
        key = hashlib.sha256(
            json.dumps(run_key(run.kind, run.name, run.started_at, run.config)).encode()
        ).hexdigest()[:32]
        if key in exported:
            mlflow_id[run.id] = exported[key]
            skipped += 1
            task.advance()
            continue
        tags = {
            "alkd.key": key, "alkd.run": str(run.id), "alkd.kind": run.kind, "alkd.name": run.name,
            "alkd.status": run.status, "alkd.database": store.where,
            **{f"alkd.env.{k}": _param(v) for k, v in flatten(run.env or {}).items()},
        }  # fmt: skip
        if run.error:
            tags["alkd.error"] = _param(run.error)
        if run.parent_id in mlflow_id:
            tags["mlflow.parentRunId"] = mlflow_id[run.parent_id]
        started = _ms(run.started_at) or 0
        created = client.create_run(
            experiment_id, start_time=started, tags=tags, run_name=f"{run.kind} {run.name}"
        )
        run_id = created.info.run_id
        params = {k: _param(v) for k, v in flatten(run.config or {}).items()}
        if run.seed is not None:
            params["seed"] = str(run.seed)
        values = [
            Metric(metric_name(m.step, m.split, m.name), float(m.value), started, 0)
            for m in figures.get(run.id, [])
        ]
        own = made.get(run.id, [])
        for model in own:
            prefix = model.name if len(own) > 1 else ""
            elapsed = 0.0  # the epochs' training seconds so far: each epoch's time stamp
            for row in model.history or []:
                epoch = int(row.get("epoch", 0))
                elapsed += float(row.get("train_seconds") or 0)
                at = started + int(1000 * elapsed)
                if row.get("loss") is not None:
                    values.append(
                        Metric(metric_name(prefix, "loss"), float(row["loss"]), at, epoch)
                    )
                for name, value in (row.get("valid") or {}).items():
                    if isinstance(value, int | float) and name != "sessions":
                        values.append(
                            Metric(metric_name(prefix, "valid", name), float(value), at, epoch)
                        )
                if row.get("train_seconds") is not None:
                    values.append(
                        Metric(
                            metric_name(prefix, "seconds"), float(row["train_seconds"]), at, epoch
                        )
                    )
        param_list = [Param(k, v) for k, v in params.items()]
        for start in range(0, len(param_list), 100):  # MLflow's limits per batch
            client.log_batch(run_id, params=param_list[start : start + 100])
        for start in range(0, len(values), 1000):
            client.log_batch(run_id, metrics=values[start : start + 1000])
        client.set_terminated(
            run_id, STATUS.get(run.status, "FINISHED"), end_time=_ms(run.finished_at) or started
        )
        mlflow_id[run.id] = run_id
        added += 1
        task.advance()
    task.end()
    return {"exported": added, "skipped": skipped, "experiment": experiment,
            "experiment_id": experiment_id, "uri": uri}  # fmt: skip


def _exported(client: Any, experiment_id: str) -> dict[str, str]:
    """The alkd runs already in the experiment: their `alkd.key` -> MLflow run id."""
    found: dict[str, str] = {}
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string="tags.`alkd.key` != ''", max_results=1000,
            page_token=token,
        )  # fmt: skip
        for r in page:
            found[r.data.tags["alkd.key"]] = r.info.run_id
        token = page.token
        if not token:
            return found
