"""The Ollama backend: the official `ollama` client against one or more servers.

Requests are spread over the hosts round-robin. A host that fails (refused, reset, timed
out, 5xx, 429) is marked down and skipped for a while (a circuit breaker: 5 s, doubling on
each further failure up to 5 minutes, or as long as its Retry-After asks), then tried again
with one request; a retry goes to another host. Answers are streamed, so an error line in
the middle of a stream is seen as such; the per-request timeout bounds both a silence and
the whole answer, and an answer longer than the size cap is cut. `keep_alive` (how long the
server keeps the model loaded) is sent with every request.
"""

from __future__ import annotations

import email.utils
import itertools
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
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

__all__ = ["DEFAULT_HOST", "HostPool", "OllamaTeacher", "normalize_host"]


def describe_server(model: str, hosts: Sequence[str], versions: Sequence[str]) -> str:
    """Who answers, in words: an Ollama model, or the local compatibility server (never
    called Ollama), told apart by the version each server reports."""
    where = ", ".join(hosts)
    if versions and all(v.endswith(LOCAL_VERSION_SUFFIX) for v in versions):
        return f"{model} via the local compatibility server (not Ollama) at {where}"
    return f"Ollama model {model} at {where}"


class HostPool:
    """Which host gets the next request: round-robin over the hosts that are up; a host that
    failed is down for a cool-down (doubling with each failure in a row) and then gets one
    request to show it is back. With every host down, the one back soonest is tried."""

    FIRST_COOLDOWN_S = 5.0
    MAX_COOLDOWN_S = 300.0

    def __init__(self, n: int, clock: Any = time.monotonic) -> None:
        self.n = n
        self.clock = clock
        self._turn = itertools.count()
        self._down_until = [0.0] * n
        self._failures = [0] * n
        self._lock = threading.Lock()

    def pick(self, avoid: int | None = None) -> int:
        """The host for the next request (not `avoid`, the one that just failed, if another
        is up)."""
        with self._lock:
            now = self.clock()
            start = next(self._turn)
            order = [(start + k) % self.n for k in range(self.n)]
            up = [i for i in order if self._down_until[i] <= now]
            preferred = [i for i in up if i != avoid] or up
            if preferred:
                chosen = preferred[0]
                if self._failures[chosen]:  # half-open: one request, until it answers or fails
                    self._down_until[chosen] = now + self._cooldown(chosen)
                return chosen
            return min(range(self.n), key=lambda i: (i == avoid, self._down_until[i]))

    def _cooldown(self, index: int) -> float:
        return min(
            self.FIRST_COOLDOWN_S * 2 ** max(self._failures[index] - 1, 0), self.MAX_COOLDOWN_S
        )

    def failed(self, index: int, retry_after: float | None = None) -> None:
        """Host `index` failed: down for its cool-down, or as long as it asked."""
        with self._lock:
            self._failures[index] += 1
            wait = max(self._cooldown(index), retry_after or 0.0)
            self._down_until[index] = self.clock() + wait

    def answered(self, index: int) -> None:
        """Host `index` answered: up again."""
        with self._lock:
            self._failures[index] = 0
            self._down_until[index] = 0.0

    def down(self) -> list[int]:
        """The hosts now marked down."""
        now = self.clock()
        with self._lock:
            return [i for i in range(self.n) if self._down_until[i] > now]


def retry_after_seconds(exc: BaseException) -> float | None:
    """The seconds an HTTP error's Retry-After header asks to wait (a number or a date), if
    the error carries its response (the ollama client raises from the httpx error)."""
    response = getattr(exc, "response", None) or getattr(exc.__context__, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((moment - datetime.now(UTC)).total_seconds(), 0.0)


def _same_model(wanted: str, listed: str) -> bool:
    return listed == wanted or listed == f"{wanted}:latest" or wanted == f"{listed}:latest"


class OllamaTeacher:
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
        """Check the hosts answer and have the model; record its digest and the server
        version. A host that does not answer is marked down (the job goes on with the others;
        it is tried again later); none answering, or one answering without the model, is a
        `TeacherUnavailableError`."""
        versions, digest, unreachable = [], None, []
        for index, (host, http, client) in enumerate(
            zip(self.hosts, self._http, self._clients, strict=True)
        ):
            try:
                response = http.get("/api/version")
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
        )

    def ask(self, prompt: Prompt, options: dict[str, Any], attempt: int = 0) -> Answer:
        """Ask one chat question, streamed, of a host that is up (a retry: of another one);
        map failures to transient or permanent errors, and mark a failing host down."""
        thread = threading.get_ident()
        avoid = self._last_failed.pop(thread, None) if attempt else None
        index = self.pool.pick(avoid)
        try:
            answer = self._ask(index, prompt, options)
        except TransientTeacherError as exc:
            self.pool.failed(index, exc.retry_after)
            self._last_failed[thread] = index
            raise
        self.pool.answered(index)
        return answer

    def _ask(self, index: int, prompt: Prompt, options: dict[str, Any]) -> Answer:
        client, host = self._clients[index], self.hosts[index]
        logprobs = options.get("logprobs")
        chat_options = {k: v for k, v in options.items() if k not in ("logprobs", "top_logprobs")}
        started = time.perf_counter()
        parts: list[str] = []
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
                logprobs=bool(logprobs) or None,
                top_logprobs=options.get("top_logprobs") if logprobs else None,
            )
            for chunk in stream:
                piece = chunk.message.content or ""
                parts.append(piece)
                size += len(piece)
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
        )
