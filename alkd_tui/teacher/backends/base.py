"""What every teacher backend provides, and the two kinds of failure a request can meet."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from alkd_tui.teacher.prompts import Prompt


class TransientTeacherError(Exception):
    """Worth retrying: connection refused or reset, timeout, 5xx, an error mid-stream.
    `retry_after`: the seconds the server asked to wait (HTTP Retry-After), if it did."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentTeacherError(Exception):
    """Not worth retrying: the server refused the request itself (4xx)."""


@dataclass
class TeacherInfo:
    """Who answers: the backend, the model and its digest, the server and its version."""

    backend: str
    model: str
    digest: str | None = None
    server_version: str | None = None
    hosts: list[str] = field(default_factory=list)
    is_llm: bool = True
    description: str = ""
    model_info: dict[str, Any] = field(default_factory=dict)
    """What the server says of the model (Ollama's /api/show: context length, capabilities,
    family, quantization), stored with the job."""


@dataclass
class Answer:
    """A teacher's answer: its text as received, and what it cost."""

    content: str
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    latency_s: float = 0.0
    host: str | None = None
    logprobs: list[dict[str, Any]] | None = None
    cut: bool = False
    """The answer grew past the size cap and was not read to its end."""
    thinking: str | None = None
    """A thinking model's reasoning before its answer: kept with the answer, never parsed."""


class Teacher(Protocol):
    """A source of rankings for sessions: an LLM server, recorded answers, or a recommender."""

    backend: str

    def describe(self) -> TeacherInfo:
        """Check the teacher can answer (raise `TeacherUnavailableError` if not) and say who it is."""
        ...

    def ask(self, prompt: Prompt, options: dict[str, Any], attempt: int = 0) -> Answer:
        """Ask one question (raise `TransientTeacherError` or `PermanentTeacherError`)."""
        ...
