"""Connection.execute, ConnectionPool.execute and fetchone are native: what
they return is not a Python coroutine but behaves as one. It runs nothing
until it is first awaited, and nothing at all when it is cancelled or closed
first; asyncio takes it wherever it takes a coroutine; and it keeps the order
of calls on one connection."""

from __future__ import annotations

import asyncio
import collections.abc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import aiolibsql

KINDS = ("connection", "pool")


@asynccontextmanager
async def database(kind: str, path: str) -> AsyncIterator[Any]:
    """A connection or a pool with t(x) holding 1, 2 and 3."""
    if kind == "connection":
        async with aiolibsql.connect(path, isolation_level=None) as conn:
            await conn.execute("CREATE TABLE t(x INTEGER PRIMARY KEY)")
            await conn.execute("INSERT INTO t VALUES (1), (2), (3)")
            yield conn
    else:
        async with aiolibsql.create_pool(path, size=3) as pool:
            await pool.execute("CREATE TABLE t(x INTEGER PRIMARY KEY)")
            await pool.execute("INSERT INTO t VALUES (1), (2), (3)")
            yield pool


@pytest.mark.parametrize("kind", KINDS)
async def test_execute_and_fetchone_return_what_asyncio_takes_as_coroutines(kind: str, db_path: str) -> None:
    async with database(kind, db_path) as db:
        call = db.execute("SELECT x FROM t ORDER BY x")
        assert asyncio.iscoroutine(call)
        assert isinstance(call, collections.abc.Coroutine)
        cursor = await asyncio.create_task(call)
        fetch = cursor.fetchone()
        assert asyncio.iscoroutine(fetch)
        assert await asyncio.wait_for(fetch, 10) == (1,)
        assert await asyncio.gather(cursor.fetchone(), cursor.fetchone(), cursor.fetchone()) == [(2,), (3,), None]


@pytest.mark.parametrize("kind", KINDS)
async def test_a_fetchone_cancelled_before_it_started_takes_no_row(kind: str, db_path: str) -> None:
    async with database(kind, db_path) as db:
        cursor = await db.execute("SELECT x FROM t ORDER BY x")
        task = asyncio.create_task(cursor.fetchone())
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await cursor.fetchone() == (1,)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_call_closed_or_thrown_into_before_it_started_never_runs(kind: str, db_path: str) -> None:
    async with database(kind, db_path) as db:
        cursor = await db.execute("SELECT x FROM t ORDER BY x")
        cursor.fetchone().close()
        with pytest.raises(KeyError):
            cursor.fetchone().throw(KeyError("stop"))
        with pytest.raises(ValueError):
            cursor.fetchone().throw(ValueError, ValueError("legacy form"), None)
        never = db.execute("DELETE FROM t")
        never.close()
        assert await cursor.fetchone() == (1,)
        assert await (await db.execute("SELECT count(*) FROM t")).fetchone() == (3,)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_call_awaited_twice_raises_instead_of_running_again(kind: str, db_path: str) -> None:
    async with database(kind, db_path) as db:
        cursor = await db.execute("SELECT x FROM t ORDER BY x")
        fetch = cursor.fetchone()
        assert await fetch == (1,)
        with pytest.raises(RuntimeError):
            await fetch
        assert await cursor.fetchone() == (2,)


async def test_calls_gathered_on_one_connection_run_in_the_order_they_were_made(db_path: str) -> None:
    async with database("connection", db_path) as conn:
        insert, count = await asyncio.gather(
            conn.execute("INSERT INTO t VALUES (4)"), conn.execute("SELECT count(*) FROM t")
        )
        assert insert.rowcount == 1
        assert await count.fetchone() == (4,)


@pytest.mark.parametrize("kind", KINDS)
async def test_execute_takes_its_arguments_by_keyword_and_refuses_wrong_ones_when_called(
    kind: str, db_path: str
) -> None:
    async with database(kind, db_path) as db:
        cursor = await db.execute(sql="SELECT x FROM t WHERE x = ?", parameters=(2,))
        assert await cursor.fetchone() == (2,)
        with pytest.raises(TypeError, match="missing required argument 'sql'"):
            db.execute()
        with pytest.raises(TypeError, match="at most 2 arguments"):
            db.execute("SELECT 1", (), ())
        with pytest.raises(TypeError, match="unexpected keyword argument 'params'"):
            db.execute("SELECT ?", params=(1,))
        with pytest.raises(TypeError, match="multiple values for argument 'sql'"):
            db.execute("SELECT 1", sql="SELECT 2")
        # Bad SQL and bad parameters are the statement's errors, raised when awaited.
        call = db.execute(42)
        with pytest.raises(aiolibsql.ProgrammingError):
            await call
        with pytest.raises(aiolibsql.ProgrammingError):
            await db.execute("SELECT ?", object())
        assert await (await db.execute("SELECT count(*) FROM t")).fetchone() == (3,)


@pytest.mark.parametrize("kind", KINDS)
async def test_the_row_factory_shapes_rows_fetched_on_the_fast_path_and_its_errors_propagate(
    kind: str, db_path: str
) -> None:
    async with database(kind, db_path) as db:
        db.row_factory = lambda cursor, row: {"x": row[0], "described": cursor.description[0][0]}
        cursor = await db.execute("SELECT x FROM t ORDER BY x")
        assert await cursor.fetchone() == {"x": 1, "described": "x"}

        def broken(cursor: Any, row: tuple[Any, ...]) -> Any:
            raise ZeroDivisionError("factory")

        cursor.row_factory = broken
        with pytest.raises(ZeroDivisionError):
            await cursor.fetchone()
        cursor.row_factory = None
        assert await cursor.fetchone() == (3,)


@pytest.mark.parametrize("kind", KINDS)
async def test_fetchone_after_close_raises_even_for_rows_already_here(kind: str, db_path: str) -> None:
    async with database(kind, db_path) as db:
        cursor = await db.execute("SELECT x FROM t ORDER BY x")
        await cursor.close()
        with pytest.raises(aiolibsql.ProgrammingError, match="closed cursor"):
            await cursor.fetchone()
        cursor = await db.execute("SELECT x FROM t ORDER BY x")
    with pytest.raises(aiolibsql.ProgrammingError, match="closed"):
        await cursor.fetchone()


async def test_a_pending_autocommit_change_goes_before_an_inline_read_and_its_error_is_raised(
    db_path: str,
) -> None:
    async with database("connection", db_path) as conn:
        conn.autocommit = False
        cursor = await conn.execute("SELECT count(*) FROM t")
        assert await cursor.fetchone() == (3,)
        assert conn.in_transaction


async def test_cursor_state_set_from_python_is_checked(db_path: str) -> None:
    async with database("connection", db_path) as conn:
        cursor = await conn.execute("SELECT x FROM t")
        with pytest.raises(TypeError):
            cursor._rows = "not rows"  # type: ignore[assignment]
        with pytest.raises(TypeError):
            cursor.arraysize = "many"  # type: ignore[assignment]
        assert await cursor.fetchone() == (1,)


SLOW_READ = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3000000) SELECT count(*) FROM c"


async def test_a_queued_write_closed_or_thrown_into_after_it_started_still_commits_unobserved(db_path: str) -> None:
    async with database("connection", db_path) as conn:
        busy = asyncio.create_task(conn.execute(SLOW_READ))
        await asyncio.sleep(0)  # the slow read is under way: the next writes queue behind it
        closed = conn.execute("INSERT INTO t VALUES (10)")
        assert closed.send(None) is not None  # suspended on the queued write's future
        closed.close()
        thrown = conn.execute("INSERT INTO t VALUES (11)")
        assert thrown.send(None) is not None
        with pytest.raises(KeyError):
            thrown.throw(KeyError("stop waiting"))
        await (await busy).fetchone()
        cursor = await conn.execute("SELECT x FROM t WHERE x >= 10 ORDER BY x")
        assert await cursor.fetchall() == [(10,), (11,)]


async def test_a_cancelled_queued_write_never_runs(db_path: str) -> None:
    async with database("connection", db_path) as conn:
        busy = asyncio.create_task(conn.execute(SLOW_READ))
        await asyncio.sleep(0)
        write = asyncio.create_task(conn.execute("INSERT INTO t VALUES (12)"))
        await asyncio.sleep(0)  # the write is queued behind the slow read
        write.cancel()
        with pytest.raises(asyncio.CancelledError):
            await write
        await (await busy).fetchone()
        assert await (await conn.execute("SELECT count(*) FROM t WHERE x = 12")).fetchone() == (0,)
