"""Long id lists go into a query as one JSON array: no parameter limit, no chunks (SQLite and
PostgreSQL alike)."""

from __future__ import annotations

from alkd_tui.store import Store
from alkd_tui.store.queries import IN_IDS, dict_rows, ids_param, plain_rows, run_sql


def test_a_list_of_50000_ids_is_one_parameter(store: Store) -> None:
    with store.write() as conn:
        run_sql(conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        run_sql(conn, "INSERT INTO t (id, v) VALUES (?, ?)", [(i, f"v{i}") for i in range(60_000)])
    wanted = list(range(0, 100_000, 2))  # 50,000 ids, 30,000 of them present
    with store.read() as conn:
        found = plain_rows(
            conn, f"SELECT id FROM t WHERE id {IN_IDS} ORDER BY id", (ids_param(wanted),)
        )
        ids = [row[0] for row in found]
        assert ids == list(range(0, 60_000, 2))
        assert dict_rows(conn, f"SELECT id, v FROM t WHERE id {IN_IDS}", (ids_param([7]),)) == [
            {"id": 7, "v": "v7"}
        ]
