"""The Ollama backend: the official `ollama` client against one or more servers.

Requests are spread over the hosts round-robin. A host that fails (refused, reset, timed
out, 5xx, 429) is marked down and skipped for a while (a circuit breaker: 5 s, doubling on
each further failure up to 5 minutes, or as long as its Retry-After asks), then tried again
with one request; a retry goes to another host. Answers are streamed, so an error line in
the middle of a stream is seen as such; the per-request timeout bounds both a silence and
the whole answer, and an answer longer than the size cap is cut. `keep_alive` (how long the
server keeps the model loaded) and `think` (off unless `--think`: a thinking model would
otherwise spend its output tokens thinking) are sent with every request; a thinking model's
thinking is kept with the answer and never parsed. /api/show is read once per job (context
length, capabilities, family, quantization). A server that answers the OpenAI API instead
is named as such, with the flag to use (`--teacher openai`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx
import ollama

from alkd_tui.errors import TeacherUnavailableError
from alkd_tui.teacher.backends.base import (
    Answer,
    PermanentTeacherError,
    TeacherInfo,
    TransientTeacherError,
)
from alkd_tui.teacher.backends.host_pool import HostPool, PooledTeacher, retry_after_seconds
from alkd_tui.teacher.prompts import Prompt
from alkd_tui.teacher.registry import (
    DEFAULT_HOST,
    LOCAL_MODEL,
    LOCAL_VERSION_SUFFIX,
    normalize_host,
    server_hosts,
)

if TYPE_CHECKING:
    from alkd_tui.teacher.settings import LabelSettings, TeacherChoice

__all__ = ["DEFAULT_HOST", "HostPool", "OllamaTeacher", "model_facts", "normalize_host"]


def describe_server(model: str, hosts: Sequence[str], versions: Sequence[str]) -> str:
    """Who answers, in words: an Ollama model, or the local compatibility server (never
    called Ollama), told apart by the version each server reports."""
    where = ", ".join(hosts)
    if versions and all(v.endswith(LOCAL_VERSION_SUFFIX) for v in versions):
        return f"{model} via the local compatibility server (not Ollama) at {where}"
    return f"Ollama model {model} at {where}"


def _same_model(wanted: str, listed: str) -> bool:
    return listed == wanted or listed == f"{wanted}:latest" or wanted == f"{listed}:latest"


def model_facts(show: Any) -> dict[str, Any]:
    """What a job keeps of Ollama's /api/show answer: the context length the model was trained
    for, its capabilities (completion, thinking, tools, ...), family, size and quantization."""
    details = getattr(show, "details", None)
    info = getattr(show, "modelinfo", None) or {}
    context = next(
        (v for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int)), None
    )
    facts: dict[str, Any] = {
        "context_length": context,
        "capabilities": list(getattr(show, "capabilities", None) or []),
        "family": getattr(details, "family", None),
        "parameter_size": getattr(details, "parameter_size", None),
        "quantization": getattr(details, "quantization_level", None),
        "format": getattr(details, "format", None),
    }
    return {k: v for k, v in facts.items() if v not in (None, [], "")}


def speaks_openai(http: httpx.Client) -> bool:
    """Whether the server behind `http` answers the OpenAI API's model list (GET /v1/models,
    or /models where the host already ends in /v1)."""
    for path in ("/v1/models", "/models"):
        try:
            response = http.get(path)
            if response.status_code == 200 and isinstance(response.json().get("data"), list):
                return True
        except (httpx.HTTPError, ValueError, AttributeError):
            continue
    return False


class OllamaTeacher(PooledTeacher):
    """An Ollama model (or the local compatibility server, which speaks the same API)."""

    backend = "ollama"

    @classmethod
    def create(
        cls, choice: TeacherChoice, settings: LabelSettings, recommender: str | None = None
    ) -> OllamaTeacher:
        """The teacher a job's choice names: its model at its hosts ($OLLAMA_HOST by default)."""
        return cls(
            server_hosts(choice.hosts), choice.model or LOCAL_MODEL, timeout=settings.timeout,
            keep_alive=settings.keep_alive, max_answer_chars=settings.max_answer_chars,
        )  # fmt: skip

    def __init__(
        self,
        hosts: Sequence[str],
        model: str,
        *,
        timeout: float = 300.0,
        keep_alive: str | int | float | None = "10m",
        max_answer_chars: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not hosts:
            raise ValueError("no Ollama host given")
        self.hosts = [normalize_host(h) for h in hosts]
        self.model = model
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.max_answer_chars = max_answer_chars
        self.pool = HostPool(len(self.hosts))
        self._last_failed: dict[int, int] = {}  # thread -> the host its last attempt failed on
        extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
        self._clients = [ollama.Client(host=h, timeout=timeout, **extra) for h in self.hosts]
        self._http = [
            httpx.Client(base_url=h, timeout=min(timeout, 10.0), **extra) for h in self.hosts
        ]

    def describe(self) -> TeacherInfo:
        """Check the hosts answer and have the model; record its digest, the server version and
        what /api/show says of the model (once, from the first host that has it). A host that
        does not answer is marked down (the job goes on with the others; it is tried again
        later); none answering, one answering without the model, or a server that speaks the
        OpenAI API instead (then the line names `--teacher openai`) is a
        `TeacherUnavailableError`."""
        versions, digest, unreachable, facts = [], None, [], None
        for index, (host, http, client) in enumerate(
            zip(self.hosts, self._http, self._clients, strict=True)
        ):
            try:
                response = http.get("/api/version")
                if response.status_code == 404 and speaks_openai(http):
                    raise TeacherUnavailableError(
                        f"the server at {host} speaks the OpenAI API, not Ollama's (GET /api/version: "
                        f"404, GET /v1/models answers); use --teacher openai --host {host}/v1"
                    )
                if response.status_code == 404:
                    unreachable.append(f"{host} (a server answers, but not Ollama's API: GET /api/version 404)")
                    self.pool.failed(index)
                    continue
                response.raise_for_status()
                versions.append(str(response.json().get("version", "?")))
                listed = client.list()
            except (httpx.HTTPError, ConnectionError, ValueError, ollama.ResponseError) as exc:
                unreachable.append(f"{host} ({type(exc).__name__})")
                self.pool.failed(index)
                continue
            match = next((m for m in listed.models if _same_model(self.model, m.model or "")), None)
            if match is None:
                names = ", ".join(sorted(m.model or "?" for m in listed.models)) or "none"
                raise TeacherUnavailableError(
                    f"model {self.model!r} is not on the server at {host} (it has: {names}); run `ollama pull {self.model}`"
                )
            digest = match.digest
            if facts is None:
                try:
                    facts = model_facts(client.show(self.model))
                except (httpx.HTTPError, ConnectionError, ValueError, ollama.ResponseError):
                    facts = {}  # an older server: the job goes on without them
        if len(unreachable) == len(self.hosts):
            raise TeacherUnavailableError(
                f"no Ollama server answers at {', '.join(unreachable)}; start one with `ollama serve` "
                f"or `alkd teacher serve`, or point --host/OLLAMA_HOST at a running server"
            )
        description = describe_server(self.model, self.hosts, versions)
        if unreachable:
            description += f" (not answering at the start: {', '.join(unreachable)})"
        return TeacherInfo(
            backend=self.backend,
            model=self.model,
            digest=digest,
            server_version=", ".join(sorted(set(versions))),
            hosts=list(self.hosts),
            description=description,
            model_info=facts or {},
        )

    def _ask(self, index: int, prompt: Prompt, options: dict[str, Any]) -> Answer:
        """One chat question to host `index`, streamed; `think` (off unless the options turn it
        on) is always sent, so a thinking model answers at once."""
        client, host = self._clients[index], self.hosts[index]
        logprobs = options.get("logprobs")
        think = bool(options.get("think", False))
        chat_options = {
            k: v for k, v in options.items() if k not in ("logprobs", "top_logprobs", "think")
        }
        started = time.perf_counter()
        parts: list[str] = []
        thoughts: list[str] = []
        size = 0
        cut = False
        tokens_logprobs: list[dict[str, Any]] = []
        last: Any = None
        try:
            stream = client.chat(
                model=self.model,
                messages=prompt.messages,
                format=prompt.format,
                options=chat_options,
                stream=True,
                keep_alive=self.keep_alive,
                think=think,
                logprobs=bool(logprobs) or None,
                top_logprobs=options.get("top_logprobs") if logprobs else None,
            )
            for chunk in stream:
                piece = chunk.message.content or ""
                thought = getattr(chunk.message, "thinking", None) or ""
                parts.append(piece)
                if thought:
                    thoughts.append(thought)
                size += len(piece) + len(thought)
                if self.max_answer_chars is not None and size > self.max_answer_chars:
                    stream.close()  # the server stops generating; the answer is not read
                    cut, last = True, chunk
                    break
                for entry in getattr(chunk, "logprobs", None) or []:
                    tokens_logprobs.append(
                        entry.model_dump() if hasattr(entry, "model_dump") else dict(entry)
                    )
                last = chunk
                if not chunk.done and time.perf_counter() - started > self.timeout:
                    stream.close()  # closes the connection: the server stops generating
                    raise TransientTeacherError(
                        f"{host}: the answer took longer than {self.timeout:g} s (timeout)"
                    )
        except ollama.ResponseError as exc:
            code = exc.status_code
            message = f"{host}: {exc.error} (status {code})"
            if code in (408, 429) or code >= 500 or code < 0:
                raise TransientTeacherError(message, retry_after_seconds(exc)) from None
            raise PermanentTeacherError(message) from None
        except (httpx.TimeoutException, httpx.TransportError, ConnectionError) as exc:
            raise TransientTeacherError(f"{host}: {type(exc).__name__}: {exc}") from None
        except (ValueError, AttributeError, TypeError) as exc:  # a malformed line in the stream
            raise TransientTeacherError(
                f"{host}: malformed response: {type(exc).__name__}: {exc}"
            ) from None
        if not cut and (last is None or not getattr(last, "done", False)):
            raise TransientTeacherError(f"{host}: the answer stream ended before it was done")
        return Answer(
            content="".join(parts),
            cut=cut,
            prompt_tokens=getattr(last, "prompt_eval_count", None),
            output_tokens=getattr(last, "eval_count", None),
            latency_s=time.perf_counter() - started,
            host=host,
            logprobs=tokens_logprobs or None,
            thinking="".join(thoughts) or None,
        )
