"""Named fixtures for teacher tests: an Ollama-shaped HTTP fixture (httpx.MockTransport) that
answers like a server would, with faults on demand, and a small store with a selection.

The fixture is not an LLM: it replies with canned rankings built from the candidates it is
shown. Tests against a real model use the local compatibility server (test_server.py).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.pipeline.models import train_recommender
from alkd_tui.store import Store

DIGEST = "sha256:" + "ab" * 32


@dataclass
class OllamaFixture:
    """An Ollama-shaped reply fixture. `faults` is a list consumed one per chat request:
    None (answer), an int status code, "error-mid-stream", "malformed", "timeout", "no-done",
    "connect" (connection refused)."""

    models: list[str] = field(default_factory=lambda: ["fixture:1b"])
    faults: list[Any] = field(default_factory=list)
    chat_calls: int = 0
    hosts_seen: list[str] = field(default_factory=list)
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    answer: Callable[[dict[str, Any]], str] | None = None

    def _ranking(self, body: dict[str, Any]) -> str:
        if self.answer is not None:
            return self.answer(body)
        text = body["messages"][-1]["content"]
        ids = re.findall(r"<ID_([^:>]+)", text.split("Candidate items:")[-1])
        n = body.get("format", {}).get("properties", {}).get("ranking", {}).get("maxItems", 3)
        return json.dumps({"ranking": list(reversed(ids))[:n]})

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        path = request.url.path
        if path == "/api/version":
            return httpx.Response(200, json={"version": "0.12.11-fixture"})
        if path == "/api/tags":
            return httpx.Response(200, json={"models": [
                {"name": m, "model": m, "modified_at": "2026-01-01T00:00:00Z", "size": 1, "digest": DIGEST,
                 "details": {"format": "gguf"}} for m in self.models]})  # fmt: skip
        if path != "/api/chat":
            return httpx.Response(404, json={"error": "not found"})
        body = json.loads(request.content)
        with self.lock:
            self.chat_calls += 1
            self.hosts_seen.append(request.url.host + ":" + str(request.url.port))
            fault = self.faults.pop(0) if self.faults else None
        if body["model"] not in self.models:
            return httpx.Response(
                404, json={"error": f'model "{body["model"]}" not found, try pulling it first'}
            )
        if isinstance(fault, int):
            return httpx.Response(fault, json={"error": f"fixture status {fault}"})
        if fault == "timeout":
            raise httpx.ReadTimeout("fixture timeout", request=request)
        if fault == "connect":
            raise httpx.ConnectError("fixture connection refused", request=request)
        content = self._ranking(body)
        head = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z"}
        lines = [
            {
                **head,
                "message": {"role": "assistant", "content": content[: len(content) // 2]},
                "done": False,
            }
        ]
        if fault == "error-mid-stream":
            lines.append({"error": "fixture: the runner stopped"})
        elif fault == "malformed":
            lines.append("{not json")  # type: ignore[arg-type]
        else:
            lines.append(
                {
                    **head,
                    "message": {"role": "assistant", "content": content[len(content) // 2 :]},
                    "done": False,
                }
            )
            if fault != "no-done":
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
def labelling_store(store: Store, tmp_path: Path) -> Store:
    """A store with a small dataset (titles), a trained teacher recommender `teacher-rec`, and a
    selection `sel` of its first 12 training sessions."""
    items = tmp_path / "items.csv"
    items.write_text("item_id,title\n" + "".join(f"g{k},Game {k}\n" for k in range(30)))
    clicks = tmp_path / "clicks.csv"
    clicks.write_text("session_id,item_id,timestamp\n" + "".join(
        f"{s},g{(s + j) % 30},{s * 10 + j}\n" for s in range(200) for j in range(2 + s % 3)))  # fmt: skip
    import_dataset(
        store, "csv", clicks, "games", preprocess={"min_item_support": 1}, reader={"titles": items}
    )
    train_recommender(
        store,
        "games",
        "teacher",
        {"architecture": "fpmc", "dim": 8, "epochs": 1},
        name="teacher-rec",
    )
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO selection (name, dataset_id, strategy, budget, params, pool_size, size, created_at) "
            "VALUES ('sel', 1, 'test', 12, '{}', 12, 12, '2026-01-01 00:00:00.000000')"
        )
        rows = conn.exec_driver_sql(
            "SELECT id FROM session WHERE split = 'train' ORDER BY idx LIMIT 12"
        ).all()
        for order, (session_id,) in enumerate(rows):
            conn.exec_driver_sql(
                'INSERT INTO selection_member (selection_id, session_id, "order") VALUES (1, ?, ?)',
                (session_id, order),
            )
    return store
