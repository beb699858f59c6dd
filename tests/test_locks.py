"""Waiting for locks another process holds: never on the event loop's thread,
and never past the moment the process wants to exit."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

import aiolibsql
import aiolibsql.dbapi as dbapi

# Hang guard for a child process that must exit promptly; a regression waits
# for the child's 60 s busy timeout instead.
PROMPT_EXIT_SECONDS = 20

# Holds an exclusive lock on a rollback-journal file until its stdin closes.
_HOLD_EXCLUSIVE = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    sys.stdin.read()
    conn.execute("COMMIT")
    conn.close()
    """
)


def make_table(path: str) -> None:
    conn = dbapi.connect(path)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.execute("CREATE TABLE t(x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()


@contextmanager
def exclusive_lock_in_another_process(path: str) -> Iterator[Callable[[], None]]:
    """Yields the function that releases the lock."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_EXCLUSIVE, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdin is not None and holder.stdout is not None
    stdin = holder.stdin

    def release() -> None:
        if not stdin.closed:
            stdin.close()
        assert holder.wait(timeout=PROMPT_EXIT_SECONDS) == 0

    try:
        assert holder.stdout.readline() == "locked\n"
        yield release
    finally:
        release()


async def test_first_read_on_a_file_another_process_locked_waits_off_the_event_loop(db_path: str) -> None:
    make_table(db_path)
    with exclusive_lock_in_another_process(db_path) as release:
        # A regression blocks the loop for this long, then fails with "database is locked".
        async with aiolibsql.connect(db_path, timeout=10) as conn:
            read = asyncio.ensure_future(conn.execute_fetchall("SELECT x FROM t"))
            loop_ran = asyncio.Event()
            asyncio.get_running_loop().call_soon(loop_ran.set)
            await loop_ran.wait()
            assert not read.done()
            release()
            assert await read == [(1,)]


_EXIT_WHILE_WAITING_FOR_A_LOCK = textwrap.dedent(
    """
    import asyncio, sys, threading
    import aiolibsql

    async def main():
        conn = await aiolibsql.connect(sys.argv[1], timeout=60)
        reached = threading.Event()
        await conn.create_function("reached", 0, reached.set)
        # The worker runs these in order: once reached() ran, the read is next.
        started = asyncio.ensure_future(conn.execute("SELECT reached()"))
        waiting = asyncio.ensure_future(conn.execute("SELECT x FROM t"))
        await asyncio.to_thread(reached.wait, 20)
        return started, waiting

    # Not asyncio.run: cancelling the read on the way out would hide the exit hook.
    pending = asyncio.new_event_loop().run_until_complete(main())
    print("exiting", flush=True)
    """
)

_EXIT_WITH_AN_ENDLESS_POOL_READ = textwrap.dedent(
    """
    import asyncio, sys
    import aiolibsql

    ENDLESS = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

    async def main():
        pool = await aiolibsql.create_pool(sys.argv[1], size=2)
        endless = asyncio.ensure_future(pool.execute(ENDLESS))
        await asyncio.sleep(0)  # the task submits the read to the lone reader
        # Leaving the queue means the reader's worker has started it.
        while pool.stats()["connections"][1]["queued"] != 0:
            await asyncio.sleep(0)
        return endless

    pending = asyncio.new_event_loop().run_until_complete(main())
    print("exiting", flush=True)
    """
)


def run_until_exit(script: str, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, path], capture_output=True, text=True, timeout=PROMPT_EXIT_SECONDS
    )


def test_exit_stops_a_statement_waiting_for_a_lock_another_process_holds(db_path: str) -> None:
    make_table(db_path)
    with exclusive_lock_in_another_process(db_path):
        completed = run_until_exit(_EXIT_WHILE_WAITING_FOR_A_LOCK, db_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "exiting\n"


def test_exit_stops_a_pool_read_that_never_ends(db_path: str) -> None:
    completed = run_until_exit(_EXIT_WITH_AN_ENDLESS_POOL_READ, db_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "exiting\n"


@pytest.mark.parametrize("timeout", [float("inf"), float("-inf"), float("nan"), -1, 10**400], ids=repr)
def test_timeouts_that_are_not_finite_or_negative_raise_value_error_at_call_time(db_path: str, timeout: float) -> None:
    with pytest.raises(ValueError, match="timeout"):
        aiolibsql.connect(db_path, timeout=timeout)
    with pytest.raises(ValueError, match="timeout"):
        aiolibsql.create_pool(db_path, timeout=timeout)
    with pytest.raises(ValueError, match="timeout"):
        dbapi.connect(db_path, timeout=timeout)


async def test_longest_finite_timeout_still_waits_for_a_lock_and_gets_it(db_path: str) -> None:
    make_table(db_path)
    with exclusive_lock_in_another_process(db_path) as release:
        # On the worker only: an inline wait would block the loop that releases the lock.
        async with aiolibsql.connect(db_path, timeout=1e300, inline_reads=False) as conn:
            read = asyncio.ensure_future(conn.execute_fetchall("SELECT x FROM t"))
            loop_ran = asyncio.Event()
            asyncio.get_running_loop().call_soon(loop_ran.set)
            await loop_ran.wait()
            release()
            assert await read == [(1,)]
