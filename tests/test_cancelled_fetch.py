"""A fetch cancelled while it waits for the next chunk of rows leaves the
cursor where it was: every row it had taken, and the chunk it asked for, are
there for the next fetch. On connections and pool cursors alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

import aiolibsql
from aiolibsql.cursor import ResultReader

ROW_COUNT = 30_000
SELECT_ALL = "SELECT x FROM t ORDER BY x"
# More than the first chunk holds, so fetching this many must wait for another.
BEYOND_FIRST_CHUNK = 1_000


async def fill(execute: Callable[[str], Awaitable[Any]]) -> None:
    await execute("CREATE TABLE t(x INTEGER PRIMARY KEY)")
    await execute(
        "INSERT INTO t SELECT value FROM (WITH RECURSIVE c(value) AS "
        f"(SELECT 1 UNION ALL SELECT value + 1 FROM c WHERE value < {ROW_COUNT}) SELECT value FROM c)"
    )


@asynccontextmanager
async def reader_of(kind: str, path: str) -> AsyncIterator[ResultReader]:
    if kind == "connection":
        async with aiolibsql.connect(path) as conn:
            await fill(conn.execute)
            await conn.commit()
            yield await conn.execute(SELECT_ALL)
    else:
        async with aiolibsql.create_pool(path, size=2) as pool:
            await fill(pool.execute)
            yield await pool.execute(SELECT_ALL)


async def first_row(cursor: ResultReader) -> Any:
    async for row in cursor:
        return row
    return None


FETCHES: dict[str, Callable[[ResultReader], Awaitable[Any]]] = {
    "fetchone": lambda cursor: cursor.fetchone(),
    "fetchmany": lambda cursor: cursor.fetchmany(BEYOND_FIRST_CHUNK),
    "fetchall": lambda cursor: cursor.fetchall(),
    "async_for": first_row,
}


async def cancel_while_waiting_for_a_chunk(fetch: Awaitable[Any]) -> None:
    task = asyncio.ensure_future(fetch)
    # One pass of the loop runs the task up to its wait for the next chunk.
    await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("kind", ["connection", "pool"])
@pytest.mark.parametrize("fetch", list(FETCHES))
async def test_a_cancelled_fetch_leaves_every_row_for_the_next_fetch(db_path: str, kind: str, fetch: str) -> None:
    async with reader_of(kind, db_path) as cursor:
        # Take part of the first chunk, so the cancelled fetch holds rows of
        # its own before it waits (except fetchone, which needs none).
        head = await cursor.fetchmany(100)
        if fetch in ("fetchone", "async_for"):
            head += rows_left_in_current_chunk(cursor)
        await cancel_while_waiting_for_a_chunk(FETCHES[fetch](cursor))
        rest = await cursor.fetchall()
        assert [x for (x,) in head + rest] == list(range(1, ROW_COUNT + 1))


def rows_left_in_current_chunk(cursor: ResultReader) -> list[Any]:
    """The rows left in the chunk the cursor holds, without waiting for more."""
    rows = cursor._rows
    assert rows is not None
    return list(rows.fetchall())


@pytest.mark.parametrize("kind", ["connection", "pool"])
async def test_repeated_cancelled_fetches_lose_no_rows(db_path: str, kind: str) -> None:
    async with reader_of(kind, db_path) as cursor:
        seen: list[Any] = []
        for _ in range(5):
            seen += await cursor.fetchmany(300)
            task = asyncio.ensure_future(cursor.fetchmany(BEYOND_FIRST_CHUNK * 10))
            await asyncio.sleep(0)
            # A chunk that an earlier cancelled fetch left may already be
            # there, so this fetch may finish before the cancellation.
            task.cancel()
            try:
                seen += await task
            except asyncio.CancelledError:
                pass
        seen += await cursor.fetchall()
        assert [x for (x,) in seen] == list(range(1, ROW_COUNT + 1))


async def test_closing_a_cursor_with_a_cancelled_fetch_leaves_the_connection_usable(db_path: str) -> None:
    async with aiolibsql.connect(db_path) as conn:
        await fill(conn.execute)
        cursor = await conn.execute(SELECT_ALL)
        await cursor.fetchmany(256)
        await cancel_while_waiting_for_a_chunk(cursor.fetchall())
        await cursor.close()
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(ROW_COUNT,)]
