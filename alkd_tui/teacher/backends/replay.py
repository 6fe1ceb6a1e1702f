"""The replay backend: recorded answers (`session_id`, `ranking` of item ids, optional
`model`, `scores`), such as the paper's GPT-4 answers (JSONL), or alkd's own label exports in
any of their formats: JSONL, CSV (lists joined by single spaces) or Parquet. It answers only
the sessions it has."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alkd_tui.errors import BadInputError, InputFileError, TeacherUnavailableError
from alkd_tui.teacher.backends.base import Answer, PermanentTeacherError, TeacherInfo
from alkd_tui.teacher.prompts import Prompt

if TYPE_CHECKING:
    from alkd_tui.teacher.settings import LabelSettings, TeacherChoice

FORMATS = "JSONL (.jsonl), CSV (.csv) or Parquet (.parquet)"


def _jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except ValueError:
                raise InputFileError(
                    path, f"not a JSON object (recorded answers are {FORMATS})", number
                ) from None


def _csv_list(cell: Any, path: Path, number: int, field: str) -> list[Any] | None:
    """A list cell of a CSV export: values joined by single spaces (an empty value is a missing
    one), or a JSON list."""
    if cell is None or cell == "":
        return None if field == "scores" else []
    text = str(cell)
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError:
            raise InputFileError(path, f"{field} is not a list", number) from None
        if not isinstance(value, list):
            raise InputFileError(path, f"{field} is not a list", number)
        return value
    parts = text.split(" ")
    if field != "scores":
        return parts
    try:
        return [float(p) if p else None for p in parts]
    except ValueError:
        raise InputFileError(path, "scores are not numbers", number) from None


def _csv(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"session_id", "ranking"} <= set(reader.fieldnames):
            raise InputFileError(path, "expected a header with session_id and ranking columns", 1)
        for row in reader:
            number = reader.line_num
            record: dict[str, Any] = {k: v for k, v in row.items() if k is not None}
            record["ranking"] = _csv_list(record.get("ranking"), path, number, "ranking")
            if "scores" in record:
                record["scores"] = _csv_list(record["scores"], path, number, "scores")
            yield number, record


def _parquet(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise InputFileError(path, "reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow's errors vary by what is wrong with the file
        raise InputFileError(path, f"not a Parquet file ({type(exc).__name__})") from None
    for number, row in enumerate(rows, start=1):
        if isinstance(row.get("ranking"), str):
            row["ranking"] = _csv_list(row["ranking"], path, number, "ranking")
        yield number, row


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line or row number, record) of a file of recorded answers, by its extension."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _csv(path)
    if suffix == ".parquet":
        return _parquet(path)
    return _jsonl(path)


def read_recorded(path: Path) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Recorded answers by session external id, and the model names the file names."""
    if not path.is_file():
        raise TeacherUnavailableError(f"no recorded answers at {path}")
    records: dict[str, dict[str, Any]] = {}
    models: set[str] = set()
    for number, record in _records(path):
        if not isinstance(record, dict) or "session_id" not in record or "ranking" not in record:
            raise InputFileError(path, "expected an object with session_id and ranking", number)
        if not isinstance(record["ranking"], list):
            raise InputFileError(path, "ranking is not a list", number)
        key = str(record["session_id"])
        if key in records:
            raise InputFileError(
                path,
                f"session {key} is answered twice: keep one answer per session (for an alkd "
                "export: `alkd export labels --selection S --teacher MODEL`)",
                number,
            )
        records[key] = record
        if record.get("model"):
            models.add(str(record["model"]))
    if not records:
        raise InputFileError(path, "no recorded answers")
    return records, models


class ReplayTeacher:
    """Answers sessions from a file of recorded answers."""

    backend = "replay"

    @classmethod
    def create(
        cls, choice: TeacherChoice, settings: LabelSettings, recommender: str | None = None
    ) -> ReplayTeacher:
        """The recorded answers a job's choice names."""
        if choice.file is None:
            raise BadInputError(
                "--file is required with --teacher replay (recorded answers: JSONL, CSV or Parquet)"
            )
        return cls(choice.file)

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.records, models = read_recorded(self.path)
        self.model = sorted(models)[0] if len(models) == 1 else (f"replay:{self.path.name}")
        with self.path.open("rb") as fh:
            self.digest = "sha256:" + hashlib.sha256(fh.read()).hexdigest()

    def describe(self) -> TeacherInfo:
        return TeacherInfo(
            backend=self.backend,
            model=self.model,
            digest=self.digest,
            description=f"recorded answers of {self.model} from {self.path}",
        )

    def has(self, session_key: str) -> bool:
        return session_key in self.records

    def ask(self, prompt: Prompt, options: dict[str, Any], attempt: int = 0) -> Answer:
        """The recorded answer of the prompt's session, as JSON text."""
        record = self.records.get(prompt.session_key)
        if record is None:
            raise PermanentTeacherError(
                f"no recorded answer for session {prompt.session_key} in {self.path}"
            )
        content = {"ranking": record["ranking"]}
        if record.get("scores") is not None:
            content["scores"] = record["scores"]
        return Answer(content=json.dumps(content), latency_s=0.0)
