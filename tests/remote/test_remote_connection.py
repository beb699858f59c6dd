"""connect(), the blocking module and the Cursor API against remote servers."""

from __future__ import annotations

import asyncio
import math

import pytest
from servers.launch import Remote

import aiolibsql
import aiolibsql.dbapi as dbapi

EXACT_VALUES = [
    None,
    0,
    2**62 + 3,  # an integer a double cannot hold
    -(2**63),
    2**63 - 1,
    0.1,
    -1.5e300,
    "",
    "héllo wörld ☃ \U0001f600",
    "quote ' and \" and \\ and \n newline",
    b"",
    bytes(range(256)),
]


async def test_values_round_trip_exactly_as_parameters(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        for value in EXACT_VALUES:
            rows = await conn.execute_fetchall("SELECT ?", (value,))
            assert rows == [(value,)], value
            assert type(rows[0][0]) is type(value)


async def test_values_round_trip_exactly_through_a_table(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v)")
        await conn.executemany("INSERT INTO t (id, v) VALUES (?, ?)", list(enumerate(EXACT_VALUES)))
        rows = await conn.execute_fetchall("SELECT v, typeof(v) FROM t ORDER BY id")
        assert [value for value, _ in rows] == EXACT_VALUES
        assert [kind for _, kind in rows][:3] == ["null", "integer", "integer"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT ?",
        "INSERT INTO t VALUES (?) RETURNING x",
        "WITH c AS (SELECT ? AS x) SELECT x FROM c",
        "PRAGMA table_info(t)",
    ],
)
async def test_executemany_of_a_statement_that_returns_rows_is_refused_as_locally(remote: Remote, sql: str) -> None:
    parameters = [] if sql.startswith("PRAGMA") else [1]
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t (x)")
        with pytest.raises(aiolibsql.ProgrammingError, match="can only execute DML"):
            await conn.executemany(sql, [parameters, parameters])
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(0,)]


async def test_negative_zero_keeps_its_sign_as_locally(remote: Remote) -> None:
    def signs(rows: list[tuple[float, ...]]) -> list[float]:
        return [math.copysign(1.0, value) for value in rows[0]]

    sql = "SELECT ?, -0.0, 0.0 * -1"
    async with aiolibsql.connect(remote.url) as conn, aiolibsql.connect(":memory:") as local:
        assert signs(await conn.execute_fetchall(sql, (-0.0,))) == signs(await local.execute_fetchall(sql, (-0.0,)))


async def test_a_nan_parameter_is_stored_as_null_as_locally(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn, aiolibsql.connect(":memory:") as local:
        assert await conn.execute_fetchall("SELECT ?", (math.nan,)) == await local.execute_fetchall(
            "SELECT ?", (math.nan,)
        )


async def test_an_infinite_parameter_is_a_data_error_and_the_connection_goes_on(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        with pytest.raises(aiolibsql.DataError, match="infinite"):
            await conn.execute("SELECT ?", (math.inf,))
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


async def test_the_description_names_the_columns(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        cursor = await conn.execute("SELECT 1 AS one, 'x' AS ex")
        assert [column[0] for column in cursor.description] == ["one", "ex"]
        assert await cursor.fetchall() == [(1, "x")]


async def test_a_large_result_is_fetched_in_every_way(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE c (x INTEGER)")
        await conn.executemany("INSERT INTO c VALUES (?)", [(x,) for x in range(1, 3001)])
        cursor = await conn.execute("SELECT x FROM c ORDER BY x")
        assert await cursor.fetchone() == (1,)
        assert await cursor.fetchmany(2) == [(2,), (3,)]
        assert [row async for row in cursor] == [(x,) for x in range(4, 3001)]
        assert await cursor.fetchone() is None


async def test_sql_errors_map_to_the_exception_classes_local_ones_have(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        with pytest.raises(aiolibsql.OperationalError, match="no such table"):
            await conn.execute("SELECT * FROM nope")
        await conn.execute("CREATE TABLE u (x INTEGER PRIMARY KEY)")
        await conn.execute("INSERT INTO u VALUES (1)")
        with pytest.raises(aiolibsql.IntegrityError, match="UNIQUE"):
            await conn.execute("INSERT INTO u VALUES (1)")
        assert await conn.execute_fetchall("SELECT count(*) FROM u") == [(1,)]


async def test_executemany_stops_at_the_first_failure_and_reports_it(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE u (x INTEGER PRIMARY KEY)")
        with pytest.raises(aiolibsql.IntegrityError):
            await conn.executemany("INSERT INTO u VALUES (?)", [(1,), (2,), (2,), (3,)])
        assert await conn.execute_fetchall("SELECT x FROM u ORDER BY x") == [(1,), (2,)]


async def test_statements_from_many_tasks_on_one_connection_run_in_order(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE log (n INTEGER)")
        await asyncio.gather(*(conn.execute("INSERT INTO log VALUES (?)", (n,)) for n in range(50)))
        assert await conn.execute_fetchall("SELECT n FROM log") == [(n,) for n in range(50)]


async def test_what_a_remote_database_cannot_do_raises_not_supported_error(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn, aiolibsql.connect(":memory:") as local:
        assert conn.is_remote and not local.is_remote
        with pytest.raises(aiolibsql.NotSupportedError, match="server"):
            await conn.create_function("f", 0, lambda: 1)
        with pytest.raises(aiolibsql.NotSupportedError):
            await conn.backup(local)
        with pytest.raises(aiolibsql.NotSupportedError):
            await conn.rekey("key")
        with pytest.raises(aiolibsql.NotSupportedError):
            conn.interrupt()
        with pytest.raises(aiolibsql.NotSupportedError):
            _ = conn.total_changes
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


async def test_a_closed_remote_connection_raises_programming_error(remote: Remote) -> None:
    conn = await aiolibsql.connect(remote.url)
    await conn.close()
    await conn.close()
    with pytest.raises(aiolibsql.ProgrammingError, match="closed"):
        await conn.execute("SELECT 1")


async def test_a_cancelled_statement_leaves_the_connection_usable(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        task = asyncio.ensure_future(conn.execute("SELECT 1"))
        await asyncio.sleep(0)  # one turn of the loop: the request is sent
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await conn.execute_fetchall("SELECT 2") == [(2,)]


def test_the_blocking_module_works_remotely(remote: Remote) -> None:
    conn = dbapi.connect(remote.url, autocommit=True)
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
        assert conn.execute("SELECT sum(x) FROM t").fetchone() == (3,)
        assert conn.is_remote
    finally:
        conn.close()
