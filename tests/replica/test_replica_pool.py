"""A pool on an embedded replica: reads on the local file, writes and
transactions on the primary, and every task reads the writes that returned
before it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import control
from servers.launch import sync_primary

import aiolibsql

TOKEN = "pool-token"


@pytest.fixture
def primary() -> Iterator[str]:
    with sync_primary("--auth-token", TOKEN) as url:
        yield url


def on_primary(url: str, *statements: str) -> None:
    control.on_primary(url, TOKEN, *statements)


def primary_rows(url: str) -> list[tuple[Any, ...]]:
    return control.rows_on_primary(url, TOKEN)


def replica_pool(url: str, path: Path, **options: Any) -> Any:
    return aiolibsql.create_pool(str(path), size=3, sync_url=url, auth_token=TOKEN, **options)


async def test_a_replica_pool_reads_locally_writes_through_the_primary_and_reads_its_writes(
    primary: str, tmp_path: Path
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (0)")
    async with replica_pool(primary, tmp_path / "r.db") as pool:
        assert pool.is_replica and not pool.is_remote
        assert await (await pool.execute("SELECT x FROM t")).fetchall() == [(0,)]

        async def write_then_read(value: int) -> list[Any]:
            await pool.execute("INSERT INTO t VALUES (?)", (value,))
            return await (await pool.execute("SELECT x FROM t WHERE x = ?", (value,))).fetchall()

        seen = await asyncio.gather(*(write_then_read(value) for value in range(1, 21)))
        assert seen == [[(value,)] for value in range(1, 21)]
        await pool.executemany("INSERT INTO t VALUES (?)", [(100,), (101,)])
        assert await (await pool.execute("SELECT count(*) FROM t")).fetchall() == [(23,)]
    assert len(primary_rows(primary)) == 23


async def test_a_replica_pool_runs_transactions_on_the_primary_and_snapshots_locally(
    primary: str, tmp_path: Path
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica_pool(primary, tmp_path / "r.db") as pool:
        async with pool.transaction() as transaction:
            await transaction.execute("INSERT INTO t VALUES (1)")
            assert await (await transaction.execute("SELECT x FROM t")).fetchall() == [(1,)]
        async with pool.snapshot() as snapshot:
            assert await (await snapshot.execute("SELECT x FROM t")).fetchall() == [(1,)]
        with pytest.raises(aiolibsql.ProgrammingError):
            await pool.execute("BEGIN")
    assert primary_rows(primary) == [(1,)]


async def test_a_replica_pool_syncs_and_reopens_from_its_files(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica_pool(primary, tmp_path / "r.db") as pool:
        on_primary(primary, "INSERT INTO t VALUES (2)")
        assert (await pool.sync()).frames_pulled > 0
        assert await (await pool.execute("SELECT x FROM t ORDER BY x")).fetchall() == [(1,), (2,)]
    # Closing left the WAL alone: the replica reopens as a replica.
    async with aiolibsql.connect(str(tmp_path / "r.db"), sync_url=primary, auth_token=TOKEN) as conn:
        assert await conn.execute_fetchall("SELECT x FROM t ORDER BY x") == [(1,), (2,)]
        assert (await conn.sync()).frames_pulled == 0


async def test_a_replica_pool_refuses_offline_and_a_plain_pool_refuses_sync(primary: str, tmp_path: Path) -> None:
    with pytest.raises(aiolibsql.NotSupportedError, match="offline"):
        aiolibsql.create_pool(str(tmp_path / "r.db"), sync_url=primary, offline=True)
    async with aiolibsql.create_pool(str(tmp_path / "plain.db")) as pool:
        with pytest.raises(aiolibsql.NotSupportedError, match="embedded replicas"):
            await pool.sync()


async def test_closing_a_replica_pool_stops_a_sync_stalled_at_the_primary(primary: str, tmp_path: Path) -> None:
    from servers.control import inject, release_stalled, wait_until_stalling

    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    pool = await aiolibsql.create_pool(str(tmp_path / "r.db"), size=2, sync_url=primary, auth_token=TOKEN, timeout=60)
    inject(primary, "stall")
    sync = asyncio.ensure_future(pool.sync())
    await asyncio.to_thread(wait_until_stalling, primary)
    await asyncio.wait_for(pool.close(), 10)
    with pytest.raises(aiolibsql.OperationalError, match="interrupted"):
        await sync
    release_stalled(primary)
