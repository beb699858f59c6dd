"""Transactions on a remote database, in every transaction-control mode, and
what they cost in round trips."""

from __future__ import annotations

import pytest
from servers.control import round_trips_served, served
from servers.launch import Remote, hrana_server, tursodb

import aiolibsql
import aiolibsql.dbapi as dbapi


async def count(conn: aiolibsql.Connection) -> int:
    [(rows,)] = await conn.execute_fetchall("SELECT count(*) FROM t")
    return int(rows)


@pytest.mark.needs("batons", "hrana3")
async def test_legacy_control_begins_before_dml_and_rollback_undoes_it(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn, aiolibsql.connect(remote.url) as other:
        await conn.execute("CREATE TABLE t (x)")
        assert not conn.in_transaction
        await conn.execute("INSERT INTO t VALUES (1)")
        assert conn.in_transaction
        assert await count(other) == 0  # not committed: another connection does not see it
        await conn.rollback()
        assert not conn.in_transaction
        assert await count(conn) == 0
        await conn.execute("INSERT INTO t VALUES (2)")
        await conn.commit()
        assert await count(other) == 1


@pytest.mark.needs("batons", "hrana3")
async def test_manual_control_keeps_a_transaction_open_across_commits(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=False) as conn, aiolibsql.connect(remote.url) as other:
        assert conn.in_transaction
        await conn.execute("CREATE TABLE t (x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.commit()
        assert conn.in_transaction
        assert await count(other) == 1
        await conn.execute("INSERT INTO t VALUES (2)")
        await conn.rollback()
        assert conn.in_transaction
        assert await count(other) == 1


@pytest.mark.needs("batons", "hrana3")
async def test_autocommit_control_commits_each_statement_and_explicit_begin_still_works(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn, aiolibsql.connect(remote.url) as other:
        await conn.execute("CREATE TABLE t (x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        assert not conn.in_transaction
        assert await count(other) == 1
        await conn.execute("BEGIN")
        assert conn.in_transaction
        await conn.execute("INSERT INTO t VALUES (2)")
        assert await count(other) == 1
        await conn.execute("COMMIT")
        assert not conn.in_transaction
        assert await count(other) == 2


@pytest.mark.needs("batons", "hrana3")
async def test_switching_autocommit_on_commits_the_open_transaction(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn, aiolibsql.connect(remote.url) as other:
        await conn.execute("CREATE TABLE t (x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        conn.autocommit = True
        assert await count(conn) == 1
        assert not conn.in_transaction
        assert await count(other) == 1


@pytest.mark.needs("batons", "hrana3", "faults")
async def test_a_transaction_of_k_statements_costs_k_plus_one_round_trips(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as setup:
        await setup.execute("CREATE TABLE t (x)")
    async with aiolibsql.connect(remote.url) as conn:
        before = round_trips_served(remote)
        for x in range(10):
            await conn.execute("INSERT INTO t VALUES (?)", (x,))
        await conn.commit()
        assert round_trips_served(remote) - before == 11
        before = round_trips_served(remote)
        await conn.execute("SELECT 1")
        await conn.executemany("INSERT INTO t VALUES (?)", [(x,) for x in range(1000)])
        await conn.commit()
        assert round_trips_served(remote) - before == 3
        assert await count(conn) == 1010


@pytest.mark.needs("batons", "hrana3", "sequence")
async def test_executescript_commits_first_then_runs_every_statement(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn, aiolibsql.connect(remote.url) as other:
        await conn.execute("CREATE TABLE t (x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.executescript("INSERT INTO t VALUES (2); INSERT INTO t VALUES (3);")
        assert await count(other) == 3
        with pytest.raises(aiolibsql.OperationalError, match="no such table"):
            await conn.executescript("INSERT INTO t VALUES (4); INSERT INTO nope VALUES (5);")


@pytest.mark.needs("row_counts")
async def test_rowcount_and_lastrowid_come_from_the_server(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x)")
        cursor = await conn.execute("INSERT INTO t (x) VALUES (1)")
        assert (cursor.rowcount, cursor.lastrowid) == (1, 1)
        await conn.execute("INSERT INTO t (x) VALUES (2)")
        cursor = await conn.execute("UPDATE t SET x = x + 1")
        assert cursor.rowcount == 2
        cursor = await conn.execute("SELECT * FROM t")
        assert cursor.rowcount == -1
        cursor = await conn.executemany("INSERT INTO t (x) VALUES (?)", [(3,), (4,), (5,)])
        assert cursor.rowcount == 3


@pytest.mark.needs("named_args")
async def test_named_parameters_bind_by_name(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        assert await conn.execute_fetchall("SELECT :a, @b, $c", {"a": 1, "b": "two", "c": None}) == [(1, "two", None)]


@pytest.mark.needs("batons", "hrana3")
def test_the_blocking_module_runs_transactions_remotely(remote: Remote) -> None:
    conn = dbapi.connect(remote.url)
    other = dbapi.connect(remote.url, autocommit=True)
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        assert conn.in_transaction
        assert other.execute("SELECT count(*) FROM t").fetchone() == (0,)
        conn.commit()
        assert other.execute("SELECT count(*) FROM t").fetchone() == (1,)
    finally:
        conn.close()
        other.close()


@pytest.mark.needs("hrana3")
async def test_executemany_costs_one_round_trip_per_few_mib_of_parameters(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t (x)")
        before = round_trips_served(remote)
        await conn.executemany("INSERT INTO t VALUES (?)", ((i,) for i in range(20_000)))
        assert round_trips_served(remote) - before == 1
        before = round_trips_served(remote)
        text = "x" * 100_000
        await conn.executemany("INSERT INTO t VALUES (?)", ((text,) for _ in range(60)))
        assert round_trips_served(remote) - before == 3  # about 2 MiB of text each
        assert await count(conn) == 20_060


async def test_a_transaction_follows_its_stream_to_the_base_url_the_server_moves_it_to() -> None:
    with hrana_server("--move-streams") as url:
        async with aiolibsql.connect(url) as conn, aiolibsql.connect(url) as other:
            await conn.execute("CREATE TABLE t (x)")
            await conn.execute("INSERT INTO t VALUES (1)")
            await conn.execute("INSERT INTO t VALUES (2)")
            assert conn.in_transaction
            await conn.commit()
            assert await count(other) == 2
            await conn.execute("INSERT INTO t VALUES (3)")
            await conn.rollback()
            assert await count(other) == 2
        # The second insert, the commit and the rollback went where the stream was moved.
        assert served(url, "moved_pipelines") >= 3


async def test_a_server_keeping_no_streams_refuses_a_transaction_rather_than_strand_it() -> None:
    # tursodb answers every request on the one connection all its clients
    # share: a BEGIN sent there would stay open for everyone, unreachable.
    with tursodb() as url:
        async with (
            aiolibsql.connect(url) as legacy,
            aiolibsql.connect(url, autocommit=True) as conn,
            aiolibsql.create_pool(url, size=2) as pool,
        ):
            await conn.execute("CREATE TABLE t (x TEXT UNIQUE)")
            with pytest.raises(aiolibsql.NotSupportedError, match="keeps no stream"):
                await legacy.execute("INSERT INTO t VALUES ('a')")
            assert not legacy.in_transaction
            with pytest.raises(aiolibsql.NotSupportedError, match="keeps no stream"):
                await conn.execute("BEGIN")
            with pytest.raises(aiolibsql.NotSupportedError, match="keeps no stream"):
                async with pool.transaction() as tx:
                    await tx.execute("INSERT INTO t VALUES ('b')")
            # Nothing was left open: autocommit writes and atomic batches work.
            await conn.execute("INSERT INTO t VALUES ('c')")
            with pytest.raises(aiolibsql.IntegrityError):
                await pool.executemany("INSERT INTO t VALUES (?)", [("d",), ("c",)])
            assert await conn.execute_fetchall("SELECT x FROM t") == [("c",)]
