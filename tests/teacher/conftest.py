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
