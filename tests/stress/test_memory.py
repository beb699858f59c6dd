"""Memory stays flat over a million operations: nothing per statement is
kept once its result is gone, on a connection or through the pool, and over
a hundred thousand on a remote connection. Run once, on asyncio's loop: a
leak does not depend on the loop."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from pathlib import Path

from servers.launch import hrana_server

import aiolibsql

OPERATIONS = 1_000_000
# A leak of 20 bytes per operation would exceed this.
ALLOWED_GROWTH_BYTES = 20 * OPERATIONS


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def growth_over(operation: Callable[[int], Awaitable[object]], operations: int = OPERATIONS) -> int:
    warm_up = operations // 10
    for n in range(warm_up):
        await operation(n)
    gc.collect()
    before = resident_bytes()
    for n in range(warm_up, operations):
        await operation(n)
    gc.collect()
    return resident_bytes() - before


def test_a_million_executes_and_fetches_on_a_connection_keep_memory_flat(tmp_path: Path) -> None:
    asyncio.run(connection_growth(tmp_path))


def test_a_million_pool_statements_keep_memory_flat(tmp_path: Path) -> None:
    asyncio.run(pool_growth(tmp_path))


def test_a_hundred_thousand_remote_statements_keep_memory_flat() -> None:
    with hrana_server() as url:
        asyncio.run(remote_growth(url))


async def connection_growth(tmp_path: Path) -> None:
    async with aiolibsql.connect(tmp_path / "flat.db") as conn:
        await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        await conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"value {i}") for i in range(1000)))
        await conn.commit()

        async def read(n: int) -> object:
            cursor = await conn.execute("SELECT id, v FROM t WHERE id = ?", (n % 1000,))
            return await cursor.fetchone()

        assert await growth_over(read) < ALLOWED_GROWTH_BYTES


async def pool_growth(tmp_path: Path) -> None:
    async with aiolibsql.create_pool(tmp_path / "flat.db", size=2) as pool:
        await pool.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        await pool.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"value {i}") for i in range(1000)])

        async def read_or_write(n: int) -> object:
            if n % 100 == 0:
                return await pool.execute("UPDATE t SET v = ? WHERE id = ?", (f"new {n}", n % 1000))
            cursor = await pool.execute("SELECT id, v FROM t WHERE id = ?", (n % 1000,))
            return await cursor.fetchall()

        assert await growth_over(read_or_write) < ALLOWED_GROWTH_BYTES


# Each remote statement is a round trip to a server in Python: a tenth as
# many, with five times the allowance per operation (still a leak of one
# small allocation per request would exceed it).
REMOTE_OPERATIONS = 100_000
REMOTE_ALLOWED_GROWTH_BYTES = 100 * REMOTE_OPERATIONS


async def remote_growth(url: str) -> None:
    async with aiolibsql.connect(url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        await conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"value {i}") for i in range(1000)))

        async def read_or_write(n: int) -> object:
            if n % 10 == 0:
                return await conn.execute("UPDATE t SET v = ? WHERE id = ?", (f"new {n}", n % 1000))
            cursor = await conn.execute("SELECT id, v FROM t WHERE id = ?", (n % 1000,))
            return await cursor.fetchone()

        assert await growth_over(read_or_write, REMOTE_OPERATIONS) < REMOTE_ALLOWED_GROWTH_BYTES
