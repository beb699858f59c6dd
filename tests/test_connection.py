"""``connect`` and ``Connection``: opening, argument checks, closing, statements, backup, functions, interrupt."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import aiolibsql
import aiolibsql.dbapi

ConnectionOperation = Callable[[aiolibsql.Connection], Awaitable[object]]


async def _count(conn: aiolibsql.Connection, table: str = "t") -> int:
    rows = await conn.execute_fetchall(f"SELECT count(*) FROM {table}")
    return int(rows[0][0])


async def _count_from_new_connection(path: str, table: str = "t") -> int:
    async with aiolibsql.connect(path) as other:
        return await _count(other, table)


async def _wait_for(event: threading.Event, seconds: float = 10.0) -> None:
    """Yield to the loop until a worker thread sets ``event``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not event.is_set():
        assert loop.time() < deadline, "the worker never reached the expected point"
        await asyncio.sleep(0.001)


@asynccontextmanager
async def _opened(form: str, path: str) -> AsyncIterator[aiolibsql.Connection]:
    """``async with await connect(...)`` or ``async with connect(...)``."""
    if form == "awaited":
        async with await aiolibsql.connect(path) as conn:
            yield conn
    else:
        async with aiolibsql.connect(path) as conn:
            yield conn


# -- connect -------------------------------------------------------------------


@pytest.mark.parametrize("form", ["awaited", "direct"])
async def test_context_manager_commits_on_success_then_closes(form: str, db_path: str) -> None:
    async with _opened(form, db_path) as conn:
        await conn.execute("CREATE TABLE t(x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        assert conn.in_transaction
    with pytest.raises(aiolibsql.ProgrammingError):
        await conn.execute("SELECT 1")
    assert await _count_from_new_connection(db_path) == 1


@pytest.mark.parametrize("form", ["awaited", "direct"])
async def test_context_manager_rolls_back_when_the_block_raises_then_closes(form: str, db_path: str) -> None:
    async with aiolibsql.connect(db_path) as setup:
        await setup.execute("CREATE TABLE t(x)")
    with pytest.raises(KeyError, match="boom"):
        async with _opened(form, db_path) as conn:
            await conn.execute("INSERT INTO t VALUES (1)")
            raise KeyError("boom")
    with pytest.raises(aiolibsql.ProgrammingError):
        await conn.execute("SELECT 1")
    assert await _count_from_new_connection(db_path) == 0


async def test_connect_accepts_a_path_like(tmp_path: Path) -> None:
    path = tmp_path / "pathlike.db"
    async with aiolibsql.connect(path) as conn:
        await conn.execute("CREATE TABLE t(x)")
    assert path.exists()


async def test_memory_databases_are_private_to_their_connection() -> None:
    async with aiolibsql.connect(":memory:") as first, aiolibsql.connect(":memory:") as second:
        await first.execute("CREATE TABLE t(x)")
        with pytest.raises(aiolibsql.OperationalError):
            await second.execute("SELECT * FROM t")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"sync_url": "http://127.0.0.1:9", "sync_interval": 0}, ValueError),
        ({"sync_interval": 1.0}, aiolibsql.ProgrammingError),
        ({"offline": True}, aiolibsql.ProgrammingError),
        # A new replica starts from the primary's export: nothing listens there.
        ({"sync_url": "http://127.0.0.1:9"}, aiolibsql.OperationalError),
    ],
    ids=["sync_interval", "interval_without_sync_url", "offline_without_sync_url", "unreachable_primary"],
)
async def test_replica_options_that_cannot_work_raise_a_clear_error(
    options: dict[str, Any], error: type[Exception], db_path: str
) -> None:
    with pytest.raises(error):
        await aiolibsql.connect(db_path, **options)
    assert not os.path.exists(db_path)


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": -1},
        {"timeout": -0.5},
        {"timeout": "5"},
        {"timeout": float("nan")},
        {"isolation_level": "BOGUS"},
        {"isolation_level": "READ COMMITTED"},
        {"isolation_level": 1},
        {"autocommit": 2},
        {"autocommit": -2},
        {"autocommit": "yes"},
        {"cached_statements": -1},
        {"cached_statements": 1.5},
        {"cached_statements": "10"},
    ],
    ids=repr,
)
async def test_bad_connect_arguments_raise_value_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        await aiolibsql.connect(":memory:", **options)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"uri": "yes"}, TypeError, "uri must be True or False"),
        ({"uri": None}, TypeError, "uri must be True or False"),
        ({"cached_statements": 10**20}, ValueError, "cached_statements must be"),
        ({"cached_statements": 2**31}, ValueError, "cached_statements must be"),
        ({"autocommit": 1.0}, ValueError, "autocommit must be"),
        ({"autocommit": -1.0}, ValueError, "autocommit must be"),
        ({"autocommit": 0.0}, ValueError, "autocommit must be"),
        ({"database": "a\0b.db"}, ValueError, "null character"),
        ({"database": b"a\0b.db"}, ValueError, "null character"),
        ({"database": 3}, TypeError, "database must be"),
    ],
    ids=repr,
)
def test_bad_connect_arguments_are_refused_at_call_time_with_the_drivers_message(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments = {"database": ":memory:", **options}
    # No event loop: the call itself must refuse, before anything is opened.
    with pytest.raises(error, match=message):
        aiolibsql.connect(**arguments)
    with pytest.raises(error, match=message):
        aiolibsql.dbapi.connect(**arguments)


async def test_a_bytes_path_that_is_not_utf8_opens_as_sqlite3_opens_it(tmp_path: Path) -> None:
    path = os.fsencode(tmp_path) + b"/caf\xe9.db"
    async with aiolibsql.connect(path) as conn:
        await conn.execute("CREATE TABLE t(x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.commit()
    assert os.path.exists(path)
    with sqlite3.connect(path) as reference:
        assert reference.execute("SELECT x FROM t").fetchall() == [(1,)]
    with aiolibsql.dbapi.connect(path) as blocking:
        assert blocking.execute("SELECT x FROM t").fetchall() == [(1,)]


@pytest.mark.parametrize("cached_statements", [0, 1, 128])
async def test_any_statement_cache_size_works(cached_statements: int) -> None:
    async with aiolibsql.connect(":memory:", cached_statements=cached_statements) as conn:
        for value in range(3):
            for sql in ("SELECT ?", "SELECT ? + 0", "SELECT ? * 1"):
                assert await conn.execute_fetchall(sql, (value,)) == [(value,)]


async def test_open_failure_raises_operational_error_cantopen(tmp_path: Path) -> None:
    with pytest.raises(aiolibsql.OperationalError) as info:
        await aiolibsql.connect(str(tmp_path / "missing-directory" / "x.db"))
    assert info.value.sqlite_errorname == "SQLITE_CANTOPEN"


async def test_uri_read_only_mode_makes_writes_fail_with_operational_error(db_path: str) -> None:
    async with aiolibsql.connect(db_path) as setup:
        await setup.execute("CREATE TABLE t(x)")
        await setup.execute("INSERT INTO t VALUES (1)")
    async with aiolibsql.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        assert await conn.execute_fetchall("SELECT x FROM t") == [(1,)]
        with pytest.raises(aiolibsql.OperationalError) as info:
            await conn.execute("INSERT INTO t VALUES (2)")
        assert info.value.sqlite_errorname is not None
        assert info.value.sqlite_errorname.startswith("SQLITE_READONLY")
        await conn.rollback()
    assert await _count_from_new_connection(db_path) == 1


async def test_isolation_level_is_normalised_to_upper_case_and_read_only() -> None:
    async with aiolibsql.connect(":memory:", isolation_level="immediate") as conn:
        assert conn.isolation_level == "IMMEDIATE"
        with pytest.raises(AttributeError):
            conn.isolation_level = None  # type: ignore[misc]
        assert conn.isolation_level == "IMMEDIATE"


@pytest.mark.parametrize(("given", "expected"), [("DEFERRED", "DEFERRED"), (None, None), ("", "")])
async def test_isolation_level_reports_what_was_given(given: str | None, expected: str | None) -> None:
    async with aiolibsql.connect(":memory:", isolation_level=given) as conn:
        assert conn.isolation_level == expected


async def test_isolation_level_defaults_to_deferred() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert conn.isolation_level == "DEFERRED"


# -- closing -------------------------------------------------------------------


async def test_close_is_idempotent() -> None:
    conn = await aiolibsql.connect(":memory:")
    await conn.close()
    await conn.close()
    with pytest.raises(aiolibsql.ProgrammingError):
        await conn.execute("SELECT 1")


CLOSED_OPERATIONS: dict[str, ConnectionOperation] = {
    "execute": lambda conn: conn.execute("SELECT 1"),
    "executemany": lambda conn: conn.executemany("INSERT INTO t VALUES (?)", [(1,)]),
    "executescript": lambda conn: conn.executescript("SELECT 1;"),
    "execute_fetchall": lambda conn: conn.execute_fetchall("SELECT 1"),
    "commit": lambda conn: conn.commit(),
    "rollback": lambda conn: conn.rollback(),
    "create_function": lambda conn: conn.create_function("f", 0, lambda: 1),
}


@pytest.mark.parametrize("operation", CLOSED_OPERATIONS.values(), ids=CLOSED_OPERATIONS.keys())
async def test_operations_on_a_closed_connection_raise_programming_error(operation: ConnectionOperation) -> None:
    conn = await aiolibsql.connect(":memory:")
    await conn.execute("CREATE TABLE t(x)")
    await conn.close()
    with pytest.raises(aiolibsql.ProgrammingError):
        await operation(conn)


async def test_cursor_and_autocommit_on_a_closed_connection_raise_programming_error() -> None:
    conn = await aiolibsql.connect(":memory:")
    await conn.close()
    with pytest.raises(aiolibsql.ProgrammingError):
        conn.cursor()
    with pytest.raises(aiolibsql.ProgrammingError):
        conn.autocommit = True


async def test_backup_from_a_closed_connection_raises_programming_error() -> None:
    async with aiolibsql.connect(":memory:") as target:
        source = await aiolibsql.connect(":memory:")
        await source.close()
        with pytest.raises(aiolibsql.ProgrammingError):
            await source.backup(target)


async def _hold_worker(conn: aiolibsql.Connection) -> tuple[threading.Event, threading.Event]:
    """Register ``block()``, which signals ``started`` and waits for ``release``.

    Statements that call it must write, so they always run on the connection's own thread.
    """
    started, release = threading.Event(), threading.Event()

    def block() -> int:
        started.set()
        release.wait(10)
        return 1

    await conn.create_function("block", 0, block)
    await conn.execute("CREATE TABLE held(x)")
    return started, release


async def test_close_fails_queued_operations_and_lets_the_running_one_finish() -> None:
    conn = await aiolibsql.connect(":memory:")
    started, release = await _hold_worker(conn)
    running = asyncio.ensure_future(conn.execute("INSERT INTO held VALUES (block())"))
    await _wait_for(started)
    queued = [asyncio.ensure_future(conn.execute("SELECT 2")), asyncio.ensure_future(conn.commit())]
    await asyncio.sleep(0)
    closing = asyncio.ensure_future(conn.close())
    await asyncio.sleep(0)
    release.set()
    cursor = await running
    assert cursor.rowcount == 1
    for operation in queued:
        with pytest.raises(aiolibsql.ProgrammingError):
            await operation
    await closing
    with pytest.raises(aiolibsql.ProgrammingError):
        await conn.execute("SELECT 3")


async def test_execute_fetchall_already_running_when_close_is_called_returns_its_rows() -> None:
    conn = await aiolibsql.connect(":memory:")
    started, release = await _hold_worker(conn)
    running = asyncio.ensure_future(conn.execute_fetchall("INSERT INTO held VALUES (block()) RETURNING x"))
    await _wait_for(started)
    closing = asyncio.ensure_future(conn.close())
    await asyncio.sleep(0)
    release.set()
    try:
        assert await running == [(1,)]
    finally:
        await closing


# -- statements ----------------------------------------------------------------


async def test_execute_returns_a_cursor_of_this_connection() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await conn.execute("SELECT 1")
        assert isinstance(cursor, aiolibsql.Cursor)
        assert cursor.connection is conn
        assert await cursor.fetchall() == [(1,)]


async def test_cursor_returns_a_new_cursor_of_this_connection() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        first, second = conn.cursor(), conn.cursor()
        assert isinstance(first, aiolibsql.Cursor)
        assert first is not second
        assert first.connection is conn


async def test_execute_fetchall_returns_every_row() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        rows = await conn.execute_fetchall(
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000) SELECT i FROM r"
        )
        assert rows == [(i,) for i in range(1, 1001)]


async def test_executemany_accepts_a_generator_and_rowcount_is_the_sum() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        cursor = await conn.executemany("INSERT INTO t VALUES (?)", ((i,) for i in range(10)))
        assert cursor.rowcount == 10
        assert await conn.execute_fetchall("SELECT sum(x) FROM t") == [(45,)]


async def test_executemany_rowcount_sums_changes_of_each_parameter_set() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(grp, v)")
        await conn.executemany("INSERT INTO t VALUES (?, 0)", [(1,), (1,), (2,), (2,), (2,), (3,)])
        cursor = await conn.executemany("UPDATE t SET v = 1 WHERE grp = ?", [(1,), (2,), (9,)])
        assert cursor.rowcount == 5


async def test_executemany_over_several_internal_batches_inserts_every_set() -> None:
    total = 9000
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        cursor = await conn.executemany("INSERT INTO t VALUES (?)", ((i,) for i in range(total)))
        assert cursor.rowcount == total
        assert await conn.execute_fetchall("SELECT count(*), sum(x) FROM t") == [(total, total * (total - 1) // 2)]


async def test_executemany_with_no_parameter_sets_changes_nothing() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        cursor = await conn.executemany("INSERT INTO t VALUES (?)", [])
        assert cursor.rowcount == 0
        assert await _count(conn) == 0


async def test_executemany_with_a_select_raises_programming_error() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.executemany("SELECT ?", [(1,), (2,)])


@pytest.mark.parametrize("parameter_sets", [5, None, "ab"], ids=["int", "None", "str"])
async def test_executemany_without_an_iterable_of_sets_raises_programming_error(parameter_sets: Any) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.executemany("INSERT INTO t VALUES (?)", parameter_sets)
        assert await _count(conn) == 0


async def test_executescript_runs_every_statement() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await conn.executescript(
            """
            CREATE TABLE t(x);
            INSERT INTO t VALUES (1);
            -- a comment between statements
            INSERT INTO t VALUES (2);
            SELECT * FROM t;
            """
        )
        assert isinstance(cursor, aiolibsql.Cursor)
        assert await conn.execute_fetchall("SELECT x FROM t ORDER BY x") == [(1,), (2,)]


async def test_executescript_stops_at_the_first_failing_statement() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        with pytest.raises(aiolibsql.OperationalError):
            await conn.executescript(
                "INSERT INTO t VALUES (1); INSERT INTO missing VALUES (2); INSERT INTO t VALUES (3);"
            )
        assert await conn.execute_fetchall("SELECT x FROM t") == [(1,)]


async def test_executescript_with_a_nul_character_raises_programming_error() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.executescript("INSERT INTO t VALUES (1);\x00")
        assert await _count(conn) == 0


async def test_total_changes_counts_rows_changed_since_the_connection_opened() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert conn.total_changes == 0
        await conn.execute("CREATE TABLE t(x)")
        await conn.executemany("INSERT INTO t VALUES (?)", [(1,), (2,), (3,)])
        assert conn.total_changes == 3
        await conn.execute("UPDATE t SET x = x + 1")
        assert conn.total_changes == 6
        await conn.executescript("DELETE FROM t WHERE x > 2;")
        assert conn.total_changes == 8


# -- backup --------------------------------------------------------------------


async def _fill(conn: aiolibsql.Connection, rows: int) -> None:
    await conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB)")
    await conn.executemany("INSERT INTO t(payload) VALUES (randomblob(1000))", [()] * rows)
    await conn.commit()


async def test_backup_copies_the_database_into_the_target(db_path: str) -> None:
    async with aiolibsql.connect(db_path) as source, aiolibsql.connect(":memory:") as target:
        await _fill(source, 50)
        await source.backup(target)
        expected = await source.execute_fetchall("SELECT id, payload FROM t ORDER BY id")
        assert await target.execute_fetchall("SELECT id, payload FROM t ORDER BY id") == expected
        assert len(expected) == 50


async def test_backup_one_page_per_step_copies_every_page(db_path: str, tmp_path: Path) -> None:
    target_path = str(tmp_path / "copy.db")
    async with aiolibsql.connect(db_path) as source, aiolibsql.connect(target_path) as target:
        await _fill(source, 200)
        [(page_count,)] = await source.execute_fetchall("PRAGMA page_count")
        assert page_count > 10
        await source.backup(target, pages=1)
        expected = await source.execute_fetchall("SELECT id, payload FROM t ORDER BY id")
    async with aiolibsql.connect(target_path) as reopened:
        assert await reopened.execute_fetchall("SELECT id, payload FROM t ORDER BY id") == expected
        assert await reopened.execute_fetchall("PRAGMA integrity_check") == [("ok",)]


async def test_backup_replaces_the_targets_previous_content() -> None:
    async with aiolibsql.connect(":memory:") as source, aiolibsql.connect(":memory:") as target:
        await _fill(source, 3)
        await target.execute("CREATE TABLE old(x)")
        await target.commit()
        await source.backup(target)
        tables = await target.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        assert tables == [("t",)]


async def test_backup_of_a_named_schema_copies_that_schema() -> None:
    async with aiolibsql.connect(":memory:") as source, aiolibsql.connect(":memory:") as target:
        await source.execute("CREATE TEMP TABLE scratch(x)")
        await source.execute("INSERT INTO scratch VALUES (42)")
        await source.commit()
        await source.backup(target, name="temp")
        assert await target.execute_fetchall("SELECT x FROM scratch") == [(42,)]


async def test_backup_of_an_unknown_schema_raises_operational_error() -> None:
    async with aiolibsql.connect(":memory:") as source, aiolibsql.connect(":memory:") as target:
        with pytest.raises(aiolibsql.OperationalError):
            await source.backup(target, name="no_such_schema")


async def test_backup_to_a_closed_target_raises_programming_error() -> None:
    async with aiolibsql.connect(":memory:") as source:
        target = await aiolibsql.connect(":memory:")
        await target.close()
        with pytest.raises(aiolibsql.ProgrammingError):
            await source.backup(target)


BACKUP_BEHIND_OWN_WRITE = textwrap.dedent(
    """
    import asyncio, os, sys
    import aiolibsql

    async def main() -> None:
        source = await aiolibsql.connect(":memory:")
        await source.execute("CREATE TABLE t(x)")
        await source.execute("INSERT INTO t VALUES (1)")  # leaves the implicit transaction open
        target = await aiolibsql.connect(":memory:")
        try:
            await asyncio.wait_for(source.backup(target), 0.5)
            print("backup finished")
        except asyncio.TimeoutError:
            print("backup cancelled")
        except aiolibsql.Error as error:
            print("backup failed:", type(error).__name__)
        try:
            await asyncio.wait_for(source.execute("SELECT 1"), 3)
            print("usable")
        except asyncio.TimeoutError:
            print("stuck")
        sys.stdout.flush()
        os._exit(0)  # a stuck worker would also block the exit handler

    asyncio.run(main())
    """
)


def test_backup_blocked_by_the_sources_own_write_transaction_does_not_wedge_the_connection(tmp_path: Path) -> None:
    """A backup that cannot progress must fail or be cancellable; the connection must stay usable."""
    script = tmp_path / "backup_behind_write.py"
    script.write_text(BACKUP_BEHIND_OWN_WRITE)
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=30, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "usable", completed.stdout


# -- create_function -----------------------------------------------------------


async def test_created_function_is_callable_from_sql() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("double", 1, lambda value: value * 2)
        assert await conn.execute_fetchall("SELECT double(21), double('ab')") == [(42, "abab")]


async def test_created_function_receives_each_sql_type_as_its_python_type() -> None:
    seen: list[Any] = []

    def record(value: Any) -> str:
        seen.append(value)
        return type(value).__name__

    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("kind", 1, record)
        rows = await conn.execute_fetchall("SELECT kind(1), kind(1.5), kind('a'), kind(x'00'), kind(NULL), kind(x'')")
        assert rows == [("int", "float", "str", "bytes", "NoneType", "bytes")]
        assert seen == [1, 1.5, "a", b"\x00", None, b""]


@pytest.mark.parametrize(
    ("result", "expected"),
    [(None, (None, "null")), (7, (7, "integer")), (2.5, (2.5, "real")), ("s", ("s", "text")), (b"", (b"", "blob"))],
    ids=repr,
)
async def test_created_function_result_becomes_the_matching_sql_value(result: Any, expected: tuple[Any, str]) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("give", 0, lambda: result)
        assert await conn.execute_fetchall("SELECT give(), typeof(give())") == [expected]


@pytest.mark.parametrize(
    "sql", ["SELECT where_am_i()", "INSERT INTO t VALUES (where_am_i()) RETURNING x"], ids=["select", "insert"]
)
async def test_created_function_runs_off_the_event_loop_thread(sql: str) -> None:
    """User code may block, so it runs on the database thread, never on the loop's."""
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("where_am_i", 0, threading.get_ident)
        await conn.execute("CREATE TABLE t(x)")
        [(thread_id,)] = await conn.execute_fetchall(sql)
        assert thread_id != threading.get_ident()


async def test_created_function_with_minus_one_args_is_variadic() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("count_args", -1, lambda *args: len(args))
        assert await conn.execute_fetchall("SELECT count_args(), count_args(1, 2, 3)") == [(0, 3)]


async def test_created_function_with_a_fixed_arity_rejects_other_arities() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("one", 1, lambda value: value)
        with pytest.raises(aiolibsql.OperationalError):
            await conn.execute("SELECT one(1, 2)")


async def test_registering_a_function_again_replaces_it() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("f", 0, lambda: 1)
        await conn.create_function("f", 0, lambda: 2)
        assert await conn.execute_fetchall("SELECT f()") == [(2,)]


async def test_deterministic_function_is_allowed_in_an_index_expression() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("same", 1, lambda value: value, deterministic=True)
        await conn.execute("CREATE TABLE t(x)")
        await conn.execute("CREATE INDEX t_same ON t(same(x))")
        await conn.execute("INSERT INTO t VALUES (3)")
        assert await conn.execute_fetchall("SELECT x FROM t WHERE same(x) = 3") == [(3,)]


async def test_non_deterministic_function_is_rejected_in_an_index_expression() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("same", 1, lambda value: value)
        await conn.execute("CREATE TABLE t(x)")
        with pytest.raises(aiolibsql.OperationalError):
            await conn.execute("CREATE INDEX t_same ON t(same(x))")


def _raise_value_error(value: Any) -> Any:
    raise ValueError("no thanks")


async def test_raising_function_gives_operational_error_and_the_connection_stays_usable() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("fail", 1, _raise_value_error)
        await conn.execute("CREATE TABLE t(x)")
        with pytest.raises(aiolibsql.OperationalError):
            await conn.execute("INSERT INTO t VALUES (fail(1))")
        await conn.execute("INSERT INTO t VALUES (2)")
        assert await conn.execute_fetchall("SELECT x FROM t") == [(2,)]


async def test_raising_function_error_says_a_user_defined_function_raised() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("fail", 1, _raise_value_error)
        with pytest.raises(aiolibsql.OperationalError, match="user-defined function raised exception"):
            await conn.execute("SELECT fail(1)")


async def test_function_raising_in_a_later_chunk_fails_the_fetch_and_the_connection_stays_usable() -> None:
    def fail_at_300(value: int) -> int:
        if value == 300:
            raise ValueError("row 300")
        return value

    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("fail_at_300", 1, fail_at_300)
        cursor = await conn.execute(
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000) "
            "SELECT fail_at_300(i) FROM r"
        )
        with pytest.raises(aiolibsql.OperationalError):
            await cursor.fetchall()
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


@pytest.mark.parametrize("result", [[1], {"a": 1}, object(), 2**70], ids=["list", "dict", "object", "2**70"])
async def test_function_returning_an_unsupported_value_raises_operational_error(result: Any) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("bad", 0, lambda: result)
        with pytest.raises(aiolibsql.OperationalError):
            await conn.execute("SELECT bad()")
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


# -- interrupt -----------------------------------------------------------------


async def test_interrupt_stops_the_running_statement_with_operational_error() -> None:
    started = threading.Event()

    def tick(value: int) -> int:
        started.set()
        return value

    async with aiolibsql.connect(":memory:") as conn:
        await conn.create_function("tick", 1, tick)
        await conn.execute("CREATE TABLE sink(n)")
        # A writing statement, so it runs on the connection's thread from its first step.
        running = asyncio.ensure_future(
            conn.execute(
                "INSERT INTO sink SELECT count(*) FROM "
                "(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT tick(i) + 1 FROM r WHERE i < 100000000) "
                "SELECT i FROM r)"
            )
        )
        await _wait_for(started)
        conn.interrupt()
        with pytest.raises(aiolibsql.OperationalError) as info:
            await asyncio.wait_for(running, 30)
        assert info.value.sqlite_errorname == "SQLITE_INTERRUPT"
        assert await conn.execute_fetchall("SELECT count(*) FROM sink") == [(0,)]


async def test_interrupt_of_an_idle_connection_does_not_affect_the_next_statement() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        conn.interrupt()
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


async def test_interrupt_while_idle_with_an_open_cursor_affects_neither_it_nor_the_next_statement() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await conn.execute("SELECT value FROM generate_series(1, 100000)")
        assert await cursor.fetchone() == (1,)
        # Nothing runs now, though the cursor's statement is still open.
        conn.interrupt()
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]
        rest = await cursor.fetchall()
        assert [value for (value,) in rest] == list(range(2, 100001))
