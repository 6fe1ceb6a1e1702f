"""Named fixtures for teacher tests: an Ollama-shaped HTTP fixture (httpx.MockTransport) that
answers like a server would, with faults on demand.

The fixture is not an LLM: it replies with canned rankings built from the candidates it is
shown. Tests against a real model use the local compatibility server (test_server.py).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

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
