"""Database failures met by real `alkd` processes: one line, the right exit code, nothing
written that should not be, no temporary file left behind."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alkd_tui.errors import StoreError
from alkd_tui.store import open_store

#: Failures of the SQLite file itself (a lock, a full disk, damage, its journal).
pytestmark = pytest.mark.sqlite_only

CLICKS = "session_id,item_id,timestamp\n" + "".join(
    f"{s},i{(s + j) % 7},{s * 100 + j}\n" for s in range(600) for j in range(3)
)


def alkd(
    db: Path, *args: str, bootstrap: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`alkd --db DB ARGS` in its own process (after running `bootstrap`, test-only code)."""
    code = textwrap.dedent(bootstrap) + textwrap.dedent(
        """
        import sys
        from alkd_tui.cli.main import console
        sys.argv = ["alkd", *sys.argv[1:]]
        console()
        """
    )
    return subprocess.run(
        [sys.executable, "-c", code, "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The error line: the last line on stderr, the only one that is an error (progress
    lines may come before it), never the SQL or a traceback."""
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("alkd: error: ")]
    assert errors == lines[-1:], proc.stderr
    assert "Traceback" not in proc.stderr
    assert "SELECT" not in proc.stderr and "INSERT" not in proc.stderr  # never the SQL
    return errors[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def datasets(db: Path) -> list[str]:
    con = sqlite3.connect(db)
    try:
        return [n for (n,) in con.execute("SELECT name FROM dataset ORDER BY id")]
    finally:
        con.close()


@pytest.fixture
def clicks(tmp_path: Path) -> Path:
    path = tmp_path / "clicks.csv"
    path.write_text(CLICKS)
    return path


def test_a_write_lock_held_by_another_program_is_one_line_and_exit_3(
    db_path: Path, clicks: Path
) -> None:
    open_store(db_path).close()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    holder.execute("CREATE TABLE other_program (x)")
    try:
        proc = alkd(db_path, "data", "import", "csv", str(clicks), "--name", "toy")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 3
    assert "is locked by another program (waited 10 s)" in one_line(proc)
    assert datasets(db_path) == []


def test_a_full_database_disk_is_one_line_exit_3_and_stores_nothing(
    db_path: Path, clicks: Path
) -> None:
    open_store(db_path).close()
    # Test-only: every connection of that process may grow the file by a few pages only, as
    # on a disk with a few kilobytes left (SQLite then reports "database or disk is full").
    full = """
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "connect")
        def _almost_full(dbapi, _record):
            pages = dbapi.execute("PRAGMA page_count").fetchone()[0]
            dbapi.execute(f"PRAGMA max_page_count = {pages + 1}")
        """
    proc = alkd(db_path, "data", "import", "csv", str(clicks), "--name", "toy", bootstrap=full)
    assert proc.returncode == 3
    assert "cannot be written: the disk is full" in one_line(proc)
    assert datasets(db_path) == []


def test_a_full_disk_while_saving_training_state_removes_the_temporary_file(
    db_path: Path, clicks: Path
) -> None:
    assert (
        alkd(
            db_path,
            "data",
            "import",
            "csv",
            str(clicks),
            "--name",
            "toy",
            "--min-item-support",
            "1",
        ).returncode
        == 0
    )
    models = Path(f"{db_path}.files") / "models"
    models.mkdir(parents=True)
    tmp = models / "1.resume.safetensors.tmp"
    tmp.symlink_to("/dev/full")  # writing it fails with "no space left on device"
    train = ("train", "--dataset", "toy", "--model", "fpmc", "--dim", "4", "--epochs", "2")
    proc = alkd(db_path, *train)
    assert proc.returncode == 3
    assert "the disk is full" in one_line(proc)
    assert not tmp.exists() and not tmp.is_symlink()
    assert list(models.iterdir()) == []
    con = sqlite3.connect(db_path)
    assert con.execute("SELECT status FROM model").fetchall() == [("failed",)]
    assert con.execute("SELECT status FROM run WHERE kind = 'train'").fetchall() == [("failed",)]
    con.close()
    again = alkd(db_path, *train)  # with room again, the same command finishes the model
    assert again.returncode == 0, again.stderr
    con = sqlite3.connect(db_path)
    assert con.execute("SELECT id, status FROM model").fetchall() == [(1, "done")]
    con.close()


def _damage(db: Path) -> None:
    """Overwrite 64 bytes of b-tree page headers (pages 2 to 17), as a failing disk might."""
    page = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as fh:  # no alkd connection is open in this process
        for n in range(1, 17):
            fh.seek(n * page)
            fh.write(b"\xa5\x5a\xa5\x5a")


def test_a_damaged_database_is_refused_before_anything_is_written(
    db_path: Path, clicks: Path, tmp_path: Path
) -> None:
    assert (
        alkd(
            db_path,
            "data",
            "import",
            "csv",
            str(clicks),
            "--name",
            "toy",
            "--min-item-support",
            "1",
        ).returncode
        == 0
    )
    assert not Path(f"{db_path}-wal").exists()  # checkpointed as the last connection closed
    _damage(db_path)
    con = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.DatabaseError, match="malformed"):  # really damaged
        con.execute("PRAGMA quick_check").fetchall()
    con.close()
    before = digest(db_path)
    proc = alkd(
        db_path, "data", "import", "csv", str(clicks), "--name", "more", "--min-item-support", "1"
    )
    assert proc.returncode == 3
    line = one_line(proc)
    assert "is damaged" in line and "nothing was written" in line
    assert digest(db_path) == before


def test_a_newer_database_in_rollback_journal_mode_is_refused_byte_for_byte(db_path: Path) -> None:
    open_store(db_path).close()
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    con.commit()
    con.close()
    before = digest(db_path)
    proc = alkd(db_path, "data", "list")
    assert proc.returncode == 3
    assert "written by a newer alkd" in one_line(proc)
    assert digest(db_path) == before
    assert not Path(f"{db_path}-wal").exists()
    con = sqlite3.connect(db_path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_a_file_that_is_not_a_database_is_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes.db"
    notes.write_bytes(os.urandom(4096))
    before = digest(notes)
    proc = alkd(notes, "data", "list")
    assert proc.returncode == 3
    assert "is not a SQLite database" in one_line(proc)
    assert digest(notes) == before


def test_damage_that_reads_do_not_meet_is_found_before_the_first_write(
    db_path: Path, clicks: Path
) -> None:
    assert (
        alkd(
            db_path,
            "data",
            "import",
            "csv",
            str(clicks),
            "--name",
            "toy",
            "--min-item-support",
            "1",
        ).returncode
        == 0
    )
    con = sqlite3.connect(db_path)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    with db_path.open("r+b") as fh:  # the last pages hold sessions, which no query below reads
        fh.seek((pages - 2) * page)
        fh.write(b"\xa5\x5a" * 32)
    before = digest(db_path)
    store = open_store(db_path)  # reading the schema and the datasets meets nothing wrong
    try:
        with store.read() as conn:
            assert conn.exec_driver_sql("SELECT name FROM dataset").scalar() == "toy"
        with (
            pytest.raises(StoreError, match=r"is damaged .*nothing was written"),
            store.write() as conn,
        ):
            conn.exec_driver_sql("DELETE FROM dataset")
    finally:
        store.close()
    assert digest(db_path) == before
