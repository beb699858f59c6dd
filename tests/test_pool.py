"""The connection pool: opening and closing, routing by what a statement does,
group commit, explicit transactions, snapshots, streaming, load, and pragmas."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from worker_threads import running_worker_threads, running_worker_threads_once_at_most

import aiolibsql
from aiolibsql import ConnectionPool, create_pool

# A read that keeps a reader busy (about 0.2 s per million rows here).
COUNT_TO = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c"
# A write that keeps the writer busy for a while (about 0.1 s per 200,000 rows here).
SLOW_FILL = (
    "INSERT INTO filler (x) SELECT x FROM "
    "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT x FROM c)"
)


class Rollback(Exception):
    """Raised inside a transaction block to make it roll back."""


async def rows_of(pool: ConnectionPool, sql: str, parameters: tuple[Any, ...] = ()) -> list[Any]:
    cursor = await pool.execute(sql, parameters)
    return await cursor.fetchall()


def completed(pool: ConnectionPool) -> tuple[int, int]:
    """Operations served so far by the writer and by all readers together."""
    connections = pool.stats()["connections"]
    assert connections[0]["role"] == "writer"
    assert all(entry["role"] == "reader" for entry in connections[1:])
    return connections[0]["completed"], sum(entry["completed"] for entry in connections[1:])


async def served_by(pool: ConnectionPool, operation: Awaitable[Any]) -> tuple[Any, int, int]:
    """Awaits `operation`; returns its result and how many operations the writer
    and the readers completed meanwhile."""
    writer_before, readers_before = completed(pool)
    result = await operation
    writer_after, readers_after = completed(pool)
    return result, writer_after - writer_before, readers_after - readers_before


# Answers one JSON request per line, each on a fresh plain sqlite3 connection.
_OUTSIDE_SERVER = """
import json, sqlite3, sys
for line in sys.stdin:
    request = json.loads(line)
    try:
        connection = sqlite3.connect(request["path"], timeout=30)
        try:
            reply = {"rows": [list(row) for row in connection.execute(request["sql"], request["parameters"])]}
        finally:
            connection.close()
    except Exception as error:
        reply = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write(json.dumps(reply) + "\\n")
    sys.stdout.flush()
"""


class Outside:
    """Plain sqlite3 connections on the pool's file, opened in another process.

    Not in this process: libSQL embeds its own copy of the engine, and POSIX
    locks are per process, so a stdlib sqlite3 connection here cannot see the
    pool's locks. Closing it would then believe it is the file's last user,
    checkpoint and delete the WAL under the open pool, and hide the pool's
    later commits from everyone else (SQLite's "how to corrupt", 2.2.1).
    """

    def __init__(self, process: subprocess.Popen[str], path: str) -> None:
        self._process = process
        self._path = path

    def query(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        assert self._process.stdin is not None and self._process.stdout is not None
        request = {"path": self._path, "sql": sql, "parameters": list(parameters)}
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        reply = json.loads(self._process.stdout.readline())
        assert "error" not in reply, reply["error"]
        return [tuple(row) for row in reply["rows"]]


@pytest.fixture(scope="module")
def outside_process() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", _OUTSIDE_SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    yield process
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=30)


@pytest.fixture
def outside(outside_process: subprocess.Popen[str], db_path: str) -> Outside:
    """Reads `db_path` as a separate sqlite3 connection would."""
    return Outside(outside_process, db_path)


# Takes the file's write lock in another process (locks do not conflict within
# one), reports it on stdout, and lets go when its stdin closes.
_LOCK_HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("held", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


@contextlib.contextmanager
def holding_the_write_lock(db_path: str) -> Iterator[Callable[[], None]]:
    """Yields the function that lets the lock go early (it goes at the end anyway)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, db_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdin is not None and holder.stdout is not None
    stdin = holder.stdin

    def release() -> None:
        if not stdin.closed:
            stdin.close()
        assert holder.wait(60) == 0

    try:
        assert holder.stdout.readline() == "held\n"
        yield release
    finally:
        release()


async def until_the_writer_queue_is_empty(pool: ConnectionPool) -> None:
    """Waits until the writer has taken everything submitted to it (bounded:
    a hang guard, not a timing assumption)."""
    deadline = asyncio.get_running_loop().time() + 30
    while pool.stats()["connections"][0]["queued"] and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.001)
    assert pool.stats()["connections"][0]["queued"] == 0


async def open_items_pool(db_path: str, **options: Any) -> ConnectionPool:
    pool = await create_pool(db_path, **options)
    await pool.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)")
    return pool


# --- opening and closing ---------------------------------------------------


async def test_create_pool_is_awaitable(db_path: str) -> None:
    pool = await create_pool(db_path, size=3)
    try:
        assert isinstance(pool, ConnectionPool)
        assert await rows_of(pool, "SELECT 1") == [(1,)]
    finally:
        await pool.close()


async def test_create_pool_is_an_async_context_manager_that_closes_the_pool(db_path: str) -> None:
    async with create_pool(db_path, size=3) as pool:
        assert isinstance(pool, ConnectionPool)
        assert await rows_of(pool, "SELECT 1") == [(1,)]
    with pytest.raises(aiolibsql.ProgrammingError):
        await pool.execute("SELECT 1")


async def test_a_cancelled_create_pool_stops_opening_and_lets_its_threads_go(tmp_path: Path) -> None:
    before = running_worker_threads()
    openings = [asyncio.ensure_future(create_pool(str(tmp_path / f"{i}.db"), size=4)) for i in range(60)]
    await asyncio.sleep(0)  # one turn of the loop: every open is under way
    for opening in openings:
        opening.cancel()
    await asyncio.gather(*openings, return_exceptions=True)
    gc.collect()
    # `before` may count a thread of an earlier test that was just parking.
    assert await running_worker_threads_once_at_most(before) <= before


async def test_the_pool_itself_is_an_async_context_manager(db_path: str) -> None:
    pool = await create_pool(db_path, size=2)
    async with pool as entered:
        assert entered is pool
    with pytest.raises(aiolibsql.ProgrammingError):
        await pool.execute("SELECT 1")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"size": 10**12}, ValueError, "size must be"),
        ({"size": 2.0}, ValueError, "size must be"),
        ({"group_commit_size": 10**30}, ValueError, "group_commit_size must be"),
        ({"group_commit_size": True}, ValueError, "group_commit_size must be"),
        ({"cached_statements": 10**20}, ValueError, "cached_statements must be"),
        ({"uri": "yes"}, TypeError, "uri must be True or False"),
        ({"database": "a\0b.db"}, ValueError, "null character"),
        ({"pragmas": [1]}, TypeError, "pragmas must be a mapping"),
        ({"pragmas": {"cache_size": 2**80}}, ValueError, "64-bit int"),
        ({"database": 7}, TypeError, "database must be"),
    ],
    ids=repr,
)
def test_bad_pool_arguments_are_refused_at_call_time_with_the_drivers_message(
    tmp_path: Path, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    arguments = {"database": str(tmp_path / "pool.db"), **options}
    with pytest.raises(error, match=message):
        create_pool(**arguments)
    assert not os.path.exists(tmp_path / "pool.db")


async def test_a_pool_opens_a_bytes_path_that_is_not_utf8(tmp_path: Path) -> None:
    path = os.fsencode(tmp_path) + b"/caf\xe9.db"
    async with create_pool(path, size=2) as pool:
        await pool.execute("CREATE TABLE t(x)")
        await pool.execute("INSERT INTO t VALUES (1)")
        assert await rows_of(pool, "SELECT x FROM t") == [(1,)]
    with sqlite3.connect(path) as reference:
        assert reference.execute("SELECT x FROM t").fetchall() == [(1,)]


@pytest.mark.parametrize("size", [1, 0, -3, True])
async def test_a_pool_smaller_than_two_connections_is_a_value_error(db_path: str, size: int) -> None:
    with pytest.raises(ValueError):
        await create_pool(db_path, size=size)
    assert not os.path.exists(db_path)


@pytest.mark.parametrize("database", [":memory:", "", "file:shared?mode=memory&cache=shared"])
async def test_an_in_memory_database_is_not_supported(database: str) -> None:
    with pytest.raises(aiolibsql.NotSupportedError):
        await create_pool(database)


@pytest.mark.parametrize("size", [2, 5])
async def test_size_counts_the_writer_and_the_readers(db_path: str, size: int) -> None:
    async with create_pool(db_path, size=size) as pool:
        assert pool.size == size
        assert pool.reader_count == size - 1
        connections = pool.stats()["connections"]
        assert [entry["role"] for entry in connections] == ["writer"] + ["reader"] * (size - 1)


async def test_using_a_closed_pool_is_a_programming_error(db_path: str, outside: Outside) -> None:
    pool = await open_items_pool(db_path, size=3)
    cursor = await pool.execute("SELECT count(*) FROM items")
    await pool.close()
    with pytest.raises(aiolibsql.ProgrammingError):
        await pool.execute("SELECT 1")
    with pytest.raises(aiolibsql.ProgrammingError):
        await pool.execute("INSERT INTO items (name) VALUES ('late')")
    with pytest.raises(aiolibsql.ProgrammingError):
        await pool.executemany("INSERT INTO items (name) VALUES (?)", [("a",), ("b",)])
    with pytest.raises(aiolibsql.ProgrammingError):
        await pool.executebatch([("INSERT INTO items (name) VALUES ('c')",)])
    with pytest.raises(aiolibsql.ProgrammingError):
        pool.transaction()
    with pytest.raises(aiolibsql.ProgrammingError):
        pool.snapshot()
    with pytest.raises(aiolibsql.ProgrammingError):
        await cursor.fetchall()
    assert outside.query("SELECT count(*) FROM items") == [(0,)]


async def test_closing_a_pool_twice_is_fine(db_path: str) -> None:
    pool = await create_pool(db_path, size=2)
    await pool.close()
    await pool.close()
    assert "closed" in repr(pool)


async def test_close_checkpoints_the_wal_into_the_database_file(tmp_path: Path) -> None:
    # close() promises a checkpoint: afterwards the database file alone holds
    # every committed write (copying just that file is a complete backup).
    # Several rounds, each on a file of its own, so a checkpoint that only
    # sometimes runs cannot pass by luck.
    for round_ in range(10):
        path = str(tmp_path / f"round{round_}.db")
        pool = await open_items_pool(path, size=3)
        await pool.executemany("INSERT INTO items (name) VALUES (?)", [(f"n{i}",) for i in range(100)])
        await pool.close()
        wal = Path(path + "-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        assert wal_size == 0, f"round {round_}: the WAL still holds {wal_size} bytes after close()"
        copy = tmp_path / f"copy{round_}.db"
        shutil.copyfile(path, copy)
        with contextlib.closing(sqlite3.connect(copy)) as copied:
            assert copied.execute("SELECT count(*) FROM items").fetchall() == [(100,)]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
async def test_close_releases_every_file_handle_on_the_database(db_path: str) -> None:
    def handles_on_database() -> list[str]:
        found = []
        for fd in os.listdir("/proc/self/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/self/fd/{fd}")
                if target.startswith(db_path):
                    found.append(target)
        return found

    pool = await open_items_pool(db_path, size=3)
    await pool.execute("INSERT INTO items (name) VALUES ('x')")
    assert handles_on_database()
    await pool.close()
    # The pool object is still referenced: close() itself must let go of the file.
    assert handles_on_database() == [], "close() left connections to the database open"
    assert pool.size == 3


# --- routing by what a statement does --------------------------------------


async def test_a_name_starting_with_file_is_one_plain_path_for_every_pooled_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with create_pool("file:x.db", size=3) as pool:
        await pool.execute("CREATE TABLE t (v INTEGER)")
        await pool.execute("INSERT INTO t VALUES (1)")
        assert await rows_of(pool, "SELECT v FROM t") == [(1,)]
    assert (tmp_path / "file:x.db").exists()
    assert not (tmp_path / "x.db").exists()


async def test_with_uri_every_pooled_connection_reads_the_name_as_a_uri(tmp_path: Path) -> None:
    uri = f"file:{tmp_path / 'x.db'}?cache=private"
    async with create_pool(uri, size=3, uri=True) as pool:
        await pool.execute("CREATE TABLE t (v INTEGER)")
        await pool.execute("INSERT INTO t VALUES (1)")
        assert await rows_of(pool, "SELECT v FROM t") == [(1,)]
    assert sqlite3.connect(tmp_path / "x.db").execute("SELECT v FROM t").fetchall() == [(1,)]


async def test_a_select_runs_on_a_reader(db_path: str) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.execute("INSERT INTO items (name) VALUES ('a')")
        rows, writer, readers = await served_by(pool, rows_of(pool, "SELECT name FROM items"))
        assert rows == [("a",)]
        assert (writer, readers) == (0, 1)
        # Leading comments and whitespace do not change where it goes.
        rows, writer, readers = await served_by(pool, rows_of(pool, "/* c */\n  select count(*) FROM items"))
        assert rows == [(1,)]
        assert (writer, readers) == (0, 1)


async def test_a_delete_behind_a_with_clause_runs_on_the_writer(db_path: str, outside: Outside) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.executemany("INSERT INTO items (id, name) VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
        sql = "WITH x AS (SELECT 1) DELETE FROM items WHERE id IN (SELECT * FROM x)"
        cursor, writer, readers = await served_by(pool, pool.execute(sql))
        assert (writer, readers) == (1, 0)
        assert cursor.rowcount == 1
        assert await rows_of(pool, "SELECT id FROM items ORDER BY id") == [(2,), (3,)]
        assert outside.query("SELECT id FROM items ORDER BY id") == [(2,), (3,)]


async def test_insert_returning_runs_on_the_writer_and_returns_its_rows(db_path: str, outside: Outside) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        sql = "INSERT INTO items (name) VALUES ('a'), ('b') RETURNING id, name"
        rows, writer, readers = await served_by(pool, rows_of(pool, sql))
        assert (writer, readers) == (1, 0)
        assert sorted(rows) == [(1, "a"), (2, "b")]
        assert outside.query("SELECT id, name FROM items ORDER BY id") == [(1, "a"), (2, "b")]


async def test_a_pragma_assignment_runs_on_the_writer_and_readers_then_see_it(db_path: str, outside: Outside) -> None:
    async with create_pool(db_path, size=3) as pool:
        _, writer, readers = await served_by(pool, pool.execute("PRAGMA user_version = 5"))
        assert (writer, readers) == (1, 0)
        rows, writer, readers = await served_by(pool, rows_of(pool, "PRAGMA user_version"))
        assert rows == [(5,)]
        assert (writer, readers) == (0, 1)
    assert outside.query("PRAGMA user_version") == [(5,)]


@pytest.mark.parametrize(
    "statement",
    [
        "PRAGMA foreign_keys = OFF",
        "PRAGMA main.recursive_triggers = 1",
        "pragma Cache_Size = 10",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA busy_timeout = 1",
        "ATTACH DATABASE ':memory:' AS other",
        "DETACH DATABASE other",
    ],
)
async def test_a_statement_that_changes_one_connections_settings_is_refused_and_points_to_pragmas(
    db_path: str, statement: str
) -> None:
    async with await open_items_pool(db_path, size=3, pragmas={"foreign_keys": 1}) as pool:
        for _ in range(pool.size):
            with pytest.raises(aiolibsql.ProgrammingError, match=r"create_pool\(pragmas=\.\.\.\)"):
                await pool.execute(statement)
        assert [await rows_of(pool, "PRAGMA foreign_keys") for _ in range(pool.size)] == [[(1,)]] * pool.size
        assert await rows_of(pool, "PRAGMA database_list") == [(0, "main", db_path)]
        await pool.execute("INSERT INTO items (name) VALUES ('still usable')")


async def test_pragmas_that_read_or_change_the_database_file_still_run_through_the_pool(db_path: str) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        assert [name for _, name, *_ in await rows_of(pool, "PRAGMA table_info(items)")] == ["id", "name"]
        assert await rows_of(pool, "PRAGMA main.quick_check(items)") == [("ok",)]
        await pool.execute("PRAGMA application_id = 7")
        assert await rows_of(pool, "PRAGMA application_id") == [(7,)]


async def test_replace_and_update_run_on_the_writer(db_path: str) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.execute("INSERT INTO items (id, name) VALUES (1, 'a')")
        cursor, writer, readers = await served_by(pool, pool.execute("REPLACE INTO items (id, name) VALUES (1, 'b')"))
        assert (writer, readers) == (1, 0)
        assert cursor.rowcount == 1
        cursor, writer, readers = await served_by(pool, pool.execute("UPDATE items SET name = 'c' WHERE id = 1"))
        assert (writer, readers) == (1, 0)
        assert cursor.rowcount == 1
        assert await rows_of(pool, "SELECT id, name FROM items") == [(1, "c")]


async def test_readers_are_query_only_a_write_in_a_snapshot_fails_and_changes_nothing(
    db_path: str, outside: Outside
) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.execute("INSERT INTO items (name) VALUES ('a')")
        async with pool.snapshot() as snapshot:
            with pytest.raises(aiolibsql.OperationalError):
                await snapshot.execute("INSERT INTO items (name) VALUES ('written by a reader')")
            assert (await (await snapshot.execute("SELECT name FROM items")).fetchall()) == [("a",)]
        assert await rows_of(pool, "SELECT name FROM items") == [("a",)]
    assert outside.query("SELECT name FROM items") == [("a",)]


async def test_transaction_control_through_execute_does_not_leave_a_reader_stale(
    db_path: str, outside: Outside
) -> None:
    # BEGIN is "read-only" to sqlite3_stmt_readonly, so a router by that alone
    # sends it to a reader. Either refuse it or make sure no reader is left
    # holding an old snapshot: every later read must see every committed write.
    async with await open_items_pool(db_path, size=2) as pool:
        with contextlib.suppress(aiolibsql.ProgrammingError):
            await pool.execute("BEGIN")
        assert await rows_of(pool, "SELECT count(*) FROM items") == [(0,)]
        await pool.execute("INSERT INTO items (name) VALUES ('committed')")
        assert outside.query("SELECT count(*) FROM items") == [(1,)]
        for _ in range(3):
            assert await rows_of(pool, "SELECT count(*) FROM items") == [(1,)], "a reader still reads an old snapshot"


# --- group commit -----------------------------------------------------------


async def insert_hundred_with_one_conflict(pool: ConnectionPool) -> list[BaseException | Any]:
    """100 concurrent autocommit inserts parked behind a transaction and let
    through together when it ends; #37 conflicts."""
    await pool.execute("INSERT INTO items (name) VALUES ('taken')")
    names = [f"name-{i}" for i in range(100)]
    names[37] = "taken"
    async with pool.transaction():
        writes = [asyncio.ensure_future(pool.execute("INSERT INTO items (name) VALUES (?)", (name,))) for name in names]
        await asyncio.sleep(0)  # one turn of the loop: every write reaches the writer's gate
    return await asyncio.gather(*writes, return_exceptions=True)


@pytest.mark.parametrize("group_commit", [True, False])
async def test_one_conflicting_write_among_concurrent_ones_fails_alone(
    db_path: str, group_commit: bool, outside: Outside
) -> None:
    pool = await open_items_pool(db_path, size=4, group_commit=group_commit)
    results = await insert_hundred_with_one_conflict(pool)
    failed = [i for i, result in enumerate(results) if isinstance(result, BaseException)]
    assert failed == [37]
    assert isinstance(results[37], aiolibsql.IntegrityError)
    group_commit_stats = pool.stats()["group_commit"]
    await pool.close()
    assert outside.query("SELECT count(*) FROM items") == [(100,)]
    names = {name for (name,) in outside.query("SELECT name FROM items")}
    assert names == {f"name-{i}" for i in range(100) if i != 37} | {"taken"}
    if group_commit:
        assert group_commit_stats["groups"] >= 1
        assert group_commit_stats["grouped_operations"] >= 2
        assert group_commit_stats["largest_group"] >= 2
    else:
        assert group_commit_stats == {"groups": 0, "grouped_operations": 0, "largest_group": 0}


# Each statement fails in a way that ends the whole transaction it runs in, not just itself.
_TRANSACTION_ENDING_FAILURES = {
    "insert_or_rollback": ("INSERT OR ROLLBACK INTO items (name) VALUES ('taken')", aiolibsql.IntegrityError),
    "trigger_raising_rollback": ("INSERT INTO items (name) VALUES ('refused')", aiolibsql.IntegrityError),
    "database_full": ("INSERT INTO items (name) VALUES (zeroblob(200000))", aiolibsql.OperationalError),
}


@pytest.mark.parametrize("failure", sorted(_TRANSACTION_ENDING_FAILURES))
async def test_a_failure_that_ends_its_group_transaction_fails_only_its_own_caller(
    db_path: str, failure: str, outside: Outside
) -> None:
    failing_sql, error_type = _TRANSACTION_ENDING_FAILURES[failure]
    # A page limit far below the full blob but far above a hundred short names.
    async with create_pool(db_path, size=3, pragmas={"max_page_count": 20}) as pool:
        await pool.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)")
        await pool.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON items WHEN NEW.name = 'refused' "
            "BEGIN SELECT RAISE(ROLLBACK, 'refused by trigger'); END"
        )
        await pool.execute("INSERT INTO items (name) VALUES ('taken')")
        before = pool.stats()["group_commit"]["grouped_operations"]
        # The transaction holds the writer's gate: the writes park behind it and
        # are let through together when it ends, so they are committed as one group.
        async with pool.transaction():
            writes = [
                asyncio.ensure_future(
                    pool.execute(
                        failing_sql if i == 37 else "INSERT INTO items (name) VALUES (?)", () if i == 37 else (f"n{i}",)
                    )
                )
                for i in range(100)
            ]
            await asyncio.sleep(0)  # one turn of the loop: every write task reaches the pool
        results = await asyncio.wait_for(asyncio.gather(*writes, return_exceptions=True), 60)
        assert pool.stats()["group_commit"]["grouped_operations"] - before >= 100
    failed = {i: result for i, result in enumerate(results) if isinstance(result, BaseException)}
    assert list(failed) == [37], failed
    assert isinstance(failed[37], error_type)
    names = {name for (name,) in outside.query("SELECT name FROM items")}
    assert names == {f"n{i}" for i in range(100) if i != 37} | {"taken"}


async def test_writes_waiting_together_for_a_lock_held_elsewhere_give_up_after_about_one_timeout(db_path: str) -> None:
    timeout = 0.5
    async with await open_items_pool(db_path, size=2, timeout=timeout) as pool:
        with holding_the_write_lock(db_path):
            loop = asyncio.get_running_loop()
            started = loop.time()
            writes = (pool.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",)) for i in range(30))
            results = await asyncio.wait_for(asyncio.gather(*writes, return_exceptions=True), 120)
            waited = loop.time() - started
        assert all(isinstance(result, aiolibsql.OperationalError) for result in results), results
        assert {result.sqlite_errorname for result in results} <= {"SQLITE_BUSY"}  # type: ignore[union-attr]
        # One after another, the last would wait 30 timeouts (15 s).
        assert waited < 8 * timeout
        await pool.execute("INSERT INTO items (name) VALUES ('after')")


@pytest.mark.parametrize("waiting", ["ungrouped_writes", "transactions"])
async def test_writes_queued_one_behind_another_for_a_lock_held_elsewhere_wait_about_one_timeout_in_all(
    db_path: str, waiting: str
) -> None:
    timeout = 0.5

    async def transaction(pool: ConnectionPool, i: int) -> None:
        async with pool.transaction() as tx:
            await tx.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",))

    async with await open_items_pool(db_path, size=2, timeout=timeout, group_commit=False) as pool:
        with holding_the_write_lock(db_path):
            loop = asyncio.get_running_loop()
            started = loop.time()
            if waiting == "ungrouped_writes":
                writes = [pool.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",)) for i in range(30)]
            else:
                writes = [transaction(pool, i) for i in range(30)]
            results = await asyncio.wait_for(asyncio.gather(*writes, return_exceptions=True), 120)
            waited = loop.time() - started
        assert all(isinstance(result, aiolibsql.OperationalError) for result in results), results
        # One after another, the last would wait 30 timeouts (15 s).
        assert waited < 8 * timeout
        await pool.execute("INSERT INTO items (name) VALUES ('after')")


async def test_concurrent_load_is_group_committed(db_path: str) -> None:
    async with await open_items_pool(db_path, size=4) as pool:
        await asyncio.gather(*(pool.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",)) for i in range(2000)))
        assert pool.stats()["group_commit"]["groups"] >= 1
        assert await rows_of(pool, "SELECT count(*) FROM items") == [(2000,)]


async def test_writes_handed_over_in_batches_under_load_all_commit_in_each_tasks_order(
    db_path: str, outside: Outside
) -> None:
    # 100 tasks that write again as soon as their last write returns: with
    # that many in flight, the writes of each wake-up are handed over in batches.
    async with await open_items_pool(db_path, size=4) as pool:

        async def writer(task: int) -> None:
            for n in range(20):
                await pool.execute("INSERT INTO items (name) VALUES (?)", (f"{task}:{n}",))

        await asyncio.gather(*(writer(task) for task in range(100)))
    names = [name for (name,) in outside.query("SELECT name FROM items ORDER BY id")]
    assert len(names) == 2000
    for task in range(100):
        assert [name for name in names if name.startswith(f"{task}:")] == [f"{task}:{n}" for n in range(20)]


# Writes held for a batch must never be stranded: a regression here hangs or
# crashes the interpreter, so these run in a subprocess.
HELD_WRITES_SCRIPT = """
import asyncio, os, sys, tempfile
import aiolibsql

async def main():
    path = os.path.join(tempfile.mkdtemp(), "t.db")
    pool = await aiolibsql.create_pool(path, size=2)
    await pool.execute("CREATE TABLE t(x)")
    extra = []

    async def writer(i):
        for n in range(20):
            await pool.execute("INSERT INTO t VALUES (?)", (i,))
            if n % 5 == 0:
                extra.append(submit_elsewhere(pool))

    await asyncio.wait_for(asyncio.gather(*(writer(i) for i in range(64))), 60)
    await asyncio.wait_for(asyncio.gather(*(e for e in extra if e is not None)), 60)
    cursor = await pool.execute("SELECT count(*) FROM t")
    print((await cursor.fetchall())[0][0] == 64 * 20 + len(extra))
    await pool.close()
"""


def run_held_writes_script(tmp_path: Path, setup: str) -> None:
    script = tmp_path / "held.py"
    script.write_text(setup + HELD_WRITES_SCRIPT + "asyncio.run(main())\n")
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "True\n"


def test_a_blocking_write_from_a_task_woken_under_load_is_not_left_held(tmp_path: Path) -> None:
    run_held_writes_script(
        tmp_path,
        "def submit_elsewhere(pool):\n"
        "    # A blocking call (no completion port) on the loop's own thread.\n"
        "    pool._native.execute(None, 'INSERT INTO t VALUES (-1)', ())\n",
    )


def test_a_write_for_another_loop_run_inside_a_woken_task_is_not_held(tmp_path: Path) -> None:
    run_held_writes_script(
        tmp_path,
        "from aiolibsql._loop import port_for\n"
        "def submit_elsewhere(pool):\n"
        "    # A woken task runs a private loop on this thread, as sync wrappers do.\n"
        "    outer = asyncio.events._get_running_loop()\n"
        "    asyncio.events._set_running_loop(None)\n"
        "    inner = asyncio.new_event_loop()\n"
        "    try:\n"
        "        write = pool._native.execute(port_for(inner), 'INSERT INTO t VALUES (-1)', ())\n"
        "        inner.run_until_complete(asyncio.wait_for(write, 30))\n"
        "    finally:\n"
        "        inner.close()\n"
        "        asyncio.events._set_running_loop(outer)\n",
    )


@pytest.mark.greenlet_stack_switching
def test_writes_submitted_from_a_greenlet_under_load_all_commit(tmp_path: Path) -> None:
    # Greenlets swap C stacks, as SQLAlchemy's async adaption does.
    run_held_writes_script(
        tmp_path,
        "import greenlet\n"
        "main_greenlet = greenlet.getcurrent()\n"
        "def serve():\n"
        "    while True:\n"
        "        job = main_greenlet.switch()\n"
        "        job()\n"
        "helper = greenlet.greenlet(serve)\n"
        "helper.switch()\n"
        "def submit_elsewhere(pool):\n"
        "    futures = []\n"
        "    port = pool._runner.port()\n"
        "    helper.switch(lambda: futures.append(pool._native.execute(port, 'INSERT INTO t VALUES (-1)', ())))\n"
        "    return futures[0]\n",
    )


async def test_group_commit_off_never_groups(db_path: str) -> None:
    async with await open_items_pool(db_path, size=4, group_commit=False) as pool:
        await asyncio.gather(*(pool.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",)) for i in range(500)))
        assert pool.stats()["group_commit"]["groups"] == 0
        assert await rows_of(pool, "SELECT count(*) FROM items") == [(500,)]


async def test_an_awaited_write_is_committed_before_the_await_returns(db_path: str, outside: Outside) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.execute("INSERT INTO items (name) VALUES ('alone')")
        assert outside.query("SELECT name FROM items") == [("alone",)]

        async def write_then_look(i: int) -> None:
            await pool.execute("INSERT INTO items (name) VALUES (?)", (f"n{i}",))
            # Each caller, grouped or not, finds its own row committed.
            assert outside.query("SELECT count(*) FROM items WHERE name = ?", (f"n{i}",)) == [(1,)]

        await asyncio.gather(*(write_then_look(i) for i in range(200)))


# --- executemany and executebatch ------------------------------------------


async def test_executemany_runs_in_one_transaction(db_path: str, outside: Outside) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        cursor = await pool.executemany("INSERT INTO items (name) VALUES (?)", [(f"n{i}",) for i in range(50)])
        assert cursor.rowcount == 50
        with pytest.raises(aiolibsql.IntegrityError):
            await pool.executemany("INSERT INTO items (name) VALUES (?)", [("x1",), ("x2",), ("n7",), ("x3",)])
        assert await rows_of(pool, "SELECT count(*) FROM items") == [(50,)]
        assert await rows_of(pool, "SELECT count(*) FROM items WHERE name LIKE 'x%'") == [(0,)]
    assert outside.query("SELECT count(*) FROM items") == [(50,)]


async def test_executebatch_is_all_or_nothing(db_path: str, outside: Outside) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.executebatch(
            [
                ("INSERT INTO items (name) VALUES (?)", ("a",)),
                ("INSERT INTO items (name) VALUES ('b')",),
                ("UPDATE items SET name = 'c' WHERE name = ?", ["b"]),
            ]
        )
        assert await rows_of(pool, "SELECT name FROM items ORDER BY id") == [("a",), ("c",)]
        with pytest.raises(aiolibsql.IntegrityError):
            await pool.executebatch(
                [
                    ("INSERT INTO items (name) VALUES ('d')",),
                    ("DELETE FROM items WHERE name = 'a'",),
                    ("INSERT INTO items (name) VALUES ('c')",),
                    ("INSERT INTO items (name) VALUES ('e')",),
                ]
            )
        assert await rows_of(pool, "SELECT name FROM items ORDER BY id") == [("a",), ("c",)]
    assert outside.query("SELECT name FROM items ORDER BY id") == [("a",), ("c",)]


@pytest.mark.parametrize(
    "statements",
    [
        ["INSERT INTO items (name) VALUES ('a')"],
        [("INSERT INTO items (name) VALUES ('a')",), "INSERT INTO items (name) VALUES ('b')"],
        [("INSERT INTO items (name) VALUES (?)", ("a",), "extra")],
        [()],
        "INSERT INTO items (name) VALUES ('a')",
    ],
    ids=["bare-string", "string-after-a-pair", "triple", "empty-tuple", "one-string"],
)
async def test_executebatch_with_items_that_are_not_pairs_is_a_programming_error(db_path: str, statements: Any) -> None:
    async with await open_items_pool(db_path, size=2) as pool:
        with pytest.raises(aiolibsql.ProgrammingError):
            await pool.executebatch(statements)
        assert await rows_of(pool, "SELECT count(*) FROM items") == [(0,)]
        await pool.execute("INSERT INTO items (name) VALUES ('still usable')")


# --- explicit transactions ---------------------------------------------------


async def test_a_transaction_commits_on_success(db_path: str, outside: Outside) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        async with pool.transaction() as tx:
            await tx.execute("INSERT INTO items (name) VALUES ('a')")
            cursor = await tx.executemany("INSERT INTO items (name) VALUES (?)", [("b",), ("c",)])
            assert cursor.rowcount == 2
            # The transaction sees its own writes; nobody else does yet.
            assert await (await tx.execute("SELECT count(*) FROM items")).fetchall() == [(3,)]
            assert outside.query("SELECT count(*) FROM items") == [(0,)]
        assert outside.query("SELECT count(*) FROM items") == [(3,)]
        await pool.execute("INSERT INTO items (name) VALUES ('after')")
        assert await rows_of(pool, "SELECT count(*) FROM items") == [(4,)]


async def test_a_transaction_rolls_back_on_an_exception(db_path: str, outside: Outside) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        with pytest.raises(Rollback):
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('a')")
                raise Rollback
        assert await rows_of(pool, "SELECT count(*) FROM items") == [(0,)]
        await pool.execute("INSERT INTO items (name) VALUES ('after')")
        assert await rows_of(pool, "SELECT name FROM items") == [("after",)]
    assert outside.query("SELECT name FROM items") == [("after",)]


async def test_a_transaction_rolls_back_when_its_task_is_cancelled_inside_the_block(
    db_path: str, outside: Outside
) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        inside = asyncio.Event()

        async def body() -> None:
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('cancelled')")
                inside.set()
                await asyncio.Event().wait()

        task = asyncio.ensure_future(body())
        await inside.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await rows_of(pool, "SELECT count(*) FROM items") == [(0,)]
        await pool.execute("INSERT INTO items (name) VALUES ('after')")
        async with pool.transaction() as tx:
            await tx.execute("INSERT INTO items (name) VALUES ('next transaction')")
        assert await rows_of(pool, "SELECT name FROM items ORDER BY id") == [("after",), ("next transaction",)]
    assert outside.query("SELECT count(*) FROM items") == [(2,)]


async def test_a_transaction_rolls_back_when_cancelled_during_a_running_statement(db_path: str) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.execute("CREATE TABLE filler (x INTEGER)")
        inside = asyncio.Event()

        async def body() -> None:
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('cancelled')")
                inside.set()
                await tx.execute(SLOW_FILL, (50_000_000,))

        task = asyncio.ensure_future(body())
        await inside.wait()
        await asyncio.sleep(0)  # one turn of the loop: the long statement is submitted
        await until_the_writer_queue_is_empty(pool)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await rows_of(pool, "SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM filler)") == [(0,)]
        await pool.execute("INSERT INTO items (name) VALUES ('after')")
        assert await rows_of(pool, "SELECT name FROM items") == [("after",)]


async def test_writes_issued_during_a_transaction_wait_for_it_and_are_not_part_of_it(
    db_path: str, outside: Outside
) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        outside_write: asyncio.Future[Any] | None = None
        with pytest.raises(Rollback):
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('inside')")
                outside_write = asyncio.ensure_future(pool.execute("INSERT INTO items (name) VALUES ('outside')"))
                await asyncio.sleep(0)  # one turn of the loop: the write reaches the pool
                # The writer runs in order: unless the write was held at the gate,
                # it ran before this statement.
                await tx.execute("SELECT 1")
                assert not outside_write.done(), "a write ran on the writer while a transaction owned it"
                assert outside.query("SELECT count(*) FROM items") == [(0,)]
                raise Rollback
        assert outside_write is not None
        await outside_write
        assert await rows_of(pool, "SELECT name FROM items") == [("outside",)]
        await pool.execute("INSERT INTO items (name) VALUES ('after')")
    assert outside.query("SELECT name FROM items ORDER BY id") == [("outside",), ("after",)]


async def test_a_transaction_cursor_fetched_after_its_block_is_refused_not_read_inside_another_transaction(
    db_path: str,
) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.executemany("INSERT INTO items (name) VALUES (?)", [(f"n{i}",) for i in range(2000)])
        async with pool.transaction() as tx:
            cursor = await tx.execute("SELECT name FROM items ORDER BY id")
            assert await cursor.fetchone() == ("n0",)
        async with pool.transaction() as other:
            await other.execute("INSERT INTO items (name) VALUES ('uncommitted')")
            with pytest.raises(aiolibsql.ProgrammingError, match="transaction of this cursor has ended"):
                await cursor.fetchall()
        await pool.execute("INSERT INTO items (name) VALUES ('after')")


@pytest.mark.parametrize("waiting", ["write", "executemany", "executebatch", "nested_transaction"])
async def test_a_task_that_would_wait_on_its_own_transaction_gets_an_error_at_once(
    db_path: str, waiting: str, outside: Outside
) -> None:
    async def wait_on_own_transaction(pool: ConnectionPool) -> None:
        if waiting == "write":
            await pool.execute("INSERT INTO items (name) VALUES ('outside')")
        elif waiting == "executemany":
            await pool.executemany("INSERT INTO items (name) VALUES (?)", [("outside",)])
        elif waiting == "executebatch":
            await pool.executebatch([("INSERT INTO items (name) VALUES ('outside')",)])
        else:
            async with pool.transaction():
                pass

    async with await open_items_pool(db_path, size=3) as pool:
        async with pool.transaction() as tx:
            await tx.execute("INSERT INTO items (name) VALUES ('inside')")
            # A hang guard only, in this same task (asyncio.wait_for would run the wait in another).
            task = asyncio.current_task()
            assert task is not None
            hang_guard = asyncio.get_running_loop().call_later(20, task.cancel)
            try:
                with pytest.raises(aiolibsql.ProgrammingError, match=r"own pool\.transaction\(\) block"):
                    await wait_on_own_transaction(pool)
            finally:
                hang_guard.cancel()
            assert await rows_of(pool, "SELECT count(*) FROM items") == [(0,)]
            await tx.execute("INSERT INTO items (name) VALUES ('still inside')")
        await pool.execute("INSERT INTO items (name) VALUES ('after')")
    assert outside.query("SELECT name FROM items ORDER BY id") == [("inside",), ("still inside",), ("after",)]


@pytest.mark.parametrize("waiting", ["write", "transaction"])
async def test_a_write_waiting_at_the_gate_for_a_transaction_held_open_gives_up_after_the_timeout(
    db_path: str, waiting: str, outside: Outside
) -> None:
    async with await open_items_pool(db_path, size=3, timeout=0.5) as pool:
        inside = asyncio.Event()
        release = asyncio.Event()

        async def hold_a_transaction_open() -> None:
            async with pool.transaction() as tx:
                await tx.execute("INSERT INTO items (name) VALUES ('held')")
                inside.set()
                await release.wait()

        async def write() -> None:
            if waiting == "write":
                await pool.execute("INSERT INTO items (name) VALUES ('waited')")
            else:
                async with pool.transaction() as tx:
                    await tx.execute("INSERT INTO items (name) VALUES ('waited')")

        holder = asyncio.ensure_future(hold_a_transaction_open())
        await inside.wait()
        with pytest.raises(aiolibsql.OperationalError, match="another transaction"):
            await asyncio.wait_for(write(), 30)  # a hang guard only
        release.set()
        await holder
        await pool.execute("INSERT INTO items (name) VALUES ('after')")
    assert outside.query("SELECT name FROM items ORDER BY id") == [("held",), ("after",)]


async def test_transactions_from_many_tasks_run_one_at_a_time(db_path: str) -> None:
    async with create_pool(db_path, size=3) as pool:
        await pool.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        await pool.execute("INSERT INTO counter VALUES (0)")

        async def read_modify_write() -> None:
            async with pool.transaction() as tx:
                (n,) = await (await tx.execute("SELECT n FROM counter")).fetchone()
                await asyncio.sleep(0)
                await tx.execute("UPDATE counter SET n = ?", (n + 1,))

        await asyncio.gather(*(read_modify_write() for _ in range(50)))
        assert await rows_of(pool, "SELECT n FROM counter") == [(50,)]


async def test_cancelling_while_entering_a_transaction_does_not_block_later_writes(db_path: str) -> None:
    async with await open_items_pool(db_path, size=2, timeout=60) as pool:
        # Kept by the caller, as in `tx = pool.transaction(); async with tx: ...`.
        transaction = pool.transaction()

        async def enter() -> None:
            async with transaction:
                await transaction.execute("INSERT INTO items (name) VALUES ('never')")

        with holding_the_write_lock(db_path):
            # The writer waits for the lock another process holds, and the
            # transaction's BEGIN queues behind that write.
            busy = asyncio.ensure_future(pool.execute("INSERT INTO items (name) VALUES ('busy')"))
            await asyncio.sleep(0)
            entering = asyncio.ensure_future(enter())
            await asyncio.sleep(0)
            assert not busy.done()
            entering.cancel()
        # A BEGIN already handed to the writer ends before the cancellation
        # takes effect, so this waits for the lock to be released.
        with pytest.raises(asyncio.CancelledError):
            await entering
        await busy
        later = asyncio.ensure_future(pool.execute("INSERT INTO items (name) VALUES ('later')"))
        done, _ = await asyncio.wait({later}, timeout=30)
        if not done:
            later.cancel()
        assert done, "a write after a cancelled BEGIN never ran: the cancelled transaction still owns the writer"
        assert await rows_of(pool, "SELECT name FROM items ORDER BY id") == [("busy",), ("later",)]


# --- snapshots ---------------------------------------------------------------


async def test_a_snapshot_sees_one_state_while_the_writer_commits(db_path: str, outside: Outside) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.execute("INSERT INTO items (name) VALUES ('before')")
        async with pool.snapshot() as snapshot:
            first = await (await snapshot.execute("SELECT name FROM items ORDER BY id")).fetchall()
            await pool.execute("INSERT INTO items (name) VALUES ('during')")
            assert outside.query("SELECT count(*) FROM items") == [(2,)]
            assert await rows_of(pool, "SELECT count(*) FROM items") == [(2,)]
            second = await (await snapshot.execute("SELECT name FROM items ORDER BY id")).fetchall()
            assert first == second == [("before",)]
        assert await rows_of(pool, "SELECT name FROM items ORDER BY id") == [("before",), ("during",)]
        # The reader it pinned serves ordinary reads again, with the new state.
        for _ in range(4):
            assert await rows_of(pool, "SELECT count(*) FROM items") == [(2,)]


async def test_reads_never_see_uncommitted_writes_when_every_reader_holds_a_snapshot(db_path: str) -> None:
    async with await open_items_pool(db_path, size=2) as pool:
        async with pool.snapshot() as snapshot:
            with pytest.raises(Rollback):
                async with pool.transaction() as tx:
                    await tx.execute("INSERT INTO items (name) VALUES ('uncommitted')")
                    read = asyncio.ensure_future(rows_of(pool, "SELECT count(*) FROM items"))
                    await asyncio.sleep(0)  # one turn of the loop: the read reaches the pool
                    # A round trip on the writer: a read sent there ahead of it has had its turn.
                    await tx.execute("SELECT 1")
                    raise Rollback
            # Whenever and wherever the read ran, it must not have seen a row
            # that was never committed.
            assert await read == [(0,)], "a pool read saw another transaction's uncommitted row"
            assert await (await snapshot.execute("SELECT count(*) FROM items")).fetchall() == [(0,)]


async def test_cancelling_while_entering_a_snapshot_does_not_keep_its_reader_pinned(db_path: str) -> None:
    async with create_pool(db_path, size=2, timeout=60) as pool:
        # Kept by the caller, as in `snap = pool.snapshot(); async with snap: ...`.
        snapshot = pool.snapshot()

        async def enter() -> None:
            async with snapshot:
                await snapshot.execute("SELECT 1")

        async with pool.snapshot() as holding:
            # The only reader is pinned by `holding`: the second snapshot waits for it.
            entering = asyncio.ensure_future(enter())
            await asyncio.sleep(0)
            assert not entering.done()
            entering.cancel()
            with pytest.raises(asyncio.CancelledError):
                await entering
            assert await (await holding.execute("SELECT 2")).fetchall() == [(2,)]
        # The cancelled snapshot never began, so the reader must be free again.
        async with pool.snapshot() as again:
            assert await (await again.execute("SELECT 1")).fetchall() == [(1,)]


# --- streaming ---------------------------------------------------------------


async def test_a_large_result_streams_through_the_pool_in_order(db_path: str) -> None:
    async with await open_items_pool(db_path, size=3) as pool:
        await pool.executemany("INSERT INTO items (id, name) VALUES (?, ?)", [(i, f"n{i}") for i in range(20_000)])
        expected = [(i, f"n{i}") for i in range(20_000)]
        writer_before, _ = completed(pool)
        cursor = await pool.execute("SELECT id, name FROM items ORDER BY id")
        assert await cursor.fetchall() == expected
        streamed = [row async for row in await pool.execute("SELECT id, name FROM items ORDER BY id")]
        assert streamed == expected
        # Both streams ran, chunk by chunk, on readers.
        writer_after, _ = completed(pool)
        assert writer_after == writer_before


# --- load ----------------------------------------------------------------------

LOAD_TASKS = 500
LOAD_OPERATIONS = 200


async def test_mixed_load_has_no_errors_and_exact_counts(db_path: str, outside: Outside) -> None:
    pool = await create_pool(db_path, size=8)
    await pool.execute("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    await pool.execute("INSERT INTO settings VALUES ('mode', 'fast')")
    await pool.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    await pool.execute("INSERT INTO counter VALUES (1, 0)")
    await pool.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, task INTEGER NOT NULL, step INTEGER NOT NULL)")

    async def worker(task: int) -> tuple[int, int, int]:
        reads = increments = inserts = 0
        for step in range(LOAD_OPERATIONS):
            kind = (task + step) % 3
            if kind == 0:
                cursor = await pool.execute("SELECT value FROM settings WHERE key = ?", ("mode",))
                assert await cursor.fetchall() == [("fast",)]
                reads += 1
            elif kind == 1:
                cursor = await pool.execute("UPDATE counter SET n = n + 1 WHERE id = 1")
                assert cursor.rowcount == 1
                increments += 1
            else:
                await pool.execute("INSERT INTO log (task, step) VALUES (?, ?)", (task, step))
                inserts += 1
        return reads, increments, inserts

    results = await asyncio.gather(*(worker(task) for task in range(LOAD_TASKS)), return_exceptions=True)
    errors = [result for result in results if isinstance(result, BaseException)]
    assert errors == []
    counts = [result for result in results if not isinstance(result, BaseException)]
    reads = sum(count[0] for count in counts)
    increments = sum(count[1] for count in counts)
    inserts = sum(count[2] for count in counts)
    assert reads + increments + inserts == LOAD_TASKS * LOAD_OPERATIONS
    assert increments > 0 and inserts > 0
    assert await rows_of(pool, "SELECT n FROM counter") == [(increments,)]
    assert await rows_of(pool, "SELECT count(*) FROM log") == [(inserts,)]
    assert pool.stats()["group_commit"]["groups"] >= 1
    await pool.close()
    assert outside.query("SELECT n FROM counter") == [(increments,)]
    assert outside.query("SELECT count(*) FROM log") == [(inserts,)]
    assert outside.query("SELECT count(DISTINCT task || ':' || step) FROM log") == [(inserts,)]


# --- closing under load --------------------------------------------------------


async def test_closing_under_load_fails_pending_work_only_with_programming_error(
    db_path: str, outside: Outside
) -> None:
    pool = await open_items_pool(db_path, size=4, timeout=60)
    await pool.executemany("INSERT INTO items (id, name) VALUES (?, ?)", [(-i, f"seed{i}") for i in range(1, 5001)])
    release = asyncio.Event()

    async def insert(i: int) -> int:
        await pool.execute("INSERT INTO items (id, name) VALUES (?, ?)", (i, f"n{i}"))
        return i

    async def read() -> int:
        cursor = await pool.execute("SELECT count(*) FROM items")
        await cursor.fetchall()
        return 0

    async def stream() -> int:
        cursor = await pool.execute("SELECT id, name FROM items")
        await cursor.fetchall()
        return 0

    async def hold_transaction(i: int) -> int:
        async with pool.transaction() as tx:
            await tx.execute("INSERT INTO items (id, name) VALUES (?, ?)", (i, f"n{i}"))
            await release.wait()
            await tx.execute("INSERT INTO items (id, name) VALUES (?, ?)", (i + 1, f"n{i + 1}"))
        return i

    async def snapshot_reads() -> int:
        async with pool.snapshot() as snapshot:
            for _ in range(20):
                await (await snapshot.execute("SELECT count(*) FROM items")).fetchall()
        return 0

    # Done before the close.
    done_before = await asyncio.gather(*(insert(i) for i in range(1, 301)))
    with holding_the_write_lock(db_path) as release_the_lock:
        # The writer is busy with a statement that waits for another process's
        # lock when the pool closes (DDL: never grouped with the writes behind it) ...
        busy = asyncio.ensure_future(pool.execute("CREATE TABLE made_while_closing (x INTEGER)"))
        await asyncio.sleep(0)  # one turn of the loop: the statement is submitted
        await until_the_writer_queue_is_empty(pool)
        operations: list[asyncio.Future[int]] = []
        # ... with these queued behind it,
        queued = [asyncio.ensure_future(insert(i)) for i in range(1001, 2001)]
        operations.extend(queued)
        holder = asyncio.ensure_future(hold_transaction(100_000))
        operations.append(holder)
        # these waiting for the transaction above,
        waiting = [asyncio.ensure_future(insert(i)) for i in range(3001, 3501)]
        operations.extend(waiting)
        # and readers and snapshots busy too.
        operations.extend(asyncio.ensure_future(read() if i % 50 else stream()) for i in range(1000))
        operations.append(asyncio.ensure_future(snapshot_reads()))
        await asyncio.sleep(0)  # one turn of the loop: everything is submitted
        assert not busy.done(), "the lock holder should keep the statement running"

        closing = asyncio.ensure_future(pool.close())
        # The queued writes fail while the running statement still waits ...
        await asyncio.wait_for(asyncio.wait([*queued, *waiting, holder]), 30)
        assert not busy.done() and not closing.done()
        release_the_lock()
    # ... and it completes once the lock is free; so does the close.
    await asyncio.wait_for(closing, 30)
    release.set()
    results = await asyncio.wait_for(asyncio.gather(*operations, return_exceptions=True), 30)

    # The running statement finished; everything else either finished or
    # failed with ProgrammingError, and nothing hung.
    await busy
    unexpected = [r for r in results if isinstance(r, BaseException) and type(r) is not aiolibsql.ProgrammingError]
    assert unexpected == []
    for future in [*queued, *waiting, holder]:
        assert isinstance(future.exception(), aiolibsql.ProgrammingError)
    succeeded = sorted(done_before + [r for r in results if not isinstance(r, BaseException) and r > 0])

    assert outside.query("PRAGMA integrity_check") == [("ok",)]
    # Exactly the writes reported as done are in the file; the ones that failed
    # with ProgrammingError never ran (the held transaction's rows included).
    present = [i for (i,) in outside.query("SELECT id FROM items WHERE id > 0 ORDER BY id")]
    assert present == succeeded == list(range(1, 301))
    assert outside.query("SELECT count(*) FROM items WHERE id < 0") == [(5000,)]
    assert outside.query("SELECT count(*) FROM made_while_closing") == [(0,)]


# --- pragmas ---------------------------------------------------------------------


async def test_default_pragmas_give_wal_and_synchronous_normal(db_path: str) -> None:
    async with create_pool(db_path, size=2) as pool:
        assert await rows_of(pool, "PRAGMA journal_mode") == [("wal",)]
        assert await rows_of(pool, "PRAGMA synchronous") == [(1,)]


async def test_a_pragma_override_applies_to_readers_and_the_writer(db_path: str) -> None:
    async with create_pool(db_path, size=3, pragmas={"synchronous": "FULL", "cache_size": -2000}) as pool:
        for _ in range(pool.reader_count + 1):
            assert await rows_of(pool, "PRAGMA synchronous") == [(2,)]
        assert await rows_of(pool, "PRAGMA cache_size") == [(-2000,)]
        async with pool.transaction() as tx:
            assert await (await tx.execute("PRAGMA synchronous")).fetchall() == [(2,)]
        assert await rows_of(pool, "PRAGMA journal_mode") == [("wal",)]


@pytest.mark.parametrize(
    "pragmas",
    [
        {"synchronous; DROP TABLE x": "FULL"},
        {"1synchronous": "FULL"},
        {"": 1},
        {"synchronous": "FULL; DROP TABLE x"},
        {"synchronous": "FULL NORMAL"},
        {"synchronous": ""},
        {"synchronous": True},
        {"synchronous": 1.5},
        {"synchronous": None},
        {"cache_size": "-16000)"},
    ],
    ids=repr,
)
async def test_a_bad_pragma_name_or_value_is_a_value_error(db_path: str, pragmas: Any) -> None:
    with pytest.raises(ValueError):
        await create_pool(db_path, pragmas=pragmas)
    assert not os.path.exists(db_path)


async def test_a_busy_timeout_pragma_is_refused_in_favour_of_the_timeout_argument(db_path: str) -> None:
    with pytest.raises(ValueError, match="timeout"):
        await aiolibsql.create_pool(db_path, size=2, pragmas={"busy_timeout": 100})


async def test_a_snapshot_waits_for_a_reader_another_snapshot_holds(db_path: str) -> None:
    async with aiolibsql.create_pool(db_path, size=2, timeout=5) as pool:
        await pool.execute("CREATE TABLE t (x INTEGER)")

        async def second_snapshot() -> list[Any]:
            async with pool.snapshot() as snapshot:
                return await (await snapshot.execute("SELECT count(*) FROM t")).fetchall()

        async with pool.snapshot():
            waiting = asyncio.ensure_future(second_snapshot())
            await asyncio.sleep(0.05)
            assert not waiting.done(), "the only reader is pinned: the second snapshot must wait"
        assert await asyncio.wait_for(waiting, 5) == [(0,)]


async def test_a_snapshot_gives_up_with_sqlite_busy_after_the_pool_timeout(db_path: str) -> None:
    async with aiolibsql.create_pool(db_path, size=2, timeout=0.1) as pool:
        async with pool.snapshot():
            with pytest.raises(aiolibsql.OperationalError) as raised:
                async with pool.snapshot():
                    pass
            assert raised.value.sqlite_errorname == "SQLITE_BUSY"
        async with pool.snapshot() as snapshot:
            assert await (await snapshot.execute("SELECT 1")).fetchall() == [(1,)]
