"""The shared data file, written once per run by the standard-library sqlite3."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from bench.workloads import SCHEMA, STALL_SQL, Settings, remove_db

FILL = """
INSERT INTO {table} (id, name, value, data)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
SELECT i, 'name-' || i, i * 0.5, randomblob(32) FROM n
"""


def prepare(path: Path, s: Settings) -> None:
    """A WAL-mode file: ``items`` for point selects, ``big`` for fetchall."""
    remove_db(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for table, rows in (("items", s.items_rows), ("big", s.fetch_rows)):
            db.execute(SCHEMA[table])
            db.execute("BEGIN")
            db.execute(FILL.format(table=table), (rows,))
            db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("ANALYZE")
    db.close()


def calibrate_stall(path: Path, seconds: float) -> int:
    """The recursion depth at which STALL_SQL takes about ``seconds`` with sqlite3."""
    db = sqlite3.connect(path)
    try:
        depth = 100_000
        for _ in range(4):
            start = time.perf_counter()
            db.execute(STALL_SQL, (depth,)).fetchone()
            elapsed = time.perf_counter() - start
            if elapsed > seconds / 4:
                break
            depth *= 4
        return int(depth * seconds / elapsed)
    finally:
        db.close()
