"""Network faults give prompt, clear OperationalErrors, never a crash, a hang
or a blocked event loop, and the connection goes on with the next statement."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from servers.control import inject, release_stalled, wait_until_stalling
from servers.launch import Remote, free_port, hrana_server, hrana_server_process

import aiolibsql
import aiolibsql.dbapi as dbapi

pytestmark = pytest.mark.needs("faults", "batons", "hrana3")


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("status500", "answered HTTP 500"),
        ("status401", "authentication with the remote database failed"),
        ("garbage", "not valid Hrana"),
        ("reset", "request to the remote database failed"),
    ],
)
async def test_a_fault_fails_only_its_statement(remote: Remote, kind: str, message: str) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t (x)")
        inject(remote, kind)
        with pytest.raises(aiolibsql.OperationalError, match=message):
            await conn.execute("INSERT INTO t VALUES (1)")
        assert await conn.execute_fetchall("SELECT 2") == [(2,)]


async def test_a_read_whose_connection_broke_is_sent_once_more_and_succeeds(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        inject(remote, "reset")
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]
        inject(remote, "reset", count=2)
        with pytest.raises(aiolibsql.OperationalError, match="request to the remote database failed"):
            await conn.execute("SELECT 1")


async def test_a_server_that_stalls_fails_the_statement_at_the_timeout_without_blocking_the_loop(
    remote: Remote,
) -> None:
    async with aiolibsql.connect(remote.url, timeout=0.5) as conn:
        inject(remote, "stall")
        stalled = asyncio.ensure_future(conn.execute("SELECT 1"))
        await asyncio.to_thread(wait_until_stalling, remote)
        # The loop keeps serving other work while the request waits.
        async with aiolibsql.connect(remote.url) as other:
            assert await other.execute_fetchall("SELECT 3") == [(3,)]
        assert not stalled.done()
        with pytest.raises(aiolibsql.OperationalError, match="did not answer in time"):
            await stalled
        assert await conn.execute_fetchall("SELECT 2") == [(2,)]


async def test_a_slow_server_is_waited_for(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        inject(remote, "slow", delay=0.2)
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


async def test_cancelling_a_stalled_statement_aborts_its_request_at_once(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        inject(remote, "stall")
        stalled = asyncio.ensure_future(conn.execute("SELECT 1"))
        await asyncio.to_thread(wait_until_stalling, remote)
        stalled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(stalled, 30)
        assert await conn.execute_fetchall("SELECT 2") == [(2,)]


async def test_a_transaction_lost_to_a_fault_is_reported_until_rolled_back(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn, aiolibsql.connect(remote.url, autocommit=True) as other:
        await other.execute("CREATE TABLE t (x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        assert conn.in_transaction
        inject(remote, "reset")
        with pytest.raises(aiolibsql.OperationalError):
            await conn.execute("INSERT INTO t VALUES (2)")
        # Not silently outside the transaction: every statement says it is
        # gone, and in_transaction holds until it is ended.
        with pytest.raises(aiolibsql.OperationalError, match="transaction on the remote database was lost"):
            await conn.execute("INSERT INTO t VALUES (3)")
        assert conn.in_transaction
        with pytest.raises(aiolibsql.OperationalError, match="lost"):
            await conn.commit()
        await conn.rollback()
        assert not conn.in_transaction
        # None of it was committed. (The server holds the lost stream's locks
        # until it expires the stream, so this reads rather than writes.)
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(0,)]
        assert await other.execute_fetchall("SELECT count(*) FROM t") == [(0,)]


async def test_a_statement_cancelled_inside_a_transaction_finishes_unseen_and_the_transaction_stays_whole(
    remote: Remote,
) -> None:
    # Aborting its request would orphan the stream, and the server would hold
    # the write lock until it expired the stream, blocking every writer.
    async with aiolibsql.connect(remote.url) as conn, aiolibsql.connect(remote.url, autocommit=True) as other:
        await other.execute("CREATE TABLE t (x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        inject(remote, "stall")
        stalled = asyncio.ensure_future(conn.execute("INSERT INTO t VALUES (2)"))
        await asyncio.to_thread(wait_until_stalling, remote)
        stalled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stalled
        assert conn.in_transaction
        await asyncio.to_thread(release_stalled, remote)
        # It ran, inside the transaction, which goes on.
        assert await conn.execute_fetchall("SELECT x FROM t ORDER BY x") == [(1,), (2,)]
        await conn.rollback()
        assert not conn.in_transaction
        # The rollback ended it on the server: its lock is gone at once.
        await other.execute("INSERT INTO t VALUES (3)")
        assert await other.execute_fetchall("SELECT x FROM t") == [(3,)]


async def test_a_wrong_token_is_an_authentication_error_that_never_shows_the_token() -> None:
    with hrana_server("--auth-token", "right-token") as url:
        async with aiolibsql.connect(url, auth_token="wrong-token-1234") as conn:
            with pytest.raises(aiolibsql.OperationalError, match="authentication") as raised:
                await conn.execute("SELECT 1")
            assert "wrong-token-1234" not in str(raised.value)
            assert "wrong-token-1234" not in repr(conn)
        async with aiolibsql.connect(url + "?authToken=right-token") as conn:
            assert await conn.execute_fetchall("SELECT 1") == [(1,)]


async def test_a_server_killed_mid_result_delivers_the_rows_that_arrived_then_fails_until_it_is_back(
    tmp_path: Path,
) -> None:
    rows = 20_000
    # About 80 MB: far more than the socket buffers hold when the server dies.
    fill = f"""WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {rows})
               INSERT INTO k SELECT i, hex(randomblob(2000)) FROM c"""
    options = ("--database", str(tmp_path / "primary.db"), "--port", str(free_port()))
    with hrana_server_process(*options) as (url, process):
        async with aiolibsql.connect(url, autocommit=True) as conn:
            await conn.execute("CREATE TABLE k (i INTEGER, v TEXT)")
            await conn.execute(fill)
            cursor = await conn.execute("SELECT i, v FROM k ORDER BY i")
            assert (await cursor.fetchone())[0] == 1
            process.kill()
            process.wait()
            seen = 1
            with pytest.raises(aiolibsql.OperationalError, match="request to the remote database failed"):
                while (row := await cursor.fetchone()) is not None:
                    seen += 1
                    assert row[0] == seen
            assert seen < rows
            with pytest.raises(aiolibsql.OperationalError, match="request to the remote database failed"):
                await conn.execute("SELECT 1")
            with hrana_server(*options):
                assert await conn.execute_fetchall("SELECT count(*) FROM k") == [(rows,)]


def test_the_blocking_module_rolls_back_a_lost_transaction_and_goes_on(remote: Remote) -> None:
    conn = dbapi.connect(remote.url)
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.execute("INSERT INTO t VALUES (1)")
        inject(remote, "reset")
        with pytest.raises(dbapi.OperationalError):
            conn.execute("INSERT INTO t VALUES (2)")
        assert conn.in_transaction
        with pytest.raises(dbapi.OperationalError, match="transaction on the remote database was lost"):
            conn.execute("SELECT 1")
        conn.rollback()
        assert not conn.in_transaction
        assert conn.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    finally:
        conn.close()
