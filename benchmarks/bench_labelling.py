"""Labelling benchmarks: replaying 500 recorded answers, and the client's overhead per request
against an Ollama-shaped fixture server that answers instantly (or after a fixed delay, to see
throughput scale with concurrency).

    .venv/bin/python benchmarks/bench_labelling.py [--repeat 5] [--out .bench/labelling.json]

The fixture server is not an LLM: it returns the first N candidates of each prompt at once.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


class InstantOllama(BaseHTTPRequestHandler):
    """Answers /api/version, /api/tags and /api/chat like Ollama, after `delay` seconds."""

    delay = 0.0
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, body: bytes, kind: str = "application/json") -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/api/version":
            self._send(b'{"version": "0.0.0-fixture"}')
        else:
            self._send(json.dumps({"models": [{"name": "fixture:1b", "model": "fixture:1b", "digest": "sha256:00",
                                               "size": 1, "modified_at": "2026-01-01T00:00:00Z"}]}).encode())  # fmt: skip

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.delay:
            time.sleep(self.delay)
        text = body["messages"][-1]["content"]
        ids = re.findall(r"<ID_([^:>]+)", text.split("Candidate items:")[-1])
        n = body["format"]["properties"]["ranking"]["maxItems"]
        done = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z", "message": {"role": "assistant",
                "content": json.dumps({"ranking": ids[:n]})}, "done": True, "prompt_eval_count": 300, "eval_count": 60}  # fmt: skip
        self._send((json.dumps(done) + "\n").encode(), "application/x-ndjson")


def serve(delay: float) -> tuple[ThreadingHTTPServer, str]:
    handler = type("Handler", (InstantOllama,), {"delay": delay})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def bench_replay(repeat: int) -> dict[str, Any] | None:
    from alkd_tui.pipeline.datasets import import_dataset
    from alkd_tui.pipeline.labels import label_selection
    from alkd_tui.pipeline.selection import import_selection
    from alkd_tui.store import open_store

    folder = SHARED / "alkdrec-ml"
    if not folder.is_dir():
        print(f"skipping the replay benchmark: {folder} is absent", file=sys.stderr)
        return None
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        with open_store(base) as store:
            import_dataset(store, "alkdrec", folder, "ml")
            import_selection(store, "ml", folder / "selections" / "alkdrec.txt", "paper", limit=500)
        for k in range(repeat):
            db = Path(tmp) / f"run{k}.db"
            shutil.copy(base, db)
            with open_store(db) as store:
                started = time.perf_counter()
                result = label_selection(
                    store, "paper", "replay", file=folder / "teacher_gpt-4-turbo.jsonl"
                )
                times.append(time.perf_counter() - started)
                assert result.answered == 500
    return {
        "sessions": 500,
        "seconds_median": round(statistics.median(times), 3),
        "seconds": [round(t, 3) for t in times],
    }


def bench_client(sessions: int, concurrencies: list[int], delay: float) -> list[dict[str, Any]]:
    from alkd_tui.pipeline.labels import label_selection
    from alkd_tui.pipeline.models import train_recommender
    from alkd_tui.pipeline.selection import create_selection
    from alkd_tui.pipeline.whole_run import copy_example_dataset
    from alkd_tui.store import open_store

    rows = []
    server, url = serve(delay)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        with open_store(base) as store:
            copy_example_dataset(store)
            train_recommender(
                store,
                "synthetic-games",
                "teacher",
                {"architecture": "fpmc", "dim": 16, "epochs": 1},
                name="tr",
            )
            create_selection(store, "synthetic-games", "random", sessions, name="sel", seed=1)
        for concurrency in concurrencies:
            db = Path(tmp) / f"c{concurrency}.db"
            shutil.copy(base, db)
            with open_store(db) as store:
                started = time.perf_counter()
                result = label_selection(store, "sel", "ollama", model="fixture:1b", hosts=[url], candidates_from="tr",
                                         options={"concurrency": concurrency, "kappa": 50, "n": 25})  # fmt: skip
                wall = time.perf_counter() - started
            assert result.answered == sessions, result
            rows.append({
                "concurrency": concurrency, "server_delay_ms": delay * 1000, "requests": sessions,
                "wall_s": round(wall, 3), "requests_per_s": round(sessions / wall, 1),
                "ms_per_request": round(1000 * wall / sessions, 2),
                "overhead_ms_per_request": round(1000 * wall / sessions - 1000 * delay / concurrency, 2),
                "latency_p50_ms": round(1000 * result.latency_s["p50"], 2),
            })  # fmt: skip
    server.shutdown()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=400)
    parser.add_argument("--out", type=Path, default=ROOT / ".bench" / "labelling.json")
    args = parser.parse_args()
    replay = bench_replay(args.repeat)
    instant = bench_client(args.sessions, [1, 2, 4, 8], 0.0)
    delayed = bench_client(args.sessions // 4, [1, 2, 4, 8], 0.05)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"replay": replay, "instant": instant, "delayed": delayed}, indent=2)
    )
    if replay:
        print(f"\nReplay-labelling 500 sessions (alkdrec-ml, the paper's list), incl. storage: median {replay['seconds_median']} s "
              f"of {args.repeat} ({replay['seconds']})\n")  # fmt: skip
    for title, rows in (
        ("Instant fixture server", instant),
        ("Fixture server with 50 ms per answer", delayed),
    ):
        print(
            f"{title}:\n\n| concurrency | requests | wall (s) | requests/s | ms per request | client overhead (ms/request) | p50 latency (ms) |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for r in rows:
            print(
                f"| {r['concurrency']} | {r['requests']} | {r['wall_s']} | {r['requests_per_s']} | {r['ms_per_request']} | "
                f"{r['overhead_ms_per_request']} | {r['latency_p50_ms']} |"
            )
        print()


if __name__ == "__main__":
    main()
