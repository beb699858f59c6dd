"""``aiosqlite``: stdlib sqlite3 on a dedicated thread per connection.

aiosqlite has no pool of its own; its pool rows use ``aiosqlitepool``, the
pool package built for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import aiosqlite
import aiosqlitepool

from bench.drivers.base import AsyncConn, Conn, Params, Row, async_driver, dist_version

VERSION = f"{dist_version('aiosqlite', aiosqlite)} (pool: aiosqlitepool {dist_version('aiosqlitepool', aiosqlitepool)})"


async def open_pooled(path: str) -> aiosqlite.Connection:
    """One pooled connection, set up like every other connection of the harness."""
    # isolation_level=None: aiosqlitepool rolls back every connection it takes
    # back, so a write left in sqlite3's implicit transaction would be lost.
    conn = await aiosqlite.connect(path, isolation_level=None)
    cur = await conn.execute("PRAGMA journal_mode=WAL")
    mode = await cur.fetchone()
    await conn.execute("PRAGMA synchronous=NORMAL")
    cur = await conn.execute("PRAGMA synchronous")
    sync = await cur.fetchone()
    if mode is None or str(mode[0]).lower() != "wal" or sync is None or sync[0] != 1:
        await conn.close()
        raise RuntimeError(f"pragmas not applied: journal_mode={mode}, synchronous={sync}")
    return conn


class PoolConn:
    """An aiosqlitepool pool seen as one connection: a checkout per operation."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def execute(self, sql: str, params: Params = ()) -> None:
        async with self.pool.connection() as raw:
            await AsyncConn(raw).execute(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self.pool.connection() as raw:
            return await AsyncConn(raw).fetchone(sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.pool.connection() as raw:
            return await AsyncConn(raw).fetchall(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        async with self.pool.connection() as raw:
            await AsyncConn(raw).executemany(sql, rows)

    async def close(self) -> None:
        await self.pool.close()


async def create_pool(path: str, size: int) -> Conn:
    pool = aiosqlitepool.SQLiteConnectionPool(lambda: open_pooled(path), pool_size=size)
    # aiosqlitepool opens connections lazily, on demand; hold `size` at once so
    # that all are open before timing starts (as the other drivers' pools are).
    async with contextlib.AsyncExitStack() as held:
        for _ in range(size):
            await held.enter_async_context(pool.connection())
    return PoolConn(pool)


DRIVER = replace(
    async_driver(
        aiosqlite,
        name="aiosqlite",
        version=VERSION,
        how="asyncio, one worker thread per connection; pool: aiosqlitepool, a checkout per operation",
        connect_kwargs={"isolation_level": None},
        pool=False,  # aiosqlite has no create_pool; the aiosqlitepool one is set here
    ),
    create_pool=create_pool,
)
