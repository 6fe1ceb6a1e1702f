"""Export labels, review decisions and runs to JSONL, CSV or Parquet; import runs back
(JSONL, CSV or Parquet; idempotently: runs already present are skipped).

A label export, in any of the three formats, is itself a file of recorded answers: `alkd label
--teacher replay --file` reads it (session_id, model, ranking of item ids, scores). CSV joins
lists with single spaces (a missing score is an empty value), so item ids with spaces do not
survive a CSV round trip; JSONL and Parquet keep lists as lists."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator
from sqlmodel import select

from alkd_tui.errors import BadInputError, InputFileError, shown
from alkd_tui.pipeline.history import show_run
from alkd_tui.pipeline.labels import answer_filter
from alkd_tui.pipeline.review import review_states
from alkd_tui.store import Run, RunMetric, Store
from alkd_tui.store.answers import export_rows
from alkd_tui.store.datasets import item_external_ids
from alkd_tui.store.reviews import all_review_events

FORMATS = ("jsonl", "csv", "parquet")


def format_of(path: Path, given: str | None) -> str:
    """The export format: given, or from the file's extension."""
    fmt = given or {
        ".jsonl": "jsonl",
        ".ndjson": "jsonl",
        ".csv": "csv",
        ".parquet": "parquet",
    }.get(path.suffix.lower())
    if fmt not in FORMATS:
        raise BadInputError(
            f"--format: use {', '.join(FORMATS)} (or a .jsonl, .csv, .parquet file name)"
        )
    return fmt


def write_rows(rows: list[dict[str, Any]], path: Path, fmt: str) -> None:
    """Write `rows` as JSONL, CSV (lists joined by spaces, objects as JSON) or Parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    elif fmt == "csv":
        fields = list(dict.fromkeys(k for row in rows for k in row))
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(v) for k, v in row.items()})
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        flat = [
            {k: (json.dumps(v, default=str) if isinstance(v, dict) else v) for k, v in row.items()}
            for row in rows
        ]
        pq.write_table(pa.Table.from_pylist(flat), path)


def _cell(value: Any) -> Any:
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return json.dumps(value, default=str)  # a run's metrics: a list of objects
    if isinstance(value, list):
        return " ".join("" if v is None else str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return value


def label_rows(
    store: Store,
    *,
    selection: str | None = None,
    teacher: str | None = None,
    dataset: str | None = None,
) -> list[dict[str, Any]]:
    """Answered labels with their session and item ids, review status and cost. By selection:
    the selection's labels, one per session and teacher model (`label_use.SELECTION_USES`)."""
    which = answer_filter(store, selection=selection, teacher=teacher, dataset=dataset)
    with store.read() as conn:
        rows = export_rows(conn, which)
        item_ids = {
            ds_id: item_external_ids(conn, ds_id) for ds_id in {r["dataset_id"] for r in rows}
        }
        states = review_states(conn, (r["id"] for r in rows))
    out = []
    for r in rows:
        ids = item_ids[r["dataset_id"]]
        state = states[r["id"]]
        out.append({
            "request": r["id"], "session_id": r["session_id"], "dataset": r["dataset"], "model": r["model_name"],
            "backend": r["backend"], "digest": r["model_digest"], "template": r["template_version"],
            "ranking": [ids[i] for i in json.loads(r["ranking"] or "[]")],
            "scores": json.loads(r["scores"]) if r["scores"] else None, "parse_status": r["parse_status"],
            "review": state.status, "latency_s": r["latency_s"],
            "edited_ranking": None if state.edited_ranking is None else [ids[i] for i in state.edited_ranking],
            "prompt_tokens": r["prompt_tokens"], "output_tokens": r["output_tokens"], "answered_at": r["answered_at"],
        })  # fmt: skip
    return out


def review_rows(store: Store) -> list[dict[str, Any]]:
    """Every review decision, oldest first."""
    rows = all_review_events(store)
    return [
        {"event": r["id"], "request": r["request_id"], "action": r["action"],
         "before": json.loads(r["before"]) if r["before"] else None,
         "ranking": (json.loads(r["after"]) or {}).get("ranking") if r["after"] else None,
         "note": r["note"], "reviewer": r["reviewer"], "created_at": r["created_at"]}
        for r in rows
    ]  # fmt: skip


def run_rows(store: Store) -> list[dict[str, Any]]:
    """Every run as stored: config, environment, steps (with their results) and figures."""
    with store.reading() as orm:
        runs = list(orm.exec(select(Run).order_by(Run.id)))
    return [
        {
            "run": r.id, "kind": r.kind, "name": r.name, "status": r.status, "seed": r.seed, "error": r.error,
            "parent": r.parent_id, "started_at": r.started_at.isoformat(), "config": r.config, "env": r.env,
            "steps": r.steps, "metrics": show_run(store, str(r.id)).get("metrics", []),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
        }
        for r in runs
    ]  # fmt: skip


def _moment(value: Any) -> datetime | None:
    """A stored or exported time as aware UTC (the store keeps UTC; a time without a zone is UTC)."""
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_key(kind: str, name: str, started_at: Any, config: Any) -> tuple[str, str, str, str]:
    """What identifies a run across databases: its kind, name, start time (to the microsecond)
    and a hash of its config. An exported run imported again has the same key."""
    moment = _moment(started_at)
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()
    return (kind, name or "", moment.isoformat(timespec="microseconds") if moment else "", digest)


RUN_OBJECT_FIELDS = ("config", "env", "steps", "metrics")  # JSON text in a CSV or Parquet export
RUN_INT_FIELDS = ("run", "parent", "seed")


def _run_table_rows(path: Path) -> list[tuple[int, Any]]:
    """(row number, record) of a CSV or Parquet runs export, its JSON cells decoded."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            try:
                raw = [(reader.line_num, dict(row)) for row in reader]
            except csv.Error as exc:
                raise InputFileError(
                    path, f"cannot be read as CSV: {exc}", reader.line_num
                ) from None
    else:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise InputFileError(
                path, "reading Parquet needs pyarrow (pip install pyarrow)"
            ) from None
        try:
            raw = list(enumerate(pq.read_table(path).to_pylist(), start=1))
        except Exception as exc:  # pyarrow's errors vary by what is wrong with the file
            raise InputFileError(path, f"not a Parquet file ({type(exc).__name__})") from None
    rows = []
    for number, row in raw:
        row = {k: (None if v == "" else v) for k, v in row.items() if k is not None}
        for field in RUN_OBJECT_FIELDS:
            if isinstance(row.get(field), str):
                try:
                    row[field] = json.loads(row[field])
                except ValueError:
                    raise InputFileError(path, f"{field} is not JSON", number) from None
        for field in RUN_INT_FIELDS:
            if row.get(field) is not None:
                try:
                    row[field] = int(row[field])
                except (TypeError, ValueError):
                    raise InputFileError(path, f"{field} is not a whole number", number) from None
        rows.append((number, row))
    return rows


def _jsonl_rows(path: Path) -> list[tuple[int, Any]]:
    from alkd_tui.data.readers import text_file

    text_file(path, "utf-8")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except ValueError:
            raise InputFileError(path, "not a JSON object", number) from None
    return rows


class MetricRecord(BaseModel):
    """One figure of an imported run."""

    model_config = ConfigDict(extra="ignore")

    step: str = ""
    split: str = ""
    name: str = Field(min_length=1)
    value: float

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return value


class RunRecord(BaseModel):
    """One run of an export file (`alkd export runs`), checked before anything is stored."""

    model_config = ConfigDict(extra="ignore")

    run: StrictInt | None = None
    kind: str = Field(min_length=1, max_length=100)
    name: str | None = ""
    status: str | None = "done"
    config: dict[str, Any]
    env: dict[str, Any] | None = None
    seed: StrictInt | None = None
    error: str | None = None
    steps: dict[str, Any] | None = None
    parent: StrictInt | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    metrics: list[MetricRecord] = Field(default_factory=list)

    @field_validator("started_at", "finished_at", mode="before")
    @classmethod
    def _empty_time(cls, value: Any) -> Any:
        return None if value == "" else value


def _read_run_records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InputFileError(path, "no such file")
    table = path.suffix.lower() in (".csv", ".parquet")
    if path.suffix.lower() == ".csv":
        from alkd_tui.data.readers import text_file

        text_file(path, "utf-8")
    records = []
    for number, raw in _run_table_rows(path) if table else _jsonl_rows(path):
        try:
            record = RunRecord.model_validate(raw)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err.get("loc", ()))
            missing = err.get("type") in ("missing", "model_type", "dict_type") and field in (
                "",
                "kind",
                "config",
            )
            what = "expected a run with kind and config" if missing else f"{field}: {err['msg']}"
            if field in ("started_at", "finished_at"):
                what = f"{field} {shown(err.get('input'))} is not an ISO time"
            raise InputFileError(path, what, number) from None
        seen = Counter((m.step, m.split, m.name) for m in record.metrics)
        twice = next((k for k, n in seen.items() if n > 1), None)
        if twice is not None:
            raise InputFileError(
                path, f"metric {'.'.join(p for p in twice if p)} is given twice", number
            )
        data = record.model_dump()
        data["_started"] = _moment(record.started_at)
        data["_finished"] = _moment(record.finished_at)
        data["metrics"] = [m.model_dump() for m in record.metrics]
        records.append(data)
    return records


def import_runs(store: Store, path: Path) -> dict[str, int]:
    """Add the runs of an export, JSONL, CSV or Parquet (as new records, marked as imported,
    with their own start and end times); all or nothing. Runs already present (same `run_key`: this database's
    own runs, or runs imported before) are skipped, so importing a file twice changes nothing.
    A run's parent is linked where the parent is in the file (or already present)."""
    records = _read_run_records(path)
    kinds = sorted({str(r["kind"]) for r in records})
    present: dict[tuple[str, str, str, str], int] = {}
    with store.reading() as orm:
        for row in orm.exec(select(Run).where(Run.kind.in_(kinds))):  # type: ignore[attr-defined]
            present.setdefault(run_key(row.kind, row.name, row.started_at, row.config), row.id)  # type: ignore[arg-type]
    imported = 0
    by_original: dict[Any, int] = {}
    with store.session() as orm:
        for record in records:
            key = run_key(
                record["kind"], record.get("name") or "", record["_started"], record["config"]
            )
            if record["_started"] is not None and key in present:
                by_original[record.get("run")] = present[key]
                continue
            run = Run(
                kind=record["kind"], name=record.get("name") or "", status=record.get("status") or "done",
                config=record["config"], env={**(record.get("env") or {}), "imported_from": str(path),
                                              "original_run": record.get("run")},
                seed=record.get("seed"), error=record.get("error"), steps=record.get("steps") or {},
                parent_id=by_original.get(record.get("parent")) if record.get("parent") is not None else None,
                finished_at=record["_finished"],
            )  # fmt: skip
            if record["_started"] is not None:
                run.started_at = record["_started"]
            orm.add(run)
            orm.flush()
            assert run.id is not None
            imported += 1
            by_original[record.get("run")] = run.id
            if record["_started"] is not None:
                present[key] = run.id
            for m in record.get("metrics") or []:
                orm.add(
                    RunMetric(
                        run_id=run.id,
                        step=m.get("step", ""),
                        split=m.get("split", ""),
                        name=m["name"],
                        value=float(m["value"]),
                    )
                )
    return {"imported": imported, "skipped": len(records) - imported}
