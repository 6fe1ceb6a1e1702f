"""Named fixtures for teacher tests: an Ollama-shaped HTTP fixture (httpx.MockTransport) that
answers like a server would, with faults on demand, and the same fixture served over real TCP
in a thread (`ollama_tcp_fixture`), which can be stopped mid-job, restarted on its port, and
made to answer slowly.

The fixtures are not an LLM: they reply with canned rankings built from the candidates they
are shown. Tests against a real model use the local compatibility server (test_server.py).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from alkd_tui.pipeline import labels
from alkd_tui.teacher.backends.ollama_backend import OllamaTeacher

DIGEST = "sha256:" + "ab" * 32
FIXTURE_HINTS = [
    "Players move on to the next game of the series they just played.",
    "Sessions rarely jump back to a game already played.",
]


@dataclass
class OllamaFixture:
    """An Ollama-shaped reply fixture. `faults` is a list consumed one per chat request:
    None (answer), an int status code, "error-mid-stream", "malformed" (a broken line in the
    stream), "garbage-body" (a 200 whose body is not JSON), "not-an-object" (a JSON line that
    is not an object), "timeout", "no-done", "connect" (connection refused), ("retry-after", S)
    (a 429 whose Retry-After asks for S seconds). `bodies` keeps every chat request body."""

    models: list[str] = field(default_factory=lambda: ["fixture:1b"])
    version: str = "0.12.11-fixture"
    faults: list[Any] = field(default_factory=list)
    chat_calls: int = 0
    hosts_seen: list[str] = field(default_factory=list)
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    answer: Callable[[dict[str, Any]], str] | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)
    chunks: int = 2  # the answer's text is streamed in this many lines
    thinking: str = "fixture: I think the last candidates fit best."  # sent when think is on
    show: dict[str, Any] | None = field(default_factory=lambda: {
        "details": {"family": "llama", "parameter_size": "1B", "quantization_level": "Q4_K_M",
                    "format": "gguf"},
        "model_info": {"general.architecture": "llama", "llama.context_length": 8192},
        "capabilities": ["completion", "thinking"],
    })  # fmt: skip
    """The /api/show answer (None: 404, as an older server)."""
    hints_answer: str = json.dumps({"hints": FIXTURE_HINTS})  # to a question asking for hints

    def _ranking(self, body: dict[str, Any]) -> str:
        if self.answer is not None:
            return self.answer(body)
        fmt = body.get("format")
        if isinstance(fmt, dict) and "hints" in fmt.get("properties", {}):
            return self.hints_answer
        text = body["messages"][-1]["content"]
        ids = re.findall(r"<ID_([^:>]+)", text.split("Candidate items:")[-1])
        n = body.get("format", {}).get("properties", {}).get("ranking", {}).get("maxItems", 3)
        return json.dumps({"ranking": list(reversed(ids))[:n]})

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/api/version":
            return httpx.Response(200, json={"version": self.version})
        if path == "/api/tags":
            return httpx.Response(200, json={"models": [
                {"name": m, "model": m, "modified_at": "2026-01-01T00:00:00Z", "size": 1, "digest": DIGEST,
                 "details": {"format": "gguf"}} for m in self.models]})  # fmt: skip
        if path == "/api/show" and self.show is not None:
            return httpx.Response(200, json=self.show)
        if path != "/api/chat":
            return httpx.Response(404, json={"error": "not found"})
        body = json.loads(request.content)
        with self.lock:
            self.chat_calls += 1
            self.bodies.append(body)
            self.hosts_seen.append(request.url.host + ":" + str(request.url.port))
            fault = self.faults.pop(0) if self.faults else None
        if body["model"] not in self.models:
            return httpx.Response(
                404, json={"error": f'model "{body["model"]}" not found, try pulling it first'}
            )
        if isinstance(fault, int):
            return httpx.Response(fault, json={"error": f"fixture status {fault}"})
        if isinstance(fault, tuple) and fault[0] == "retry-after":  # 429 asking to wait
            return httpx.Response(
                429, json={"error": "fixture: slow down"}, headers={"Retry-After": str(fault[1])}
            )
        if fault == "timeout":
            raise httpx.ReadTimeout("fixture timeout", request=request)
        if fault == "connect":
            raise httpx.ConnectError("fixture connection refused", request=request)
        if fault == "garbage-body":
            return httpx.Response(200, content=b"<html>fixture: bad gateway</html>\n")
        content = self._ranking(body)
        head = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z"}
        size = max(1, -(-len(content) // self.chunks))
        pieces = [content[k : k + size] for k in range(0, len(content), size)] or [""]
        lines: list[Any] = [
            {**head, "message": {"role": "assistant", "content": piece}, "done": False}
            for piece in pieces
        ]
        if body.get("think"):
            lines.insert(0, {**head, "message": {"role": "assistant", "content": "",
                                                 "thinking": self.thinking}, "done": False})  # fmt: skip
        if fault == "error-mid-stream":
            lines[1:] = [{"error": "fixture: the runner stopped"}]
        elif fault == "malformed":
            lines[1:] = ["{not json"]
        elif fault == "not-an-object":
            lines[1:] = ["[1, 2]"]
        elif fault != "no-done":
            lines.append({**head, "message": {"role": "assistant", "content": ""}, "done": True,
                          "done_reason": "stop", "prompt_eval_count": 120, "eval_count": 30})  # fmt: skip
        text = (
            "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
        )
        return httpx.Response(
            200, content=text.encode(), headers={"content-type": "application/x-ndjson"}
        )

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


@pytest.fixture
def ollama_fixture() -> OllamaFixture:
    return OllamaFixture()


@pytest.fixture
def use_fixture(ollama_fixture: OllamaFixture, monkeypatch: pytest.MonkeyPatch) -> OllamaFixture:
    """Route `--teacher ollama` to the HTTP fixture."""
    real = labels.make_teacher

    def make(choice, settings, recommender=None):  # type: ignore[no-untyped-def]
        if choice.teacher == "ollama":
            return OllamaTeacher(
                choice.hosts or ["127.0.0.1:11434"],
                choice.model or "fixture:1b",
                timeout=5,
                keep_alive=settings.keep_alive,
                max_answer_chars=settings.max_answer_chars,
                transport=ollama_fixture.transport,
            )
        return real(choice, settings, recommender)

    monkeypatch.setattr(labels, "make_teacher", make)
    return ollama_fixture


class OllamaTCPFixture:
    """The Ollama-shaped fixture served over real TCP on 127.0.0.1 by a thread.

    `stop()` and `start()` take it down and up again on the same port. `die_after = N`: after
    N answered chat requests the next one loses its connection without a reply and the server
    stops (a server killed mid-job). `delays` is consumed one per chat request: None, or
    ("silence", s) (nothing for s seconds, then the answer), or ("trickle", s) (the answer's
    lines s seconds apart).
    """

    def __init__(self, fixture: OllamaFixture) -> None:
        self.fixture = fixture
        self.delays: list[tuple[str, float] | None] = []
        self.die_after: int | None = None
        self.answered = 0
        self.received = 0  # chat requests that arrived (before any delay)
        self.prompts: list[str] = []  # the question of each, as it arrived
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):  # HTTP/1.0: one connection per request
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                outer._serve(self)

            def do_POST(self) -> None:
                outer._serve(self)

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up on a slow answer is expected

        self._server = Server(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self.answered = 0
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        chat = handler.path == "/api/chat"
        delay = None
        if chat:
            with self._lock:
                self.received += 1
                self.prompts.append(json.loads(body)["messages"][-1]["content"])
                dying = self.die_after is not None and self.answered >= self.die_after
                delay = self.delays.pop(0) if self.delays else None
            if dying:
                self.stop()  # the listening socket is gone: later requests are refused
                handler.connection.shutdown(socket.SHUT_RDWR)  # the request in flight is lost
                handler.close_connection = True
                return
        if delay is not None and delay[0] == "silence":
            time.sleep(delay[1])
        request = httpx.Request(
            handler.command,
            f"{self.url}{handler.path}",
            headers=dict(handler.headers),
            content=body,
        )
        try:
            response = self.fixture.handler(request)
        except httpx.HTTPError:
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        content = response.content
        handler.send_response(response.status_code)
        handler.send_header(
            "Content-Type", response.headers.get("content-type", "application/json")
        )
        if "retry-after" in response.headers:
            handler.send_header("Retry-After", response.headers["retry-after"])
        handler.send_header("Content-Length", str(len(content)))
        handler.end_headers()
        if delay is not None and delay[0] == "trickle":
            for line in content.splitlines(keepends=True):
                handler.wfile.write(line)
                handler.wfile.flush()
                time.sleep(delay[1])
        else:
            handler.wfile.write(content)
        handler.wfile.flush()
        if chat and response.status_code == 200:
            with self._lock:
                self.answered += 1


@pytest.fixture
def ollama_tcp_fixture(ollama_fixture: OllamaFixture) -> Iterator[OllamaTCPFixture]:
    server = OllamaTCPFixture(ollama_fixture)
    server.start()
    yield server
    server.stop()


@dataclass
class OpenAIFixture:
    """An OpenAI-shaped reply fixture (`/v1/models`, `/v1/chat/completions` as server-sent
    events). `faults`, one per chat request: None, an int status, ("retry-after", S),
    "error-mid-stream", "malformed", "no-done", "timeout", "connect", "whole" (a reply that is
    not streamed). `schema_forms`: the `response_format` types it takes (others: a 400 naming
    the field, as a server without json_schema answers). `bodies` keeps every chat body and
    `auth` every Authorization header."""

    models: list[str] = field(default_factory=lambda: ["fixture-4o"])
    faults: list[Any] = field(default_factory=list)
    schema_forms: tuple[str, ...] = ("json_schema", "json_object", "text")
    bodies: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    key: str | None = None  # a key the server wants (401 otherwise)
    usage: bool = True
    reasoning: str | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.auth.append(request.headers.get("authorization"))
        if self.key is not None and request.headers.get("authorization") != f"Bearer {self.key}":
            return httpx.Response(401, json={"error": {"message": "fixture: invalid key"}})
        path = request.url.path
        if path == "/v1/models":
            return httpx.Response(200, json={"object": "list", "data": [
                {"id": m, "object": "model", "owned_by": "fixture"} for m in self.models]})  # fmt: skip
        if path != "/v1/chat/completions":
            return httpx.Response(404, json={"error": {"message": "not found"}})
        body = json.loads(request.content)
        self.bodies.append(body)
        fault = self.faults.pop(0) if self.faults else None
        form = (body.get("response_format") or {}).get("type")
        if form is not None and form not in self.schema_forms:
            return httpx.Response(400, json={"error": {"message": f"response_format.type {form} is not supported"}})
        if isinstance(fault, int):
            return httpx.Response(fault, json={"error": {"message": f"fixture status {fault}"}})
        if isinstance(fault, tuple):
            return httpx.Response(429, json={"error": {"message": "fixture: slow down"}},
                                  headers={"Retry-After": str(fault[1])})  # fmt: skip
        if fault == "timeout":
            raise httpx.ReadTimeout("fixture timeout", request=request)
        if fault == "connect":
            raise httpx.ConnectError("fixture connection refused", request=request)
        text = body["messages"][-1]["content"]
        if body.get("logprobs"):
            content = "B"
        else:
            ids = re.findall(r"<ID_([^:>]+)", text.split("Candidate items:")[-1])
            fmt = body.get("response_format") or {}
            schema = fmt.get("schema") or (fmt.get("json_schema") or {}).get("schema") or {}
            n = schema.get("properties", {}).get("ranking", {}).get("maxItems", 3)
            content = json.dumps({"ranking": list(reversed(ids))[:n]})
        usage = {"prompt_tokens": 90, "completion_tokens": 12, "total_tokens": 102}
        if fault == "whole":
            return httpx.Response(200, json={"id": "x", "object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content},
                 "finish_reason": "stop"}], "usage": usage})  # fmt: skip
        logprobs = {"content": [{"token": "B", "logprob": -0.2, "top_logprobs": [
            {"token": "B", "logprob": -0.2}, {"token": "A", "logprob": -1.9}, {"token": "The", "logprob": -3.0}]}]}  # fmt: skip
        events: list[Any] = []
        if self.reasoning:
            events.append({"choices": [{"index": 0, "delta": {"reasoning_content": self.reasoning}}]})
        half = len(content) // 2
        events.append({"choices": [{"index": 0, "delta": {"role": "assistant", "content": content[:half]},
                                    "logprobs": logprobs if body.get("logprobs") else None}]})  # fmt: skip
        events.append({"choices": [{"index": 0, "delta": {"content": content[half:]}}]})
        if fault == "error-mid-stream":
            events[1:] = [{"error": {"message": "fixture: the worker died"}}]
        elif fault == "malformed":
            events[1:] = ["{not json"]
        elif fault != "no-done":
            events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            if self.usage:
                events.append({"choices": [], "usage": usage})
            events.append("[DONE]")
        text_out = "".join(
            f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events
        )
        return httpx.Response(
            200, content=text_out.encode(), headers={"content-type": "text/event-stream"}
        )

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


@pytest.fixture
def openai_fixture() -> OpenAIFixture:
    return OpenAIFixture()
