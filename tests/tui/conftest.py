"""Fixtures of the TUI tests: the app as a test builds it, a labelled store, a fake Ollama
server (a real HTTP server, slow on purpose, for jobs that run as subprocesses), and helpers
that wait for workers and jobs."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from alkd_tui.pipeline.labels import label_selection
from alkd_tui.pipeline.models import train_recommender
from alkd_tui.store import Store
from alkd_tui.store.queries import run_sql
from alkd_tui.tui.app import AlkdApp

UNREACHABLE = "127.0.0.1:9"


@pytest.fixture
def make_app() -> Callable[..., AlkdApp]:
    """An app over a store with a fixed database label, no teacher polling unless asked (the
    host is a closed port), and no background warm-up."""

    def build(store: Store, **kwargs: Any) -> AlkdApp:
        kwargs.setdefault("db_label", "test.db")
        kwargs.setdefault("host", UNREACHABLE)
        kwargs.setdefault("poll_teacher", False)
        kwargs.setdefault("warm_up", False)
        return AlkdApp(store, **kwargs)

    return build


async def settle(app: AlkdApp, pilot: Any, timeout: float = 20.0) -> None:
    """Wait until every worker but the long-lived ones is finished and messages are handled."""
    long_lived = {"teacher-poll", "review-decisions", "job-follow", "label-answers"}
    deadline = time.monotonic() + timeout
    await pilot.pause()
    while time.monotonic() < deadline:
        await pilot.pause(0.02)
        if all(w.is_finished or w.group in long_lived for w in app.workers):
            break
    await pilot.pause()


async def wait_for(
    pilot: Any, condition: Callable[[], Any], timeout: float = 60.0, what: str = ""
) -> Any:
    """Pause the pilot until `condition()` is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what or condition}")


@pytest.fixture
def settled() -> Callable[..., Any]:
    return settle


@pytest.fixture
def waiter() -> Callable[..., Any]:
    return wait_for


def answers_file(store: Store, path: Path, *, model: str = "recorded-llm", limit: int = 12) -> Path:
    """Recorded answers for the first `limit` sessions of selection `sel`: five items each,
    with scores that fall (the first sessions get low top scores: low confidence)."""
    with store.engine.connect() as conn:
        keys = [r[0] for r in run_sql(conn, 'SELECT s.external_id FROM selection_member m JOIN session s ON s.id = m.session_id ORDER BY m."order"')]  # fmt: skip
    lines = []
    for n, key in enumerate(keys[:limit]):
        ranking = [f"g{(n + j) % 30}" for j in range(5)]
        top = round(0.3 + 0.05 * n, 2)
        lines.append({"session_id": key, "model": model, "ranking": ranking,
                      "scores": [top, top / 2, top / 4, top / 8, top / 16]})  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def labelled_store(labelling_store: Store, tmp_path: Path) -> Store:
    """`labelling_store` with 12 recorded answers (with scores) to selection `sel` from
    `recorded-llm`, and a trained student `student` (dim 4, one epoch)."""
    path = answers_file(labelling_store, tmp_path / "answers.jsonl")
    label_selection(labelling_store, "sel", "replay", file=path, options={"n": 5})
    train_recommender(
        labelling_store, "games", "student", {"architecture": "fpmc", "dim": 4, "epochs": 1},
        name="student",
    )  # fmt: skip
    return labelling_store


@dataclass
class FakeOllama:
    """A real HTTP server shaped like Ollama: version, tags, and a chat that answers each
    ranking prompt with its candidates reversed, after `delay` seconds."""

    delay: float = 0.0
    version: str = "0.12.0-fake"
    models: list[str] = field(default_factory=lambda: ["fake:1b"])
    chats: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def answer(self, body: dict[str, Any]) -> str:
        text = body["messages"][-1]["content"]
        ids = re.findall(r"<ID_([^:>]+)", text.split("Candidate items:")[-1])
        n = body.get("format", {}).get("properties", {}).get("ranking", {}).get("maxItems", 3)
        return json.dumps({"ranking": list(reversed(ids))[:n]})


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    fake = FakeOllama()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, data: Any) -> None:
            body = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/api/version":
                self._json({"version": fake.version})
            elif self.path == "/api/tags":
                self._json({"models": [{"name": m, "model": m, "digest": "sha256:" + "ab" * 32, "size": 1,
                                        "modified_at": "2026-01-01T00:00:00Z"} for m in fake.models]})  # fmt: skip
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if self.path != "/api/chat":
                self.send_error(404)
                return
            with fake.lock:
                fake.chats += 1
            time.sleep(fake.delay)
            done = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z", "done": True,
                    "done_reason": "stop", "prompt_eval_count": 100, "eval_count": 20,
                    "message": {"role": "assistant", "content": fake.answer(body)}}  # fmt: skip
            payload = (json.dumps(done) + "\n").encode()
            self.send_response(200)
            self.send_header("content-type", "application/x-ndjson")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def plain(widget: Any, width: int = 200) -> str:
    """What a Static shows, as plain text (rich renderables rendered)."""
    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        return str(widget.render())
    console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(content)
    return console.export_text()


@pytest.fixture
def text_of() -> Callable[..., str]:
    return plain
