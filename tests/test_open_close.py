"""Opening and closing a local file: on the loop's thread when that is sure to
be short (no key to derive, nothing to checkpoint or roll back), on the worker
otherwise; either way the file ends in the same state."""

from __future__ import annotations

import asyncio
import gc
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import aiolibsql
import aiolibsql.dbapi as dbapi


async def wal_database(path: Path) -> None:
    async with aiolibsql.connect(str(path), isolation_level=None) as conn:
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("CREATE TABLE t(x)")


@pytest.mark.parametrize("work", ["reads", "writes"])
async def test_the_last_connection_to_close_checkpoints_and_removes_the_log(tmp_path: Path, work: str) -> None:
    path = tmp_path / "w.db"
    await wal_database(path)
    conn = await aiolibsql.connect(str(path), isolation_level=None)
    if work == "writes":
        await conn.execute("INSERT INTO t VALUES (1)")
    assert await (await conn.execute("SELECT count(*) FROM t")).fetchone() == ((1,) if work == "writes" else (0,))
    assert os.path.exists(f"{path}-wal")
    await conn.close()
    assert not os.path.exists(f"{path}-wal")
    assert not os.path.exists(f"{path}-shm")
    async with aiolibsql.connect(str(path)) as again:
        assert await (await again.execute("SELECT count(*) FROM t")).fetchone() == ((1,) if work == "writes" else (0,))


async def test_closing_with_an_uncommitted_transaction_rolls_it_back(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    await wal_database(path)
    conn = await aiolibsql.connect(str(path), autocommit=False)
    await conn.execute("INSERT INTO t VALUES (1)")
    assert conn.in_transaction
    await conn.close()
    async with aiolibsql.connect(str(path)) as again:
        assert await (await again.execute("SELECT count(*) FROM t")).fetchone() == (0,)


async def test_a_connection_kept_open_elsewhere_is_not_checkpointed_by_a_closing_reader(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    await wal_database(path)
    async with aiolibsql.connect(str(path), isolation_level=None) as writer:
        await writer.execute("INSERT INTO t VALUES (1)")
        reader = await aiolibsql.connect(str(path))
        assert await (await reader.execute("SELECT count(*) FROM t")).fetchone() == (1,)
        await reader.close()
        assert os.path.exists(f"{path}-wal")
        assert await (await writer.execute("SELECT count(*) FROM t")).fetchone() == (1,)


async def test_a_file_that_cannot_be_opened_fails_connect_and_the_loop_goes_on(tmp_path: Path) -> None:
    with pytest.raises(aiolibsql.OperationalError, match="unable to open"):
        await aiolibsql.connect(str(tmp_path / "missing" / "dir" / "x.db"))
    async with aiolibsql.connect(":memory:") as conn:
        assert await (await conn.execute("SELECT 1")).fetchone() == (1,)


async def test_operations_after_an_inline_close_fail_as_after_any_close(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    await wal_database(path)
    conn = await aiolibsql.connect(str(path))
    cursor = await conn.execute("SELECT x FROM t")
    await conn.close()
    await conn.close()  # closing twice is fine
    with pytest.raises(aiolibsql.ProgrammingError):
        await conn.execute("SELECT 1")
    with pytest.raises(aiolibsql.ProgrammingError):
        await cursor.fetchone()


async def log_gone(path: Path) -> bool:
    """Whether the log of `path` is removed, waiting for a close that runs
    elsewhere; the bound only guards against a hang."""
    deadline = asyncio.get_running_loop().time() + 30
    while os.path.exists(f"{path}-wal") and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    return not os.path.exists(f"{path}-wal")


async def test_a_connection_dropped_without_close_keeps_its_writes_and_its_log_is_checkpointed(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    await wal_database(path)
    conn = await aiolibsql.connect(str(path), isolation_level=None)
    await conn.executemany("INSERT INTO t VALUES (?)", ((n,) for n in range(1000)))
    assert os.path.exists(f"{path}-wal")
    # Its last close checkpoints the log: a worker does that, not this loop.
    del conn
    gc.collect()
    assert await log_gone(path)
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (1000,)


async def test_a_pool_dropped_without_close_keeps_its_writes_and_its_log_is_checkpointed(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    pool = await aiolibsql.create_pool(str(path), size=2)
    await pool.execute("CREATE TABLE t(x)")
    await pool.executemany("INSERT INTO t VALUES (?)", ((n,) for n in range(1000)))
    assert os.path.exists(f"{path}-wal")
    del pool
    gc.collect()
    assert await log_gone(path)
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (1000,)


def assert_exits_leaving_no_log(script: str, path: Path, rows: int) -> None:
    """Runs `script` in a fresh interpreter, given the database's path, to its
    exit; then the log must be checkpointed and removed and `rows` kept."""
    completed = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert not os.path.exists(f"{path}-wal")
    assert not os.path.exists(f"{path}-shm")
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (rows,)


def test_an_open_connection_at_interpreter_exit_leaves_no_log_behind(tmp_path: Path) -> None:
    path = tmp_path / "exit.db"
    script = textwrap.dedent(
        """
        import asyncio, sys, aiolibsql

        async def main():
            global kept
            kept = await aiolibsql.connect(sys.argv[1], isolation_level=None)
            await kept.execute("PRAGMA journal_mode=WAL")
            await kept.execute("CREATE TABLE t(x)")
            await kept.execute("INSERT INTO t VALUES (1)")

        asyncio.run(main())
        """
    )
    assert_exits_leaving_no_log(script, path, rows=1)


def test_a_blocking_connection_dropped_with_a_transaction_lets_go_of_its_locks_at_once(tmp_path: Path) -> None:
    # As with sqlite3: no event loop is held up by closing where it is
    # dropped, and the next writer finds the file free.
    path = tmp_path / "b.db"
    first = dbapi.connect(str(path), timeout=0)
    first.execute("CREATE TABLE t(x)")
    first.execute("INSERT INTO t SELECT randomblob(4000) FROM generate_series(1, 5000)")
    first.commit()
    first.execute("PRAGMA cache_size=10")
    # Every page changes, and spills into the file before any commit: the
    # rollback copies all of them back from the journal.
    first.execute("UPDATE t SET x = randomblob(4000)")
    assert os.path.getsize(f"{path}-journal") > 0
    del first
    gc.collect()
    # Rolled back before the drop returned: no journal is left to roll back.
    assert not os.path.exists(f"{path}-journal")
    second = dbapi.connect(str(path), timeout=0)
    second.execute("INSERT INTO t VALUES (1)")
    second.commit()
    assert second.execute("SELECT count(*) FROM t").fetchone() == (5001,)
    second.close()


def test_a_connection_dropped_just_before_exit_leaves_no_log_behind(tmp_path: Path) -> None:
    path = tmp_path / "exit.db"
    script = textwrap.dedent(
        """
        import asyncio, gc, sys, aiolibsql

        async def main():
            conn = await aiolibsql.connect(sys.argv[1], isolation_level=None)
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA wal_autocheckpoint=0")
            await conn.execute("CREATE TABLE t(x)")
            # A log big enough that its checkpoint outlasts the interpreter's exit.
            await conn.execute("INSERT INTO t SELECT randomblob(4000) FROM generate_series(1, 10000)")
            del conn
            gc.collect()

        asyncio.run(main())
        """
    )
    assert_exits_leaving_no_log(script, path, rows=10000)
