"""Every teacher backend by name: the one list the CLI's choices, the TUI's lists and run
validation read, and the one place that knows where an Ollama-style server is by default.

A backend is one module (a class with `create`, `describe` and `ask`) and one line here.
Nothing is imported until a backend is made: listing them loads no HTTP client."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any, Literal

from alkd_tui.errors import BadInputError

#: Where an Ollama server listens unless told otherwise (also `alkd teacher serve`'s port).
DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_PORT = 11434
HOST_ENV = "OLLAMA_HOST"
#: Where an OpenAI-compatible server is unless told otherwise, and the variable that says.
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
OPENAI_URL_ENV = "OPENAI_BASE_URL"
#: The one model the local compatibility server serves (SmolLM2-135M-Instruct).
LOCAL_MODEL = "smollm2:135m"
#: How the local compatibility server signs its version (tells it from Ollama).
LOCAL_VERSION_SUFFIX = "-alkd-local"


@dataclass(frozen=True)
class Backend:
    """One way of answering a labelling question."""

    name: str
    target: str
    """`module:Class` of the implementation."""
    is_llm: bool
    """An LLM answers (it can also write hints); otherwise recorded answers or a recommender."""
    needs: Literal["model", "file", "recommender"]
    """What a job must name: the LLM (model), the recorded answers (file), the recommender."""
    summary: str

    def load(self) -> type[Any]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("ollama", "alkd_tui.teacher.backends.ollama_backend:OllamaTeacher", True, "model",
                "an Ollama server (or the local compatibility server) at --host"),
        Backend("openai", "alkd_tui.teacher.backends.openai_backend:OpenAITeacher", True, "model",
                "an OpenAI-compatible server (vLLM, llama-server, LM Studio, the OpenAI API) at --host"),
        Backend("replay", "alkd_tui.teacher.backends.replay:ReplayTeacher", False, "file",
                "recorded answers (JSONL, CSV or Parquet), such as the paper's GPT-4 answers"),
        Backend("tr", "alkd_tui.teacher.backends.tr:RecommenderTeacher", False, "recommender",
                "the teacher recommender's own top items (no LLM; the paper's TR)"),
    )
}  # fmt: skip


def get_backend(name: str) -> Backend:
    """The backend called `name`, or one line listing the known ones."""
    found = BACKENDS.get(name)
    if found is None:
        raise BadInputError(f"--teacher {name!r}: use {', '.join(BACKENDS)}")
    return found


def llm_backends() -> list[str]:
    """The backends whose answers come from an LLM (they can write hints)."""
    return [b.name for b in BACKENDS.values() if b.is_llm]


def normalize_host(host: str) -> str:
    """`localhost:11434` -> `http://localhost:11434` (what OLLAMA_HOST may hold)."""
    host = host.strip().rstrip("/")
    if not host.startswith(("http://", "https://")):
        host = "http://" + host
    if host.count(":") == 1:  # no port
        host += f":{DEFAULT_PORT}"
    return host


def server_hosts(given: list[str] | None = None) -> list[str]:
    """The servers to ask: those given, else `$OLLAMA_HOST`, else 127.0.0.1:11434."""
    if given:
        return [normalize_host(h) for h in given]
    return [normalize_host(os.environ.get(HOST_ENV) or DEFAULT_HOST)]


def normalize_base_url(url: str) -> str:
    """An OpenAI-compatible base URL as given, with a scheme and no trailing slash
    (`127.0.0.1:8000/v1` -> `http://127.0.0.1:8000/v1`); no port is added."""
    url = url.strip().rstrip("/")
    return url if url.startswith(("http://", "https://")) else "http://" + url


def openai_base_urls(given: list[str] | None = None) -> list[str]:
    """The OpenAI-compatible servers to ask: those given, else `$OPENAI_BASE_URL`, else the
    OpenAI API."""
    if given:
        return [normalize_base_url(h) for h in given]
    return [normalize_base_url(os.environ.get(OPENAI_URL_ENV) or OPENAI_DEFAULT_URL)]
