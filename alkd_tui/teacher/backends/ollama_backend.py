"""The Ollama backend: the official `ollama` client against one or more servers.

Requests are spread over the hosts round-robin (a retry moves to the next host). Answers are
streamed, so an error line in the middle of a stream is seen as such; the per-request
timeout bounds both a silence and the whole answer. `keep_alive` (how long the server keeps
the model loaded) is sent with every request.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx
import ollama

from alkd_tui.errors import TeacherUnavailableError
from alkd_tui.teacher.backends.base import (
    Answer,
    PermanentTeacherError,
    TeacherInfo,
    TransientTeacherError,
)
from alkd_tui.teacher.prompts import Prompt

DEFAULT_HOST = "http://127.0.0.1:11434"


def normalize_host(host: str) -> str:
    """`localhost:11434` -> `http://localhost:11434` (what OLLAMA_HOST may hold)."""
    host = host.strip().rstrip("/")
    if not host.startswith(("http://", "https://")):
        host = "http://" + host
    if host.count(":") == 1:  # no port
        host += ":11434"
    return host


LOCAL_SUFFIX = "-alkd-local"  # how alkd's local compatibility server signs its version


def describe_server(model: str, hosts: Sequence[str], versions: Sequence[str]) -> str:
    """Who answers, in words: an Ollama model, or the local compatibility server (never
    called Ollama), told apart by the version each server reports."""
    where = ", ".join(hosts)
    if versions and all(v.endswith(LOCAL_SUFFIX) for v in versions):
        return f"{model} via the local compatibility server (not Ollama) at {where}"
    return f"Ollama model {model} at {where}"


def _same_model(wanted: str, listed: str) -> bool:
    return listed == wanted or listed == f"{wanted}:latest" or wanted == f"{listed}:latest"


class OllamaTeacher:
    """An Ollama model (or the local compatibility server, which speaks the same API)."""

    backend = "ollama"

    def __init__(
        self,
        hosts: Sequence[str],
        model: str,
        *,
        timeout: float = 300.0,
        keep_alive: str | int | float | None = "10m",
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not hosts:
            raise ValueError("no Ollama host given")
        self.hosts = [normalize_host(h) for h in hosts]
        self.model = model
        self.timeout = timeout
        self.keep_alive = keep_alive
        extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
        self._clients = [ollama.Client(host=h, timeout=timeout, **extra) for h in self.hosts]
        self._http = [
            httpx.Client(base_url=h, timeout=min(timeout, 10.0), **extra) for h in self.hosts
        ]
        self._turn = itertools.count()
        self._lock = threading.Lock()

    def describe(self) -> TeacherInfo:
        """Check every host answers and has the model; record its digest and the server version."""
        versions, digest = [], None
        for host, http, client in zip(self.hosts, self._http, self._clients, strict=True):
            try:
                response = http.get("/api/version")
                response.raise_for_status()
                versions.append(str(response.json().get("version", "?")))
                listed = client.list()
            except (httpx.HTTPError, ConnectionError, ValueError, ollama.ResponseError) as exc:
                raise TeacherUnavailableError(
                    f"no Ollama server answers at {host} ({type(exc).__name__}); start one with `ollama serve` "
                    f"or `alkd teacher serve`, or point --host/OLLAMA_HOST at a running server"
                ) from None
            match = next((m for m in listed.models if _same_model(self.model, m.model or "")), None)
            if match is None:
                names = ", ".join(sorted(m.model or "?" for m in listed.models)) or "none"
                raise TeacherUnavailableError(
                    f"model {self.model!r} is not on the server at {host} (it has: {names}); run `ollama pull {self.model}`"
                )
            digest = match.digest
        return TeacherInfo(
            backend=self.backend,
            model=self.model,
            digest=digest,
            server_version=", ".join(sorted(set(versions))),
            hosts=list(self.hosts),
            description=describe_server(self.model, self.hosts, versions),
        )

    def ask(self, prompt: Prompt, options: dict[str, Any], attempt: int = 0) -> Answer:
        """Ask one chat question, streamed; map failures to transient or permanent errors."""
        with self._lock:
            turn = next(self._turn)
        index = (turn + attempt) % len(self._clients)
        client, host = self._clients[index], self.hosts[index]
        logprobs = options.get("logprobs")
        chat_options = {k: v for k, v in options.items() if k not in ("logprobs", "top_logprobs")}
        started = time.perf_counter()
        parts: list[str] = []
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
                logprobs=bool(logprobs) or None,
                top_logprobs=options.get("top_logprobs") if logprobs else None,
            )
            for chunk in stream:
                parts.append(chunk.message.content or "")
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
                raise TransientTeacherError(message) from None
            raise PermanentTeacherError(message) from None
        except (httpx.TimeoutException, httpx.TransportError, ConnectionError) as exc:
            raise TransientTeacherError(f"{host}: {type(exc).__name__}: {exc}") from None
        except (ValueError, AttributeError, TypeError) as exc:  # a malformed line in the stream
            raise TransientTeacherError(
                f"{host}: malformed response: {type(exc).__name__}: {exc}"
            ) from None
        if last is None or not getattr(last, "done", False):
            raise TransientTeacherError(f"{host}: the answer stream ended before it was done")
        return Answer(
            content="".join(parts),
            prompt_tokens=getattr(last, "prompt_eval_count", None),
            output_tokens=getattr(last, "eval_count", None),
            latency_s=time.perf_counter() - started,
            host=host,
            logprobs=tokens_logprobs or None,
        )
