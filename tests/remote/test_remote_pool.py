"""create_pool with a remote URL: statements spread over streams, atomic
batches in one round trip, transactions and snapshots pinning a stream."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from servers.control import inject, round_trips_served, wait_until_stalling
from servers.launch import Remote, hrana_server

import aiolibsql


async def items_pool(remote: Remote, size: int = 4, timeout: float = 5.0) -> aiolibsql.ConnectionPool:
    pool = await aiolibsql.create_pool(remote.url, size=size, timeout=timeout)
    await pool.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    return pool


async def names(pool: aiolibsql.ConnectionPool) -> list[str]:
    cursor = await pool.execute("SELECT name FROM items ORDER BY id")
    return [name for (name,) in await cursor.fetchall()]


async def test_writes_from_many_tasks_spread_over_the_streams_and_all_commit(remote: Remote) -> None:
    async with await items_pool(remote, size=4) as pool:
        assert pool.is_remote and pool.size == 4
        await asyncio.gather(*(pool.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",)) for i in range(100)))
        assert sorted(await names(pool)) == sorted(f"n{i}" for i in range(100))
        busy_streams = [stream for stream in pool.stats()["connections"] if stream["completed"] > 0]
        assert len(busy_streams) > 1
        assert pool.stats()["group_commit"]["groups"] == 0


@pytest.mark.needs("faults")
async def test_a_stalled_request_holds_up_only_its_own_stream(remote: Remote) -> None:
    async with await items_pool(remote, size=3, timeout=30) as pool:
        inject(remote, "stall")
        stalled = asyncio.ensure_future(pool.execute("SELECT 1"))
        await asyncio.to_thread(wait_until_stalling, remote)
        for i in range(10):
            await pool.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",))
        assert len(await names(pool)) == 10
        assert not stalled.done()
        stalled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stalled
        assert (await (await pool.execute("SELECT 2")).fetchall()) == [(2,)]


@pytest.mark.needs("row_counts")
async def test_executemany_commits_every_row_or_none_of_them(remote: Remote) -> None:
    async with await items_pool(remote) as pool:
        cursor = await pool.executemany("INSERT INTO items (name) VALUES (?)", [("a",), ("b",)])
        assert cursor.rowcount == 2
        with pytest.raises(aiolibsql.IntegrityError):
            await pool.executemany("INSERT INTO items (name) VALUES (?)", [("c",), ("a",), ("d",)])
        assert await names(pool) == ["a", "b"]


@pytest.mark.parametrize("sql", ["SELECT ?", "INSERT INTO items (name) VALUES (?) RETURNING id"])
async def test_executemany_of_a_statement_that_returns_rows_is_refused_before_it_runs(remote: Remote, sql: str) -> None:
    async with await items_pool(remote) as pool:
        with pytest.raises(aiolibsql.ProgrammingError, match="can only execute DML"):
            await pool.executemany(sql, [("a",), ("b",)])
        assert await names(pool) == []


async def test_executebatch_commits_every_statement_or_none_of_them(remote: Remote) -> None:
    async with await items_pool(remote) as pool:
        await pool.executebatch([("INSERT INTO items (name) VALUES (?)", ("a",)), ("UPDATE items SET name = 'b'",)])
        assert await names(pool) == ["b"]
        with pytest.raises(aiolibsql.OperationalError, match="no such table"):
            await pool.executebatch([("INSERT INTO items (name) VALUES ('c')",), ("INSERT INTO nope VALUES (1)",)])
        assert await names(pool) == ["b"]
        with pytest.raises(aiolibsql.ProgrammingError, match="transaction of their own"):
            await pool.executebatch([("BEGIN",), ("INSERT INTO items (name) VALUES ('c')",)])
        assert await names(pool) == ["b"]


@pytest.mark.needs("hrana3")
async def test_executemany_of_many_rows_costs_one_round_trip(remote: Remote) -> None:
    async with await items_pool(remote) as pool:
        before = round_trips_served(remote)
        await pool.executemany("INSERT INTO items (name) VALUES (?)", [(f"n{i}",) for i in range(1000)])
        assert round_trips_served(remote) - before == 1
        assert len(await names(pool)) == 1000


@pytest.mark.needs("batons", "hrana3", "row_counts")
async def test_executemany_of_more_than_a_request_holds_goes_in_chunks_and_stays_all_or_nothing(
    remote: Remote,
) -> None:
    text = "x" * 100_000  # 60 rows: about 12 MiB of parameters, three chunks
    async with await items_pool(remote) as pool:
        before = round_trips_served(remote)
        cursor = await pool.executemany("INSERT INTO items (name) VALUES (?)", ((f"{i}{text}",) for i in range(60)))
        # The chunks, with the transaction's BEGIN and COMMIT around them.
        assert 3 <= round_trips_served(remote) - before <= 5
        assert cursor.rowcount == 60
        with pytest.raises(aiolibsql.IntegrityError):
            await pool.executemany(
                "INSERT INTO items (name) VALUES (?)", [(f"{i}{text}",) for i in range(60, 121)] + [("0" + text,)]
            )
        assert len(await names(pool)) == 60


@pytest.mark.needs("batons", "hrana3")
async def test_a_transaction_is_seen_by_other_statements_only_once_it_commits(remote: Remote) -> None:
    async with await items_pool(remote) as pool:
        async with pool.transaction() as tx:
            await tx.execute("INSERT INTO items (name) VALUES ('a')")
            assert (await (await tx.execute("SELECT count(*) FROM items")).fetchall()) == [(1,)]
            assert await names(pool) == []
        assert await names(pool) == ["a"]


@pytest.mark.needs("batons", "hrana3")
async def test_a_transaction_rolls_back_when_its_block_raises_and_its_stream_is_clean_after(remote: Remote) -> None:
    async with await items_pool(remote, size=2) as pool:
        with pytest.raises(RuntimeError):
            async with pool.transaction() as tx:
                await tx.executemany("INSERT INTO items (name) VALUES (?)", [("a",), ("b",)])
                raise RuntimeError("undo")
        # With two streams, one of them held the transaction: statements on
        # both must run outside any transaction now.
        await asyncio.gather(*(pool.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",)) for i in range(10)))
        async with aiolibsql.connect(remote.url) as other:
            assert len(await other.execute_fetchall("SELECT name FROM items")) == 10


@pytest.mark.needs("batons", "hrana3")
async def test_a_transaction_cancelled_mid_statement_rolls_back_and_frees_its_stream(remote: Remote) -> None:
    async with await items_pool(remote, size=2, timeout=30) as pool:
        entered = asyncio.Event()

        async def writes_then_waits() -> None:
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('a')")
                entered.set()
                await asyncio.Event().wait()

        task = asyncio.ensure_future(writes_then_waits())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        async with pool.transaction() as tx:
            await tx.execute("INSERT INTO items (name) VALUES ('b')")
        assert await names(pool) == ["b"]


@pytest.mark.needs("batons", "hrana3", "faults")
async def test_a_transaction_whose_stream_was_lost_fails_its_commit_and_the_pool_goes_on(remote: Remote) -> None:
    async with await items_pool(remote, size=2) as pool:
        with pytest.raises(aiolibsql.OperationalError, match="lost"):
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('a')")
                inject(remote, "reset")
                with pytest.raises(aiolibsql.OperationalError):
                    await tx.execute("INSERT INTO items (name) VALUES ('b')")
        # The server keeps the lost stream's write lock until it expires the
        # stream; reads on every stream, the lost one's too, go on at once.
        counts = await asyncio.gather(*(pool.execute("SELECT count(*) FROM items") for _ in range(4)))
        assert [await cursor.fetchall() for cursor in counts] == [[(0,)]] * 4


@pytest.mark.needs("batons", "hrana3")
async def test_a_snapshot_sees_one_state_while_other_statements_commit(remote: Remote) -> None:
    async with await items_pool(remote) as pool:
        await pool.execute("INSERT INTO items (name) VALUES ('a')")
        async with pool.snapshot() as snapshot:
            await pool.execute("INSERT INTO items (name) VALUES ('b')")
            assert (await (await snapshot.execute("SELECT name FROM items")).fetchall()) == [("a",)]
            with pytest.raises(aiolibsql.OperationalError, match="only reads"):
                await snapshot.execute("INSERT INTO items (name) VALUES ('c')")
        assert await names(pool) == ["a", "b"]


@pytest.mark.needs("batons", "hrana3")
async def test_pins_beyond_all_but_one_stream_wait_then_give_up_with_sqlite_busy(remote: Remote) -> None:
    async with await items_pool(remote, size=2, timeout=0.2) as pool:
        async with pool.snapshot():
            with pytest.raises(aiolibsql.OperationalError) as raised:
                async with pool.snapshot():
                    pass
            assert raised.value.sqlite_errorname == "SQLITE_BUSY"
            # The stream that is never pinned still serves statements.
            await pool.execute("INSERT INTO items (name) VALUES ('a')")
        async with pool.snapshot() as snapshot:
            assert (await (await snapshot.execute("SELECT name FROM items")).fetchall()) == [("a",)]


@pytest.mark.needs("batons", "hrana3")
async def test_a_pin_waiting_for_a_stream_gets_one_when_it_frees(remote: Remote) -> None:
    async with await items_pool(remote, size=2) as pool:
        first_in = asyncio.Event()
        release = asyncio.Event()

        async def hold() -> None:
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('first')")
                first_in.set()
                await release.wait()

        holder = asyncio.ensure_future(hold())
        await first_in.wait()

        async def second() -> None:
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('second')")

        waiting = asyncio.ensure_future(second())
        await asyncio.sleep(0)
        assert not waiting.done()
        release.set()
        await asyncio.gather(holder, waiting)
        assert await names(pool) == ["first", "second"]


async def test_statements_that_would_act_on_one_stream_only_are_refused(remote: Remote) -> None:
    async with await items_pool(remote) as pool:
        for sql in ("BEGIN", "COMMIT", "PRAGMA foreign_keys = ON", "ATTACH 'x.db' AS x"):
            with pytest.raises(aiolibsql.ProgrammingError):
                await pool.execute(sql)
        assert await names(pool) == []


@pytest.mark.needs("batons", "hrana3")
async def test_a_write_through_the_pool_inside_the_tasks_own_transaction_is_refused(remote: Remote) -> None:
    async with await items_pool(remote) as pool:
        async with pool.transaction() as tx:
            with pytest.raises(aiolibsql.ProgrammingError, match=r"own pool\.transaction"):
                await pool.execute("INSERT INTO items (name) VALUES ('a')")
            await tx.execute("INSERT INTO items (name) VALUES ('b')")
        assert await names(pool) == ["b"]


async def test_a_closed_pool_refuses_work_and_closing_twice_is_harmless(remote: Remote) -> None:
    pool = await items_pool(remote)
    assert "remote" in repr(pool)
    await pool.close()
    await pool.close()
    assert "closed" in repr(pool)
    with pytest.raises(aiolibsql.ProgrammingError):
        await pool.execute("SELECT 1")


async def test_a_pool_sends_its_token_and_a_wrong_one_never_shows() -> None:
    with hrana_server("--auth-token", "right-token") as url:
        async with await aiolibsql.create_pool(url, auth_token="wrong-token-1234") as pool:
            with pytest.raises(aiolibsql.OperationalError, match="authentication") as raised:
                await pool.execute("SELECT 1")
            assert "wrong-token-1234" not in str(raised.value)
            assert "wrong-token-1234" not in repr(pool)
        async with await aiolibsql.create_pool(url, auth_token="right-token") as pool:
            assert (await (await pool.execute("SELECT 1")).fetchall()) == [(1,)]


async def test_cancelling_while_a_pool_opens_leaves_nothing_running(remote: Remote) -> None:
    opening = asyncio.ensure_future(aiolibsql.create_pool(remote.url, size=3))
    await asyncio.sleep(0)
    opening.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        pool = await opening
        await pool.close()
    async with await items_pool(remote) as pool:
        assert await names(pool) == []
