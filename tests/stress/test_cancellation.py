"""Cancellation at every await point of every API: an operation cancelled
after any number of turns of the loop either happened or did not, and the
connection or pool goes on working (nothing left gated, pinned or hung).
Each scenario is cancelled after 0, 1, 2, ... turns of the loop until it
finishes before the cancellation arrives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers.launch import hrana_server

import aiolibsql

# A hang guard for each step, not a timing assumption.
STEP_LIMIT_SECONDS = 60
MOST_TURNS = 400

Scenario = Callable[[Any, int], Awaitable[None]]

# Three chunks (256 rows, then 8,192, then the rest), so a fetch is
# cancelled at its first, a middle and its last chunk. Not generate_series,
# which the remote test server's SQLite may lack.
FETCHED_ROWS = 9000
FETCH = f"WITH RECURSIVE c(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM c WHERE v < {FETCHED_ROWS}) SELECT v FROM c"


async def cancelled_after(turns: int, work: Awaitable[None]) -> bool:
    """Runs `work`, cancelling it after `turns` turns of the loop; True when
    it finished before the cancellation arrived."""
    task = asyncio.ensure_future(work)
    for _ in range(turns):
        if task.done():
            break
        await asyncio.sleep(0)
    if task.done():
        task.result()
        return True
    task.cancel()
    try:
        await asyncio.wait_for(task, STEP_LIMIT_SECONDS)
    except asyncio.CancelledError:
        return False
    return True


async def connection_write(conn: aiolibsql.Connection, n: int) -> None:
    await conn.execute("INSERT INTO t VALUES (?)", (n,))
    await conn.commit()


async def connection_transaction(conn: aiolibsql.Connection, n: int) -> None:
    await conn.execute("BEGIN")
    await conn.execute("INSERT INTO t VALUES (?)", (n,))
    await conn.execute("INSERT INTO t VALUES (?)", (-n,))
    await conn.commit()


async def connection_fetch(conn: aiolibsql.Connection, n: int) -> None:
    cursor = await conn.execute(FETCH)
    assert len(await cursor.fetchall()) == FETCHED_ROWS


async def connection_script(conn: aiolibsql.Connection, n: int) -> None:
    await conn.executescript(f"INSERT INTO t VALUES ({n}); INSERT INTO t VALUES ({-n});")
    await conn.commit()


async def connection_many(conn: aiolibsql.Connection, n: int) -> None:
    await conn.executemany("INSERT INTO t VALUES (?)", [(n,), (-n,)])
    await conn.commit()


CONNECTION_SCENARIOS: dict[str, Scenario] = {
    "write_and_commit": connection_write,
    "explicit_transaction": connection_transaction,
    "fetch_all": connection_fetch,
    "executescript": connection_script,
    "executemany": connection_many,
}


async def rollback_if_open(conn: aiolibsql.Connection) -> None:
    if conn.in_transaction:
        await conn.rollback()


@contextlib.contextmanager
def database(where: str, tmp_path: Path) -> Iterator[str]:
    if where == "remote":
        with hrana_server() as url:
            yield url
    else:
        yield str(tmp_path / "c.db")


@pytest.mark.parametrize("where", ["file", "remote"])
@pytest.mark.parametrize("scenario", list(CONNECTION_SCENARIOS))
async def test_a_connection_survives_cancellation_at_every_await(tmp_path: Path, scenario: str, where: str) -> None:
    with database(where, tmp_path) as target:
        await connection_survives_cancellation_at_every_await(target, scenario)


async def connection_survives_cancellation_at_every_await(target: str, scenario: str) -> None:
    async with aiolibsql.connect(target) as conn:
        await conn.execute("CREATE TABLE t(x INTEGER)")
        await conn.commit()
        for turns in range(MOST_TURNS):
            n = turns + 1
            finished = await cancelled_after(turns, CONNECTION_SCENARIOS[scenario](conn, n))
            await asyncio.wait_for(rollback_if_open(conn), STEP_LIMIT_SECONDS)
            rows = await asyncio.wait_for(
                conn.execute_fetchall("SELECT x FROM t WHERE abs(x) = ?", (n,)), STEP_LIMIT_SECONDS
            )
            # All or nothing for the pairs; a finished write is there.
            assert len(rows) in (0, 1 if scenario == "write_and_commit" else 2), rows
            if finished and scenario != "fetch_all":
                assert rows, f"a write that finished after {turns} turns is missing"
            if finished:
                break
        assert await asyncio.wait_for(conn.execute_fetchall("SELECT 1"), STEP_LIMIT_SECONDS) == [(1,)]


async def pool_write(pool: aiolibsql.ConnectionPool, n: int) -> None:
    await pool.execute("INSERT INTO t VALUES (?)", (n,))


async def pool_transaction(pool: aiolibsql.ConnectionPool, n: int) -> None:
    async with pool.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (?)", (n,))
        await tx.execute("INSERT INTO t VALUES (?)", (-n,))


async def pool_snapshot(pool: aiolibsql.ConnectionPool, n: int) -> None:
    async with pool.snapshot() as snapshot:
        cursor = await snapshot.execute("SELECT count(*) FROM t")
        await cursor.fetchall()


async def pool_fetch(pool: aiolibsql.ConnectionPool, n: int) -> None:
    cursor = await pool.execute(FETCH)
    assert len(await cursor.fetchall()) == FETCHED_ROWS


POOL_SCENARIOS: dict[str, Scenario] = {
    "write": pool_write,
    "transaction": pool_transaction,
    "snapshot": pool_snapshot,
    "fetch_all": pool_fetch,
}


@pytest.mark.parametrize("where", ["file", "remote"])
@pytest.mark.parametrize("scenario", list(POOL_SCENARIOS))
async def test_a_pool_survives_cancellation_at_every_await(tmp_path: Path, scenario: str, where: str) -> None:
    with database(where, tmp_path) as target:
        await pool_survives_cancellation_at_every_await(target, scenario)


async def pool_survives_cancellation_at_every_await(target: str, scenario: str) -> None:
    async with aiolibsql.create_pool(target, size=2, timeout=STEP_LIMIT_SECONDS) as pool:
        await pool.execute("CREATE TABLE t(x INTEGER)")
        for turns in range(MOST_TURNS):
            n = turns + 1
            finished = await cancelled_after(turns, POOL_SCENARIOS[scenario](pool, n))
            rows = await asyncio.wait_for(pool.execute("SELECT x FROM t WHERE abs(x) = ?", (n,)), STEP_LIMIT_SECONDS)
            found = await rows.fetchall()
            assert len(found) in (0, 1 if scenario == "write" else 2), found
            if finished and scenario in ("write", "transaction"):
                assert found, f"a write that finished after {turns} turns is missing"
            # Nothing is left gated or pinned: a transaction and a snapshot
            # still start (the suite's own timeout guards against a hang).
            async with pool.transaction() as tx:
                await tx.execute("SELECT 1")
            async with pool.snapshot() as snapshot:
                await snapshot.execute("SELECT 1")
            if finished:
                break


async def test_closing_cancelled_at_every_await_still_closes(tmp_path: Path) -> None:
    # From one turn on: a task cancelled before its first turn never starts,
    # as with any coroutine, so there is no close to complete.
    for turns in range(1, 50):
        conn = await aiolibsql.connect(tmp_path / "close.db")
        await conn.execute("CREATE TABLE IF NOT EXISTS t(x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        await cancelled_after(turns, conn.close())
        # The close went through even though its task was cancelled.
        with pytest.raises(aiolibsql.ProgrammingError):
            await asyncio.wait_for(conn.execute("SELECT 1"), STEP_LIMIT_SECONDS)
        pool = await aiolibsql.create_pool(tmp_path / "close-pool.db", size=2)
        await cancelled_after(turns, pool.close())
        with pytest.raises(aiolibsql.ProgrammingError):
            await asyncio.wait_for(pool.execute("SELECT 1"), STEP_LIMIT_SECONDS)
