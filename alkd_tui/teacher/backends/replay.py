"""The replay backend: recorded answers from a JSONL file (`session_id`, `ranking` of item ids,
optional `model`, `scores`), such as the paper's GPT-4 answers, or alkd's own label exports.
It answers only the sessions it has."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from alkd_tui.errors import InputFileError, TeacherUnavailableError
from alkd_tui.teacher.backends.base import Answer, PermanentTeacherError, TeacherInfo
from alkd_tui.teacher.prompts import Prompt


def read_recorded(path: Path) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Recorded answers by session external id, and the model names the file names."""
    if not path.is_file():
        raise TeacherUnavailableError(f"no recorded answers at {path}")
    records: dict[str, dict[str, Any]] = {}
    models: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise InputFileError(path, "not a JSON object", number) from None
            if (
                not isinstance(record, dict)
                or "session_id" not in record
                or "ranking" not in record
            ):
                raise InputFileError(path, "expected an object with session_id and ranking", number)
            if not isinstance(record["ranking"], list):
                raise InputFileError(path, "ranking is not a list", number)
            key = str(record["session_id"])
            if key in records:
                raise InputFileError(path, f"session {key} is answered twice", number)
            records[key] = record
            if record.get("model"):
                models.add(str(record["model"]))
    if not records:
        raise InputFileError(path, "no recorded answers")
    return records, models


class ReplayTeacher:
    """Answers sessions from a file of recorded answers."""

    backend = "replay"

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
