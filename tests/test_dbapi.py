"""aiolibsql.dbapi, the blocking PEP 249 module.

The sqlite3-style scenarios are written once and run against both the stdlib
``sqlite3`` and ``aiolibsql.dbapi`` (the ``db`` fixture), so a difference in
behaviour shows up as a failure. Behaviour only this module has follows them.

Each scenario uses its own file: opening one file with both engines in one
process is unsafe (see the README), and no scenario does.
"""

from __future__ import annotations

import datetime
import sqlite3
import subprocess
import sys
import threading
import time
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import aiolibsql
import aiolibsql.dbapi as dbapi

EXCEPTION_NAMES = (
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
)
# A query that runs until it is interrupted.
ENDLESS_QUERY = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT max(i) FROM c"


# Behaviours that the stdlib's sqlite3 has only from Python 3.11: before it, ours
# alone is held to them.
SINCE_PYTHON_3_11 = pytest.mark.parametrize(
    "db", ["sqlite3", "aiolibsql.dbapi"] if sys.version_info >= (3, 11) else ["aiolibsql.dbapi"], indirect=True
)


@pytest.fixture(params=["sqlite3", "aiolibsql.dbapi"])
def db(request: pytest.FixtureRequest) -> types.ModuleType:
    """The DB-API module under test: the stdlib's or ours."""
    return sqlite3 if request.param == "sqlite3" else dbapi


@pytest.fixture
def path(tmp_path: Path) -> str:
    return str(tmp_path / "scenario.db")


@pytest.fixture
def conn(db: types.ModuleType, path: str) -> Iterator[sqlite3.Connection]:
    connection = db.connect(path)
    connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL)")
    yield connection
    connection.close()


def run_child(script: str) -> subprocess.CompletedProcess[str]:
    """Runs `script` in a fresh interpreter; the timeout only guards against a hang."""
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def count_users(db: types.ModuleType, path: str) -> int:
    """Rows visible to a second connection, i.e. committed ones."""
    other = db.connect(path)
    try:
        return other.execute("SELECT count(*) FROM users").fetchone()[0]
    finally:
        other.close()


# -- scenarios run against both modules -------------------------------------


class TestModuleInterface:
    def test_globals_are_those_pep_249_requires(self, db: types.ModuleType) -> None:
        assert db.apilevel == "2.0"
        assert db.paramstyle == "qmark"
        assert db.threadsafety in (1, 2, 3)

    def test_exception_hierarchy_is_pep_249s(self, db: types.ModuleType) -> None:
        assert issubclass(db.Warning, Exception)
        assert issubclass(db.Error, Exception)
        assert issubclass(db.InterfaceError, db.Error)
        assert issubclass(db.DatabaseError, db.Error)
        for name in ("DataError", "OperationalError", "IntegrityError", "InternalError", "ProgrammingError"):
            assert issubclass(getattr(db, name), db.DatabaseError)
        assert issubclass(db.NotSupportedError, db.DatabaseError)

    def test_connection_exposes_the_exception_classes_through_the_module(self, db: types.ModuleType) -> None:
        for name in EXCEPTION_NAMES:
            assert isinstance(getattr(db, name), type)

    def test_constructors_make_bindable_values(self, db: types.ModuleType) -> None:
        assert db.Date(2024, 1, 2) == datetime.date(2024, 1, 2)
        assert db.Time(3, 4, 5) == datetime.time(3, 4, 5)
        assert db.Timestamp(2024, 1, 2, 3, 4, 5) == datetime.datetime(2024, 1, 2, 3, 4, 5)
        ticks = time.mktime((2024, 1, 2, 3, 4, 5, 0, 0, -1))
        assert db.DateFromTicks(ticks) == datetime.date(2024, 1, 2)
        assert db.TimeFromTicks(ticks) == datetime.time(3, 4, 5)
        assert db.TimestampFromTicks(ticks) == datetime.datetime(2024, 1, 2, 3, 4, 5)
        assert bytes(db.Binary(b"\x00\x01")) == b"\x00\x01"


class TestCreateInsertSelect:
    def test_committed_rows_are_visible_to_another_connection(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        conn.execute("INSERT INTO users (name, score) VALUES (?, ?)", ("alice", 1.5))
        assert count_users(db, path) == 0
        conn.commit()
        assert count_users(db, path) == 1

    def test_execute_returns_the_cursor_it_ran_on(self, conn: sqlite3.Connection) -> None:
        cursor = conn.cursor()
        assert cursor.execute("SELECT 1") is cursor

    def test_select_returns_tuples_of_python_values(self, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO users (name, score) VALUES (?, ?)", ("alice", 1.5))
        assert conn.execute("SELECT id, name, score FROM users").fetchall() == [(1, "alice", 1.5)]

    def test_named_parameters_bind_from_a_mapping(self, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO users (name, score) VALUES (:name, :score)", {"name": "bob", "score": 2.0})
        assert conn.execute("SELECT name FROM users WHERE score = :s", {"s": 2.0}).fetchone() == ("bob",)

    def test_cursor_iterates_over_its_rows(self, conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO users (name) VALUES (?)", [("a",), ("b",), ("c",)])
        assert [name for (name,) in conn.execute("SELECT name FROM users ORDER BY id")] == ["a", "b", "c"]

    def test_fetchone_fetchmany_fetchall_share_one_position(self, conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO users (name) VALUES (?)", [(str(i),) for i in range(6)])
        cursor = conn.execute("SELECT name FROM users ORDER BY id")
        assert cursor.fetchone() == ("0",)
        assert cursor.fetchmany() == [("1",)]
        cursor.arraysize = 2
        assert cursor.fetchmany() == [("2",), ("3",)]
        assert cursor.fetchall() == [("4",), ("5",)]
        assert cursor.fetchone() is None
        assert cursor.fetchmany() == []

    def test_fetchmany_with_a_negative_size_returns_the_rest(self, conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO users (name) VALUES (?)", [("a",), ("b",)])
        assert conn.execute("SELECT name FROM users ORDER BY id").fetchmany(-1) == [("a",), ("b",)]

    def test_description_names_the_result_columns(self, conn: sqlite3.Connection) -> None:
        cursor = conn.execute("SELECT id, name AS who FROM users")
        assert cursor.description == (
            ("id", None, None, None, None, None, None),
            ("who", None, None, None, None, None, None),
        )
        assert conn.execute("INSERT INTO users (name) VALUES ('x')").description is None

    def test_rowcount_counts_changed_rows_and_is_minus_one_for_select(self, conn: sqlite3.Connection) -> None:
        cursor = conn.cursor()
        assert cursor.rowcount == -1
        cursor.executemany("INSERT INTO users (name) VALUES (?)", [("a",), ("b",), ("c",)])
        assert cursor.rowcount == 3
        cursor.execute("UPDATE users SET score = 1 WHERE name != 'a'")
        assert cursor.rowcount == 2
        cursor.execute("SELECT * FROM users")
        assert cursor.rowcount == -1

    def test_lastrowid_is_the_inserted_rowid(self, conn: sqlite3.Connection) -> None:
        cursor = conn.cursor()
        assert cursor.lastrowid is None
        cursor.execute("INSERT INTO users (id, name) VALUES (41, 'a')")
        assert cursor.lastrowid == 41
        cursor.execute("INSERT INTO users (name) VALUES ('b')")
        assert cursor.lastrowid == 42

    def test_row_factory_row_reads_by_name(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        conn.row_factory = db.Row
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        row = conn.execute("SELECT id, name FROM users").fetchone()
        assert (row["name"], row["NAME"], row[0], row.keys()) == ("alice", "alice", 1, ["id", "name"])

    def test_custom_row_factory_gets_the_cursor_and_the_tuple(self, conn: sqlite3.Connection) -> None:
        conn.row_factory = lambda cursor, row: {d[0]: v for d, v in zip(cursor.description, row, strict=True)}
        assert conn.execute("SELECT 1 AS one").fetchall() == [{"one": 1}]

    def test_executemany_takes_a_generator(self, conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO users (name) VALUES (?)", ((f"user{i}",) for i in range(100)))
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (100,)

    def test_executescript_runs_every_statement(self, conn: sqlite3.Connection) -> None:
        conn.executescript("INSERT INTO users (name) VALUES ('a'); INSERT INTO users (name) VALUES ('b');")
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (2,)

    def test_blobs_round_trip_as_bytes(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE blobs (b BLOB)")
        conn.execute("INSERT INTO blobs VALUES (?)", (db.Binary(b"\x00\xff"),))
        assert conn.execute("SELECT b FROM blobs").fetchone() == (b"\x00\xff",)

    def test_dates_are_stored_as_iso_text(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE events (d, ts)")
        with warnings.catch_warnings():
            # Python 3.12 deprecated sqlite3's default date adapters.
            warnings.simplefilter("ignore", DeprecationWarning)
            conn.execute(
                "INSERT INTO events VALUES (?, ?)", (db.Date(2024, 1, 2), db.Timestamp(2024, 1, 2, 3, 4, 5, 6))
            )
        assert conn.execute("SELECT d, ts FROM events").fetchone() == ("2024-01-02", "2024-01-02 03:04:05.000006")

    def test_a_large_result_is_read_to_the_end(self, conn: sqlite3.Connection) -> None:
        query = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50000) SELECT i FROM c"
        assert sum(i for (i,) in conn.execute(query)) == 50000 * 50001 // 2

    def test_total_changes_counts_every_changed_row(self, conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO users (name) VALUES (?)", [("a",), ("b",)])
        conn.execute("DELETE FROM users")
        assert conn.total_changes == 4

    def test_memory_databases_are_private_to_their_connection(self, db: types.ModuleType) -> None:
        first, second = db.connect(":memory:"), db.connect(":memory:")
        first.execute("CREATE TABLE only_here (x)")
        with pytest.raises(db.OperationalError):
            second.execute("SELECT * FROM only_here")
        first.close()
        second.close()

    def test_create_function_is_callable_from_sql(self, conn: sqlite3.Connection) -> None:
        conn.create_function("double", 1, lambda x: x * 2, deterministic=True)
        assert conn.execute("SELECT double(21)").fetchone() == (42,)

    def test_a_user_function_can_query_its_own_connection(self, db: types.ModuleType, path: str) -> None:
        # In a child process: a deadlock there is a failure, not a hung suite.
        script = (
            f"import {db.__name__} as db\n"
            f"c = db.connect({path!r})\n"
            "c.execute('CREATE TABLE t (x)')\n"
            "c.executemany('INSERT INTO t VALUES (?)', [(1,), (2,)])\n"
            "c.create_function('f', 1, lambda x: c.execute('SELECT count(*) FROM t').fetchone()[0] + x)\n"
            "print(c.execute('SELECT f(1), f(10)').fetchone())\n"
            "c.close()\n"
        )
        child = run_child(script)
        assert (child.returncode, child.stdout.strip(), child.stderr) == (0, "(3, 12)", "")

    def test_backup_copies_the_database(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        conn.commit()
        target = db.connect(":memory:")
        conn.backup(target)
        assert target.execute("SELECT name FROM users").fetchall() == [("alice",)]
        target.close()

    def test_cursor_factory_makes_the_cursor(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        class Tagged(db.Cursor):  # type: ignore[name-defined,misc]
            tag = "mine"

        assert conn.cursor(factory=Tagged).tag == "mine"

    def test_connect_factory_makes_the_connection(self, db: types.ModuleType, path: str) -> None:
        class Tagged(db.Connection):  # type: ignore[name-defined,misc]
            tag = "mine"

        connection = db.connect(path, factory=Tagged)
        assert connection.tag == "mine"
        assert connection.execute("SELECT 1").fetchone() == (1,)
        connection.close()


class TestTransactions:
    def test_rollback_discards_uncommitted_rows(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        assert conn.in_transaction
        conn.rollback()
        assert not conn.in_transaction
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)

    def test_select_does_not_open_a_transaction(self, conn: sqlite3.Connection) -> None:
        conn.execute("SELECT * FROM users").fetchall()
        assert not conn.in_transaction

    def test_with_block_commits_and_leaves_the_connection_open(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        with conn:
            conn.execute("INSERT INTO users (name) VALUES ('alice')")
        assert count_users(db, path) == 1
        assert conn.execute("SELECT 1").fetchone() == (1,)

    def test_with_block_rolls_back_and_reraises(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        with pytest.raises(RuntimeError), conn:
            conn.execute("INSERT INTO users (name) VALUES ('alice')")
            raise RuntimeError("boom")
        assert not conn.in_transaction
        assert count_users(db, path) == 0

    def test_isolation_level_none_commits_each_statement(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        conn.isolation_level = None
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        assert not conn.in_transaction
        assert count_users(db, path) == 1

    def test_setting_isolation_level_none_commits_the_open_transaction(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        conn.isolation_level = None
        assert not conn.in_transaction
        assert count_users(db, path) == 1

    def test_explicit_begin_under_isolation_level_none_ends_with_commit(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        conn.isolation_level = None
        conn.execute("BEGIN")
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        assert conn.in_transaction
        assert count_users(db, path) == 0
        conn.commit()
        assert count_users(db, path) == 1

    def test_explicit_begin_under_isolation_level_none_ends_with_rollback(self, conn: sqlite3.Connection) -> None:
        conn.isolation_level = None
        conn.execute("BEGIN")
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        conn.rollback()
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)

    def test_savepoints_roll_back_inside_a_transaction(self, conn: sqlite3.Connection) -> None:
        conn.isolation_level = None
        conn.execute("BEGIN")
        conn.execute("INSERT INTO users (name) VALUES ('kept')")
        conn.execute("SAVEPOINT sp")
        conn.execute("INSERT INTO users (name) VALUES ('dropped')")
        conn.execute("ROLLBACK TO SAVEPOINT sp")
        conn.execute("RELEASE SAVEPOINT sp")
        conn.commit()
        assert conn.execute("SELECT name FROM users").fetchall() == [("kept",)]

    def test_isolation_level_can_be_set_back_to_implicit_transactions(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        conn.isolation_level = None
        conn.isolation_level = ""
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        assert conn.in_transaction
        assert count_users(db, path) == 0
        conn.commit()
        assert count_users(db, path) == 1

    @SINCE_PYTHON_3_11
    def test_isolation_level_reads_back_upper_case(self, conn: sqlite3.Connection) -> None:
        conn.isolation_level = "immediate"
        assert conn.isolation_level == "IMMEDIATE"

    def test_exclusive_isolation_level_locks_out_readers(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        conn.isolation_level = "EXCLUSIVE"
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        reader = db.connect(path, timeout=0)
        with pytest.raises(db.OperationalError, match="locked"):
            reader.execute("SELECT count(*) FROM users").fetchall()
        conn.commit()
        assert reader.execute("SELECT count(*) FROM users").fetchone() == (1,)
        reader.close()

    def test_executescript_commits_a_pending_transaction_first(
        self, db: types.ModuleType, path: str, conn: sqlite3.Connection
    ) -> None:
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        conn.executescript("SELECT 1;")
        assert not conn.in_transaction
        assert count_users(db, path) == 1

    def test_close_rolls_back_uncommitted_work(self, db: types.ModuleType, path: str) -> None:
        connection = db.connect(path)
        connection.execute("CREATE TABLE users (name TEXT)")
        connection.execute("INSERT INTO users VALUES ('alice')")
        connection.close()
        assert count_users(db, path) == 0


class TestErrors:
    def test_unique_violation_raises_integrity_error(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
        with pytest.raises(db.IntegrityError):
            conn.execute("INSERT INTO users (name) VALUES ('alice')")

    def test_syntax_error_raises_operational_error(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        with pytest.raises(db.OperationalError, match="syntax error"):
            conn.execute("SELEC 1")

    def test_missing_table_raises_operational_error(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        with pytest.raises(db.OperationalError, match="no such table"):
            conn.execute("SELECT * FROM nowhere")

    def test_wrong_number_of_parameters_raises_programming_error(
        self, db: types.ModuleType, conn: sqlite3.Connection
    ) -> None:
        with pytest.raises(db.ProgrammingError):
            conn.execute("SELECT ?, ?", (1,))

    @SINCE_PYTHON_3_11
    def test_unsupported_parameter_type_raises_programming_error(
        self, db: types.ModuleType, conn: sqlite3.Connection
    ) -> None:
        with pytest.raises(db.ProgrammingError):
            conn.execute("SELECT ?", (object(),))

    @SINCE_PYTHON_3_11
    def test_parameters_that_are_not_a_sequence_raise_programming_error(
        self, db: types.ModuleType, conn: sqlite3.Connection
    ) -> None:
        with pytest.raises(db.ProgrammingError):
            conn.execute("SELECT ?", 5)

    @SINCE_PYTHON_3_11
    def test_two_statements_in_execute_raise_programming_error(
        self, db: types.ModuleType, conn: sqlite3.Connection
    ) -> None:
        with pytest.raises(db.ProgrammingError):
            conn.execute("SELECT 1; SELECT 2")

    def test_executemany_of_a_select_raises_programming_error(
        self, db: types.ModuleType, conn: sqlite3.Connection
    ) -> None:
        with pytest.raises(db.ProgrammingError):
            conn.executemany("SELECT ?", [(1,)])

    def test_closed_connection_raises_programming_error(self, db: types.ModuleType, path: str) -> None:
        connection = db.connect(path)
        connection.close()
        connection.close()  # closing twice is fine
        for operation in (
            lambda: connection.execute("SELECT 1"),
            connection.cursor,
            connection.commit,
            connection.rollback,
            lambda: connection.total_changes,
            lambda: connection.in_transaction,
        ):
            with pytest.raises(db.ProgrammingError, match="closed database"):
                operation()

    def test_cursor_of_a_closed_connection_raises_programming_error(self, db: types.ModuleType, path: str) -> None:
        connection = db.connect(path)
        cursor = connection.execute("SELECT 1")
        connection.close()
        with pytest.raises(db.ProgrammingError, match="closed database"):
            cursor.fetchall()
        with pytest.raises(db.ProgrammingError, match="closed database"):
            cursor.execute("SELECT 1")

    def test_closed_cursor_raises_programming_error(self, db: types.ModuleType, conn: sqlite3.Connection) -> None:
        cursor = conn.execute("SELECT 1")
        cursor.close()
        for operation in (lambda: cursor.execute("SELECT 1"), cursor.fetchone, cursor.fetchall, cursor.fetchmany):
            with pytest.raises(db.ProgrammingError, match="closed cursor"):
                operation()

    def test_bad_isolation_level_raises_value_or_type_error(self, db: types.ModuleType, path: str) -> None:
        with pytest.raises(ValueError):
            db.connect(path, isolation_level="SERIALIZABLE")
        connection = db.connect(path)
        with pytest.raises(ValueError):
            connection.isolation_level = "bogus"
        with pytest.raises(TypeError):
            connection.isolation_level = 5
        connection.close()

    def test_interrupt_stops_a_running_query(self, db: types.ModuleType, path: str) -> None:
        connection = db.connect(path, check_same_thread=False)
        timer = threading.Timer(0.2, connection.interrupt)
        timer.start()
        try:
            with pytest.raises(db.OperationalError, match="interrupted"):
                connection.execute(ENDLESS_QUERY).fetchall()
        finally:
            timer.join()
        assert connection.execute("SELECT 1").fetchone() == (1,)
        connection.close()


# -- behaviour of aiolibsql.dbapi alone --------------------------------------


class TestOnlyOurs:
    def test_module_reports_threadsafety_two_and_the_engine_versions(self) -> None:
        assert dbapi.threadsafety == 2
        assert dbapi.sqlite_version == aiolibsql.sqlite_version
        assert dbapi.sqlite_version_info == aiolibsql.sqlite_version_info
        assert dbapi.libsql_version == aiolibsql.libsql_version

    def test_exceptions_are_the_asyncio_apis_classes(self) -> None:
        for name in EXCEPTION_NAMES:
            assert getattr(dbapi, name) is getattr(aiolibsql, name)

    def test_type_objects_compare_equal_to_their_type_names(self) -> None:
        assert dbapi.STRING == "text" and dbapi.STRING == "VARCHAR"
        assert dbapi.BINARY == "BLOB"
        assert dbapi.NUMBER == "INTEGER" and dbapi.NUMBER == "REAL"
        assert dbapi.DATETIME == "TIMESTAMP"
        assert dbapi.ROWID == "ROWID"
        assert dbapi.STRING != "BLOB" and dbapi.STRING != 1

    def test_times_are_stored_as_iso_text(self) -> None:
        connection = dbapi.connect(":memory:")
        assert connection.execute("SELECT ?", (dbapi.Time(3, 4, 5),)).fetchone() == ("03:04:05",)
        assert connection.execute("SELECT :d", {"d": dbapi.Date(2024, 1, 2)}).fetchone() == ("2024-01-02",)
        connection.execute("CREATE TABLE t (d)")
        connection.executemany("INSERT INTO t VALUES (?)", [(dbapi.Date(2024, 1, 2),), ("plain",)])
        assert connection.execute("SELECT d FROM t").fetchall() == [("2024-01-02",), ("plain",)]
        connection.close()

    def test_a_streamed_returning_result_reports_its_rowcount_at_the_end(self) -> None:
        connection = dbapi.connect(":memory:")
        connection.execute("CREATE TABLE t (x)")
        cursor = connection.execute(
            "INSERT INTO t WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000) "
            "SELECT i FROM c RETURNING x"
        )
        assert len(cursor.fetchall()) == 5000
        assert cursor.rowcount == 5000
        connection.close()

    def test_threads_share_one_connection(self, tmp_path: Path) -> None:
        connection = dbapi.connect(str(tmp_path / "shared.db"), isolation_level=None)
        connection.execute("CREATE TABLE t (x)")

        def insert(start: int) -> None:
            for i in range(start, start + 200):
                connection.execute("INSERT INTO t VALUES (?)", (i,))

        threads = [threading.Thread(target=insert, args=(n * 1000,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert connection.execute("SELECT count(*) FROM t").fetchone() == (800,)
        connection.close()

    def test_other_threads_run_while_a_query_blocks(self) -> None:
        connection = dbapi.connect(":memory:")
        ticks = 0
        stop = threading.Event()

        def tick() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                time.sleep(0.001)

        ticker = threading.Thread(target=tick)
        ticker.start()
        timer = threading.Timer(0.3, connection.interrupt)
        timer.start()
        with pytest.raises(dbapi.OperationalError):
            connection.execute(ENDLESS_QUERY)
        stop.set()
        ticker.join()
        timer.join()
        # The GIL was free while the engine worked: the ticker kept counting.
        assert ticks > 50
        connection.close()

    def test_autocommit_true_commits_each_statement_and_ignores_commit(self, tmp_path: Path) -> None:
        path = str(tmp_path / "auto.db")
        connection = dbapi.connect(path, autocommit=True)
        assert connection.autocommit is True
        connection.execute("CREATE TABLE users (name TEXT)")
        connection.execute("INSERT INTO users VALUES ('alice')")
        assert not connection.in_transaction
        connection.rollback()
        assert count_users(dbapi, path) == 1
        connection.close()

    def test_autocommit_false_keeps_a_transaction_open(self, tmp_path: Path) -> None:
        path = str(tmp_path / "manual.db")
        connection = dbapi.connect(path, autocommit=False)
        assert connection.in_transaction
        connection.execute("CREATE TABLE users (name TEXT)")
        connection.commit()
        assert connection.in_transaction
        connection.execute("INSERT INTO users VALUES ('alice')")
        connection.autocommit = True  # commits, as in Python 3.12's sqlite3
        assert not connection.in_transaction
        assert count_users(dbapi, path) == 1
        connection.autocommit = dbapi.LEGACY_TRANSACTION_CONTROL
        connection.execute("INSERT INTO users VALUES ('bob')")
        assert connection.in_transaction
        connection.close()
        assert count_users(dbapi, path) == 1

    def test_isolation_level_has_no_effect_outside_legacy_control(self) -> None:
        connection = dbapi.connect(":memory:", autocommit=True)
        connection.isolation_level = "IMMEDIATE"
        connection.execute("CREATE TABLE t (x)")
        connection.execute("INSERT INTO t VALUES (1)")
        assert not connection.in_transaction
        connection.close()

    def test_connect_without_implicit_transactions_can_turn_them_on(self, tmp_path: Path) -> None:
        path = str(tmp_path / "later.db")
        connection = dbapi.connect(path, isolation_level=None)
        connection.execute("CREATE TABLE users (name TEXT)")
        connection.isolation_level = "IMMEDIATE"
        connection.execute("/* a comment */ -- and another\n insert INTO users VALUES ('alice')")
        assert connection.in_transaction
        connection.rollback()
        assert count_users(dbapi, path) == 0
        connection.close()

    def test_with_statement_dml_opens_a_transaction(self) -> None:
        connection = dbapi.connect(":memory:")
        connection.execute("CREATE TABLE t (x)")
        connection.execute("WITH v(x) AS (SELECT 1) INSERT INTO t SELECT x FROM v")
        assert connection.in_transaction
        connection.close()

    @pytest.mark.parametrize(
        ("arguments", "feature"),
        [
            ({"database": ":memory:", "sync_url": "libsql://example.turso.io"}, "needs a database file"),
            ({"database": "r.db", "sync_url": "libsql://example.turso.io", "encryption_key": "k"}, "encryption_key"),
            ({"database": ":memory:", "cipher": "rot13"}, "cipher"),
            ({"database": ":memory:", "detect_types": dbapi.PARSE_DECLTYPES}, "detect_types"),
        ],
    )
    def test_unsupported_connect_arguments_raise_not_supported_error(
        self, arguments: dict[str, object], feature: str
    ) -> None:
        with pytest.raises(dbapi.NotSupportedError, match=feature):
            dbapi.connect(**arguments)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("arguments", "error"),
        [
            ({"timeout": -1}, ValueError),
            ({"timeout": "soon"}, ValueError),
            ({"isolation_level": "SERIALIZABLE"}, ValueError),
            ({"autocommit": 2}, ValueError),
            ({"cached_statements": -1}, ValueError),
            ({"factory": dict}, TypeError),
        ],
    )
    def test_bad_connect_arguments_raise_value_or_type_error(
        self, arguments: dict[str, object], error: type[Exception]
    ) -> None:
        with pytest.raises(error):
            dbapi.connect(":memory:", **arguments)  # type: ignore[arg-type]

    def test_an_encrypted_database_opens_only_with_its_key(self, tmp_path: Path) -> None:
        path = str(tmp_path / "secret.db")
        with dbapi.connect(path, encryption_key="right key") as connection:
            connection.execute("CREATE TABLE notes (body TEXT)")
            connection.execute("INSERT INTO notes VALUES ('hidden')")
        connection.close()
        assert b"hidden" not in Path(path).read_bytes()
        reopened = dbapi.connect(path, encryption_key="right key")
        assert reopened.execute("SELECT body FROM notes").fetchall() == [("hidden",)]
        reopened.rekey("new key")
        reopened.close()
        with pytest.raises(dbapi.DatabaseError):
            dbapi.connect(path, encryption_key="right key").execute("SELECT body FROM notes")
        with pytest.raises(ValueError):
            dbapi.connect(path, encryption_key="new key").rekey("")

    def test_a_file_that_cannot_be_opened_raises_operational_error(self, tmp_path: Path) -> None:
        with pytest.raises(dbapi.OperationalError):
            dbapi.connect(str(tmp_path / "missing-directory" / "x.db"))

    def test_sql_that_is_not_a_str_raises_programming_error(self) -> None:
        connection = dbapi.connect(":memory:")
        with pytest.raises(dbapi.ProgrammingError, match="str"):
            connection.execute(b"SELECT 1")  # type: ignore[arg-type]
        with pytest.raises(dbapi.ProgrammingError, match="str"):
            connection.executescript(None)  # type: ignore[arg-type]
        connection.close()

    def test_executemany_without_an_iterable_raises_programming_error(self) -> None:
        connection = dbapi.connect(":memory:")
        connection.execute("CREATE TABLE t (x)")
        for bad in (5, "abc", b"abc"):
            with pytest.raises(dbapi.ProgrammingError, match="iterable"):
                connection.executemany("INSERT INTO t VALUES (?)", bad)  # type: ignore[arg-type]
        connection.close()

    def test_executemany_of_a_select_raises_even_without_parameter_sets(self) -> None:
        connection = dbapi.connect(":memory:")
        with pytest.raises(dbapi.ProgrammingError, match="DML"):
            connection.executemany("SELECT 1", [])
        connection.close()

    def test_a_failing_executemany_batch_changes_nothing(self) -> None:
        connection = dbapi.connect(":memory:")
        connection.execute("CREATE TABLE t (x)")
        with pytest.raises(dbapi.ProgrammingError, match="parameter"):
            connection.executemany("INSERT INTO t VALUES (?)", [(1,), (object(),)])
        assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)
        connection.close()

    def test_unsupported_features_raise_not_supported_error(self) -> None:
        connection = dbapi.connect(":memory:")
        other = dbapi.connect(":memory:")
        for operation in (
            lambda: connection.create_function("f", 1, None),
            lambda: connection.backup(other, progress=print),
            lambda: setattr(connection, "text_factory", bytes),
            lambda: connection.create_aggregate("agg", 1, object),
            lambda: connection.create_collation("c", print),
            lambda: connection.set_trace_callback(print),
            lambda: connection.enable_load_extension(True),
            lambda: connection.iterdump(),
        ):
            with pytest.raises(dbapi.NotSupportedError):
                operation()
        assert connection.text_factory is str
        connection.close()
        other.close()

    def test_backup_needs_another_open_dbapi_connection(self) -> None:
        connection = dbapi.connect(":memory:")
        with pytest.raises(TypeError):
            connection.backup(sqlite3.connect(":memory:"))  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            connection.backup(connection)
        closed = dbapi.connect(":memory:")
        closed.close()
        with pytest.raises(dbapi.ProgrammingError, match="closed database"):
            connection.backup(closed)
        connection.close()

    def test_a_user_function_running_other_work_on_its_connection_gets_a_clear_error(self) -> None:
        script = (
            "import aiolibsql.dbapi as db\n"
            "c = db.connect(':memory:')\n"
            "c.execute('CREATE TABLE t (x)')\n"
            "c.create_function('f', 0, lambda: c.executemany('INSERT INTO t VALUES (?)', [(1,)]) and 0)\n"
            "try:\n"
            "    c.execute('SELECT f()')\n"
            "except db.OperationalError as error:\n"
            "    print(error)\n"
            "print(c.execute('SELECT count(*) FROM t').fetchone())\n"
        )
        child = run_child(script)
        assert child.returncode == 0, child.stderr
        assert child.stdout.splitlines() == [
            "user-defined function raised exception: ProgrammingError: "
            "a user function can only run execute() on its own connection",
            "(0,)",
        ]

    def test_a_failing_user_function_raises_operational_error(self) -> None:
        connection = dbapi.connect(":memory:")
        connection.create_function("fails", 0, lambda: 1 / 0)
        with pytest.raises(dbapi.OperationalError):
            connection.execute("SELECT fails()")
        connection.close()

    def test_errors_carry_the_sqlite_error_code(self) -> None:
        connection = dbapi.connect(":memory:")
        connection.execute("CREATE TABLE t (x UNIQUE)")
        connection.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(dbapi.IntegrityError) as raised:
            connection.execute("INSERT INTO t VALUES (1)")
        assert raised.value.sqlite_errorname == "SQLITE_CONSTRAINT_UNIQUE"
        connection.close()

    def test_fetchmany_with_a_size_that_is_not_an_int_raises_type_error(self) -> None:
        connection = dbapi.connect(":memory:")
        with pytest.raises(TypeError):
            connection.execute("SELECT 1").fetchmany("2")  # type: ignore[arg-type]
        connection.close()

    def test_setinputsizes_and_setoutputsize_do_nothing(self) -> None:
        connection = dbapi.connect(":memory:")
        cursor = connection.cursor()
        cursor.setinputsizes([None])
        cursor.setoutputsize(10)
        assert cursor.connection is connection
        connection.close()

    def test_it_swaps_in_for_sqlite3_in_typical_code(self, tmp_path: Path) -> None:
        import aiolibsql.dbapi as sqlite3

        with sqlite3.connect(str(tmp_path / "swap.db")) as connection:
            connection.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v)")
            connection.executemany("INSERT INTO kv VALUES (?, ?)", {"a": 1, "b": 2}.items())
        connection.row_factory = sqlite3.Row
        assert {row["k"]: row["v"] for row in connection.execute("SELECT * FROM kv")} == {"a": 1, "b": 2}
        connection.close()
