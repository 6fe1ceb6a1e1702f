"""The OpenAI-compatible backend: `/v1/chat/completions` on one or more base URLs (vLLM,
llama.cpp's llama-server, llama-cpp-python's server, LM Studio, Ollama's /v1, the OpenAI API).

Plain HTTP (httpx, as the Ollama client uses) rather than the `openai` SDK: one request
shape and one server-sent-event stream are all a labelling job needs, and the SDK's own
retries would ask a question twice behind the job's back.

- The answer is constrained by the question's JSON schema (`response_format` `json_schema`);
  a server that refuses that form (llama-cpp-python's takes `json_object` with a `schema`) is
  asked in the other form from then on.
- Soft labels: `logprobs` with `top_logprobs` (the answer token's alternatives).
- Streamed; `stream_options.include_usage` asks for the token counts, recorded when the server
  sends them. A reasoning model's `reasoning_content` is kept with the answer, never parsed.
- Failures: connection, timeout, 408, 429 (its Retry-After honoured), 5xx and an error in the
  stream are transient; other 4xx permanent. Hosts are pooled as for Ollama.
- The API key comes from the environment variable the job names (default `OPENAI_API_KEY`),
  read once, sent only as a header, never stored and never printed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from alkd_tui.errors import TeacherUnavailableError
from alkd_tui.teacher.backends.base import (
    Answer,
    PermanentTeacherError,
    TeacherInfo,
    TransientTeacherError,
)
from alkd_tui.teacher.backends.host_pool import HostPool, PooledTeacher, retry_after_value
from alkd_tui.teacher.prompts import Prompt
from alkd_tui.teacher.registry import OPENAI_DEFAULT_URL, normalize_base_url, openai_base_urls

if TYPE_CHECKING:
    from alkd_tui.teacher.settings import LabelSettings, TeacherChoice

#: How much of an error body is read (a server's error page may be large).
ERROR_BODY_CHARS = 2_000
#: The two forms of a schema-constrained answer, tried in this order.
SCHEMA_FORMS = ("json_schema", "json_object")


def response_format(schema: dict[str, Any] | str | None, form: str) -> dict[str, Any] | None:
    """The `response_format` for a question's output format: the OpenAI form (`json_schema`,
    strict, objects closed) or llama-cpp-python's (`json_object` with a `schema`)."""
    if schema is None:
        return None
    if isinstance(schema, str):  # "json": any JSON object
        return {"type": "json_object"}
    if form == "json_object":
        return {"type": "json_object", "schema": schema}
    closed = {**schema, "additionalProperties": False}
    return {
        "type": "json_schema",
        "json_schema": {"name": "answer", "strict": True, "schema": closed},
    }


def _error_text(response: httpx.Response) -> str:
    """The server's error message (its JSON `error.message`, else the start of the body)."""
    try:
        response.read()
        text = response.text[:ERROR_BODY_CHARS]
    except httpx.HTTPError:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        return " ".join(text.split())[:300]
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or error
    if isinstance(data, dict) and "detail" in data and not isinstance(error, str):
        error = data["detail"]  # FastAPI's validation errors
    return " ".join(str(error).split())[:300]


def _refuses_format(status: int, text: str) -> bool:
    """Whether an error says the server does not take this `response_format` (a 400 or 422;
    llama-cpp-python's server answers a request it cannot validate with a 500 that names the
    field)."""
    lowered = text.lower()
    if status == 500:
        return "response_format" in lowered
    return status in (400, 422) and any(
        word in lowered for word in ("response_format", "json_schema", "schema")
    )


def _events(lines: Iterator[str]) -> Iterator[str]:
    """The data of each server-sent event (`data: ...` lines; comments and blanks skipped)."""
    for line in lines:
        if line.startswith("data:"):
            yield line[5:].strip()


class OpenAITeacher(PooledTeacher):
    """A model behind one or more OpenAI-compatible chat completion endpoints."""

    backend = "openai"

    @classmethod
    def create(
        cls, choice: TeacherChoice, settings: LabelSettings, recommender: str | None = None
    ) -> OpenAITeacher:
        """The teacher a job's choice names: its model at its base URLs, the key from the
        variable it names."""
        return cls(
            openai_base_urls(choice.hosts), choice.model, api_key=os.environ.get(choice.api_key_env),
            api_key_env=choice.api_key_env, timeout=settings.timeout,
            max_answer_chars=settings.max_answer_chars,
        )  # fmt: skip

    def __init__(
        self,
        base_urls: Sequence[str],
        model: str | None,
        *,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 300.0,
        max_answer_chars: int | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_urls:
            raise ValueError("no OpenAI-compatible base URL given")
        self.hosts = [normalize_base_url(u) for u in base_urls]
        self.model = model
        self.api_key_env = api_key_env
        self._has_key = bool(api_key)
        self.timeout = timeout
        self.max_answer_chars = max_answer_chars
        self.pool = HostPool(len(self.hosts))
        self._last_failed: dict[int, int] = {}
        self._forms = [SCHEMA_FORMS[0]] * len(self.hosts)  # the schema form each host takes
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        extra: dict[str, Any] = {"transport": transport} if transport is not None else {}
        self._http = [
            httpx.Client(base_url=u, timeout=timeout, headers=headers, **extra) for u in self.hosts
        ]

    def describe(self) -> TeacherInfo:
        """Check the servers answer (GET /models) and list the model; with no model named, a
        server that lists exactly one is asked about that one. None answering, a refused key,
        or the model missing is a `TeacherUnavailableError` that says what to do."""
        unreachable: list[str] = []
        listed: dict[str, dict[str, Any]] = {}
        for index, (url, http) in enumerate(zip(self.hosts, self._http, strict=True)):
            try:
                response = http.get("/models", timeout=min(self.timeout, 10.0))
            except httpx.HTTPError as exc:
                unreachable.append(f"{url} ({type(exc).__name__})")
                self.pool.failed(index)
                continue
            if response.status_code in (401, 403):
                key = f"${self.api_key_env}" + ("" if self._has_key else " is not set")
                raise TeacherUnavailableError(
                    f"the server at {url} refused the request ({response.status_code}: "
                    f"{_error_text(response)}); check {key}"
                )
            if response.status_code == 404:
                raise TeacherUnavailableError(
                    f"no OpenAI-compatible API at {url} (GET {url}/models: 404); the base URL "
                    f"usually ends in /v1, e.g. --host {url}/v1"
                )
            try:
                response.raise_for_status()
                entries = response.json()["data"]
                listed.update({str(e["id"]): e for e in entries})
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                unreachable.append(f"{url} ({type(exc).__name__})")
                self.pool.failed(index)
        if len(unreachable) == len(self.hosts):
            hint = (
                ""
                if self._has_key or OPENAI_DEFAULT_URL not in self.hosts
                else (f"; ${self.api_key_env} is not set")
            )
            raise TeacherUnavailableError(
                f"no OpenAI-compatible server answers at {', '.join(unreachable)}; start one (vLLM, "
                f"llama-server, LM Studio) or point --host/$OPENAI_BASE_URL at one{hint}"
            )
        names = ", ".join(sorted(listed)) or "none"
        if self.model is None:
            if len(listed) != 1:
                raise TeacherUnavailableError(
                    f"--model: name the model to ask (the server lists: {names})"
                )
            self.model = next(iter(listed))
        if listed and self.model not in listed:
            raise TeacherUnavailableError(
                f"model {self.model!r} is not listed by the server at {', '.join(self.hosts)} "
                f"(it lists: {names})"
            )
        entry = listed.get(self.model, {})
        facts = {k: v for k, v in entry.items() if k in ("owned_by", "created", "meta")}
        description = f"model {self.model} via the OpenAI-compatible API at {', '.join(self.hosts)}"
        if unreachable:
            description += f" (not answering at the start: {', '.join(unreachable)})"
        return TeacherInfo(
            backend=self.backend, model=self.model, digest=None, server_version=None,
            hosts=list(self.hosts), description=description, model_info=facts,
        )  # fmt: skip

    def _body(self, prompt: Prompt, options: dict[str, Any], form: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": prompt.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": options.get("temperature", 0.0),
            "seed": options.get("seed"),
            "max_tokens": options.get("num_predict"),
        }
        fmt = response_format(prompt.format, form)
        if fmt is not None:
            body["response_format"] = fmt
        if options.get("logprobs"):
            body["logprobs"] = True
            body["top_logprobs"] = options.get("top_logprobs")
        return {k: v for k, v in body.items() if v is not None}

    def _ask(self, index: int, prompt: Prompt, options: dict[str, Any]) -> Answer:
        """One streamed chat completion from host `index` (in the schema form it takes)."""
        url = self.hosts[index]
        for form in SCHEMA_FORMS[SCHEMA_FORMS.index(self._forms[index]) :]:
            try:
                return self._stream(index, self._body(prompt, options, form))
            except _FormRefused as refused:
                if prompt.format is None or form == SCHEMA_FORMS[-1]:
                    raise PermanentTeacherError(
                        f"{url}: {refused} (status {refused.status})"
                    ) from None
                self._forms[index] = SCHEMA_FORMS[SCHEMA_FORMS.index(form) + 1]
        raise PermanentTeacherError(f"{url}: no response format was accepted")  # pragma: no cover

    def _stream(self, index: int, body: dict[str, Any]) -> Answer:
        http, url = self._http[index], self.hosts[index]
        started = time.perf_counter()
        parts: list[str] = []
        thoughts: list[str] = []
        tokens_logprobs: list[dict[str, Any]] = []
        usage: dict[str, Any] = {}
        size = 0
        cut = done = False
        try:
            with http.stream("POST", "/chat/completions", json=body) as response:
                code = response.status_code
                if code >= 400:
                    text = _error_text(response)
                    if _refuses_format(code, text) and "response_format" in body:
                        raise _FormRefused(text, code)
                    if code in (408, 429) or code >= 500:
                        raise TransientTeacherError(
                            f"{url}: {text} (status {code})", retry_after_value(response.headers)
                        )
                    raise PermanentTeacherError(f"{url}: {text} (status {code})")
                if "event-stream" not in response.headers.get("content-type", ""):
                    return self._whole(response, url, started)  # a server that does not stream
                for data in _events(response.iter_lines()):
                    if data == "[DONE]":
                        done = True
                        break
                    event = json.loads(data)
                    if not isinstance(event, dict):
                        raise ValueError("an event that is not an object")
                    if event.get("error"):
                        raise TransientTeacherError(f"{url}: error in the stream: {event['error']}")
                    usage = event.get("usage") or usage
                    for choice in (event.get("choices") or [])[:1]:
                        delta = choice.get("delta") or {}
                        piece = delta.get("content") or ""
                        thought = delta.get("reasoning_content") or delta.get("reasoning") or ""
                        parts.append(piece)
                        if thought:
                            thoughts.append(thought)
                        size += len(piece) + len(thought)
                        tokens_logprobs += (choice.get("logprobs") or {}).get("content") or []
                        done = done or bool(choice.get("finish_reason"))
                    if self.max_answer_chars is not None and size > self.max_answer_chars:
                        cut = True  # leaving the block closes the connection: generation stops
                        break
                    if time.perf_counter() - started > self.timeout:
                        raise TransientTeacherError(
                            f"{url}: the answer took longer than {self.timeout:g} s (timeout)"
                        )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise TransientTeacherError(f"{url}: {type(exc).__name__}: {exc}") from None
        except (ValueError, AttributeError, TypeError) as exc:  # a malformed event
            raise TransientTeacherError(
                f"{url}: malformed response: {type(exc).__name__}: {exc}"
            ) from None
        if not cut and not done:
            raise TransientTeacherError(f"{url}: the answer stream ended before it was done")
        return Answer(
            content="".join(parts), cut=cut, prompt_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"), latency_s=time.perf_counter() - started,
            host=url, logprobs=tokens_logprobs or None, thinking="".join(thoughts) or None,
        )  # fmt: skip

    def _whole(self, response: httpx.Response, url: str, started: float) -> Answer:
        """An answer sent in one piece (a server that ignores `stream`)."""
        response.read()
        data = response.json()
        choice = data["choices"][0]
        message = choice.get("message") or {}
        content = message.get("content") or ""
        usage = data.get("usage") or {}
        cut = self.max_answer_chars is not None and len(content) > self.max_answer_chars
        return Answer(
            content=content, cut=cut, prompt_tokens=usage.get("prompt_tokens"),
            output_tokens=usage.get("completion_tokens"), latency_s=time.perf_counter() - started,
            host=url, logprobs=(choice.get("logprobs") or {}).get("content") or None,
            thinking=message.get("reasoning_content") or None,
        )  # fmt: skip


class _FormRefused(Exception):
    """The server refused the request's `response_format` (it is asked in the next form)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
