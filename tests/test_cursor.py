"""``Cursor``: fetching (including results that stream in chunks), description, rowcount, lastrowid, closing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import aiolibsql

# Rows 1..n in order; needs no table.
SERIES = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < ?) SELECT i FROM r WHERE i <= ?"

# The first chunk holds 256 rows, later chunks 8192: probe both sides of each edge.
CHUNK_EDGES = [0, 1, 255, 256, 257, 8447, 8448, 8449, 16640, 16641]


def _expected(count: int) -> list[tuple[int]]:
    return [(i,) for i in range(1, count + 1)]


async def _series(conn: aiolibsql.Connection, count: int) -> aiolibsql.Cursor:
    return await conn.execute(SERIES, (max(count, 1), count))


async def _by_fetchall(cursor: aiolibsql.Cursor, count: int) -> list[Any]:
    return await cursor.fetchall()


async def _by_fetchone(cursor: aiolibsql.Cursor, count: int) -> list[Any]:
    rows = []
    while (row := await cursor.fetchone()) is not None:
        rows.append(row)
    return rows


async def _by_fetchmany_100(cursor: aiolibsql.Cursor, count: int) -> list[Any]:
    rows: list[Any] = []
    while batch := await cursor.fetchmany(100):
        assert len(batch) <= 100
        rows.extend(batch)
    return rows


async def _by_fetchmany_of_exact_size(cursor: aiolibsql.Cursor, count: int) -> list[Any]:
    return await cursor.fetchmany(count)


async def _by_async_for(cursor: aiolibsql.Cursor, count: int) -> list[Any]:
    return [row async for row in cursor]


FETCHERS: dict[str, Callable[[aiolibsql.Cursor, int], Awaitable[list[Any]]]] = {
    "fetchall": _by_fetchall,
    "fetchone": _by_fetchone,
    "fetchmany-100": _by_fetchmany_100,
    "fetchmany-exact": _by_fetchmany_of_exact_size,
    "async-for": _by_async_for,
}


# -- fetching ------------------------------------------------------------------


@pytest.mark.parametrize("fetch", FETCHERS.values(), ids=FETCHERS.keys())
@pytest.mark.parametrize("count", CHUNK_EDGES)
async def test_every_row_is_fetched_once_in_order_across_chunk_edges(
    count: int, fetch: Callable[[aiolibsql.Cursor, int], Awaitable[list[Any]]]
) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await _series(conn, count)
        assert await fetch(cursor, count) == _expected(count)
        assert await cursor.fetchone() is None
        assert await cursor.fetchmany(5) == []
        assert await cursor.fetchall() == []


async def test_mixed_fetching_of_10000_rows_returns_each_row_once_in_order() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        await conn.executemany("INSERT INTO t(v) VALUES (?)", ((f"v{i}",) for i in range(1, 10001)))
        cursor = await conn.execute("SELECT id, v FROM t ORDER BY id")
        cursor.arraysize = 3
        rows: list[Any] = [await cursor.fetchone()]
        rows += await cursor.fetchmany(254)  # ends exactly at the first chunk's edge
        rows += await cursor.fetchmany()  # arraysize rows, across the edge
        rows.append(await cursor.fetchone())
        async for row in cursor:
            rows.append(row)
            if len(rows) == 3000:
                break
        rows += await cursor.fetchmany(5448)  # up to the second chunk's edge
        rows.append(await cursor.fetchone())
        rows += await cursor.fetchmany(1)
        rows += await cursor.fetchall()
        assert rows == [(i, f"v{i}") for i in range(1, 10001)]
        assert await cursor.fetchone() is None


async def test_rows_larger_than_the_chunk_byte_limits_all_arrive_in_order() -> None:
    size = 400_000
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await conn.execute(
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 30) "
            "SELECT i, zeroblob(?), printf('%.*c', ?, 'x') FROM r",
            (size, size),
        )
        first = await cursor.fetchone()
        rest = await cursor.fetchall()
        rows = [first, *rest]
        assert [row[0] for row in rows] == list(range(1, 31))
        assert all(row[1] == bytes(size) and row[2] == "x" * size for row in rows)


async def test_two_open_cursors_over_the_same_sql_stream_independently() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        first, second = await _series(conn, 1000), await _series(conn, 1000)
        first_rows: list[Any] = []
        second_rows: list[Any] = []
        while True:
            a, b = await first.fetchmany(100), await second.fetchmany(77)
            first_rows += a
            second_rows += b
            if not a and not b:
                break
        assert first_rows == _expected(1000)
        assert second_rows == _expected(1000)


async def test_writes_between_fetches_of_an_open_result_do_not_disturb_it() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE log(x)")
        cursor = await _series(conn, 1000)
        rows = await cursor.fetchmany(300)
        await conn.execute("INSERT INTO log VALUES (1)")
        rows += await cursor.fetchall()
        assert rows == _expected(1000)
        assert await conn.execute_fetchall("SELECT x FROM log") == [(1,)]


async def test_re_executing_a_cursor_discards_the_rows_it_had_not_fetched() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await _series(conn, 5000)
        assert await cursor.fetchmany(10) == _expected(10)
        await cursor.execute("SELECT 'new'")
        assert await cursor.fetchall() == [("new",)]


async def test_fetch_on_a_cursor_that_never_executed_returns_nothing() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = conn.cursor()
        assert await cursor.fetchone() is None
        assert await cursor.fetchmany(3) == []
        assert await cursor.fetchall() == []


async def test_fetchmany_without_size_returns_arraysize_rows() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await _series(conn, 10)
        assert cursor.arraysize == 1
        assert await cursor.fetchmany() == [(1,)]
        cursor.arraysize = 4
        assert await cursor.fetchmany() == [(2,), (3,), (4,), (5,)]
        assert await cursor.fetchmany(2) == [(6,), (7,)]
        assert await cursor.fetchmany(100) == [(8,), (9,), (10,)]


async def test_fetchone_returns_none_when_rows_run_out() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await _series(conn, 2)
        assert await cursor.fetchone() == (1,)
        assert await cursor.fetchone() == (2,)
        assert await cursor.fetchone() is None
        assert await cursor.fetchone() is None


async def test_statements_without_rows_fetch_nothing() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await conn.execute("CREATE TABLE t(x)")
        assert await cursor.fetchall() == []
        cursor = await conn.execute("INSERT INTO t VALUES (1)")
        assert await cursor.fetchone() is None


# -- description ---------------------------------------------------------------


async def test_description_holds_a_7_tuple_per_column_named_as_selected() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await conn.execute("SELECT 1 AS one, 'x' AS \"Two Words\", NULL AS missing")
        assert cursor.description == (
            ("one", None, None, None, None, None, None),
            ("Two Words", None, None, None, None, None, None),
            ("missing", None, None, None, None, None, None),
        )


async def test_description_is_set_for_a_select_returning_no_rows() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(a, b)")
        cursor = await conn.execute("SELECT a, b FROM t")
        assert cursor.description is not None
        assert [column[0] for column in cursor.description] == ["a", "b"]
        assert await cursor.fetchall() == []


@pytest.mark.parametrize(
    "sql",
    ["CREATE TABLE u(x)", "INSERT INTO t VALUES (1)", "UPDATE t SET x = 2", "DELETE FROM t", "DROP TABLE t"],
    ids=["create", "insert", "update", "delete", "drop"],
)
async def test_description_is_none_for_statements_that_return_no_rows(sql: str) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        cursor = await conn.execute(sql)
        assert cursor.description is None


async def test_description_follows_the_latest_statement_of_a_cursor() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        cursor = conn.cursor()
        assert cursor.description is None
        await cursor.execute("SELECT 1 AS a")
        assert cursor.description is not None
        await cursor.execute("INSERT INTO t VALUES (1)")
        assert cursor.description is None
        await cursor.execute("SELECT 1 AS b")
        await cursor.executemany("INSERT INTO t VALUES (?)", [(2,)])
        assert cursor.description is None
        await cursor.execute("SELECT 1 AS c")
        await cursor.executescript("SELECT 1;")
        assert cursor.description is None


# -- rowcount and lastrowid ----------------------------------------------------


async def test_rowcount_is_minus_one_for_select_and_ddl() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await conn.execute("CREATE TABLE t(x)")
        assert cursor.rowcount == -1
        await conn.execute("INSERT INTO t VALUES (1)")
        cursor = await conn.execute("SELECT x FROM t")
        assert cursor.rowcount == -1
        await cursor.fetchall()
        assert cursor.rowcount == -1


@pytest.mark.parametrize(
    ("sql", "changed"),
    [
        ("INSERT INTO t VALUES (10, 'x'), (11, 'y')", 2),
        ("UPDATE t SET v = 'z' WHERE id <= 3", 3),
        ("UPDATE t SET v = 'z' WHERE id > 100", 0),
        ("DELETE FROM t WHERE id IN (1, 2)", 2),
        ("REPLACE INTO t VALUES (1, 'r')", 1),
        ("INSERT OR IGNORE INTO t VALUES (1, 'dup')", 0),
    ],
    ids=["insert", "update", "update-none", "delete", "replace", "insert-ignored"],
)
async def test_rowcount_counts_rows_changed_by_dml(sql: str, changed: int) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)")
        await conn.executemany("INSERT INTO t VALUES (?, 'a')", [(i,) for i in range(1, 6)])
        cursor = await conn.execute(sql)
        assert cursor.rowcount == changed


async def test_rowcount_of_executemany_is_the_sum_of_changes() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        cursor = await conn.cursor().executemany("INSERT INTO t VALUES (?)", [(1,), (2,), (3,)])
        assert cursor.rowcount == 3


async def test_rowcount_of_a_streamed_dml_returning_counts_every_row_once_fetched() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)")
        await conn.executemany("INSERT INTO t VALUES (?)", ((i,) for i in range(1, 1001)))
        cursor = await conn.execute("DELETE FROM t WHERE id > 100 RETURNING id")
        assert sorted(await cursor.fetchall()) == [(i,) for i in range(101, 1001)]
        assert cursor.rowcount == 900
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(100,)]


async def test_rowcount_is_minus_one_after_executescript() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        cursor = conn.cursor()
        await cursor.execute("INSERT INTO t VALUES (1)")
        await cursor.executescript("INSERT INTO t VALUES (2);")
        assert cursor.rowcount == -1


async def test_lastrowid_is_the_rowid_of_the_last_inserted_row() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v)")
        cursor = await conn.execute("INSERT INTO t(v) VALUES ('a')")
        assert cursor.lastrowid == 1
        cursor = await conn.execute("INSERT INTO t(id, v) VALUES (100, 'b')")
        assert cursor.lastrowid == 100
        cursor = await conn.execute("INSERT INTO t(v) VALUES ('c')")
        assert cursor.lastrowid == 101


# -- cursor object -------------------------------------------------------------


async def test_new_cursor_has_dbapi_defaults() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = conn.cursor()
        assert cursor.connection is conn
        assert cursor.arraysize == 1
        assert cursor.description is None
        assert cursor.rowcount == -1
        assert cursor.lastrowid is None
        assert cursor.row_factory is None


async def test_cursor_execute_methods_return_the_cursor_itself() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = conn.cursor()
        assert await cursor.execute("CREATE TABLE t(x)") is cursor
        assert await cursor.executemany("INSERT INTO t VALUES (?)", [(1,)]) is cursor
        assert await cursor.executescript("INSERT INTO t VALUES (2);") is cursor


CLOSED_CURSOR_OPERATIONS: dict[str, Callable[[aiolibsql.Cursor], Awaitable[object]]] = {
    "execute": lambda cursor: cursor.execute("SELECT 1"),
    "executemany": lambda cursor: cursor.executemany("INSERT INTO t VALUES (?)", [(1,)]),
    "executescript": lambda cursor: cursor.executescript("SELECT 1;"),
    "fetchone": lambda cursor: cursor.fetchone(),
    "fetchmany": lambda cursor: cursor.fetchmany(2),
    "fetchall": lambda cursor: cursor.fetchall(),
    "async-for": lambda cursor: cursor.__anext__(),
}


@pytest.mark.parametrize("operation", CLOSED_CURSOR_OPERATIONS.values(), ids=CLOSED_CURSOR_OPERATIONS.keys())
async def test_a_closed_cursor_raises_programming_error(
    operation: Callable[[aiolibsql.Cursor], Awaitable[object]],
) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        cursor = await _series(conn, 1000)
        await cursor.fetchmany(10)
        await cursor.close()
        with pytest.raises(aiolibsql.ProgrammingError):
            await operation(cursor)
        await cursor.close()
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


@pytest.mark.parametrize("operation", CLOSED_CURSOR_OPERATIONS.values(), ids=CLOSED_CURSOR_OPERATIONS.keys())
async def test_a_cursor_of_a_closed_connection_raises_programming_error(
    operation: Callable[[aiolibsql.Cursor], Awaitable[object]],
) -> None:
    conn = await aiolibsql.connect(":memory:")
    await conn.execute("CREATE TABLE t(x)")
    cursor = await _series(conn, 10)
    await conn.close()
    with pytest.raises(aiolibsql.ProgrammingError):
        await operation(cursor)


async def test_cursor_as_async_context_manager_closes_on_exit() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        async with conn.cursor() as cursor:
            await cursor.execute("SELECT 1")
            assert await cursor.fetchone() == (1,)
        with pytest.raises(aiolibsql.ProgrammingError):
            await cursor.fetchone()


async def test_cursors_of_one_connection_share_its_transaction() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        writer, reader = conn.cursor(), conn.cursor()
        await writer.execute("INSERT INTO t VALUES (1)")
        await reader.execute("SELECT x FROM t")
        assert await reader.fetchall() == [(1,)]
