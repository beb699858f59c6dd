"""The DB-API exception hierarchy and how engine errors map onto it."""

from __future__ import annotations

import time

import pytest

import aiolibsql

DATABASE_ERROR_SUBCLASSES = (
    aiolibsql.DataError,
    aiolibsql.OperationalError,
    aiolibsql.IntegrityError,
    aiolibsql.InternalError,
    aiolibsql.ProgrammingError,
    aiolibsql.NotSupportedError,
)

SCHEMA = """
CREATE TABLE parent(id INTEGER PRIMARY KEY);
CREATE TABLE item(
    id INTEGER PRIMARY KEY,
    code TEXT UNIQUE,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES parent(id),
    qty INTEGER CHECK (qty > 0)
);
INSERT INTO parent VALUES (1);
INSERT INTO item VALUES (1, 'a', 'first', 1, 1);
"""


async def _item_count(conn: aiolibsql.Connection) -> int:
    rows = await conn.execute_fetchall("SELECT count(*) FROM item")
    return int(rows[0][0])


def test_warning_derives_from_exception_but_not_error() -> None:
    assert issubclass(aiolibsql.Warning, Exception)
    assert not issubclass(aiolibsql.Warning, aiolibsql.Error)


def test_error_derives_from_exception() -> None:
    assert issubclass(aiolibsql.Error, Exception)


@pytest.mark.parametrize("cls", [aiolibsql.InterfaceError, aiolibsql.DatabaseError], ids=lambda cls: cls.__name__)
def test_interface_and_database_errors_derive_from_error(cls: type[Exception]) -> None:
    assert issubclass(cls, aiolibsql.Error)


def test_interface_error_is_not_a_database_error() -> None:
    assert not issubclass(aiolibsql.InterfaceError, aiolibsql.DatabaseError)


@pytest.mark.parametrize("cls", DATABASE_ERROR_SUBCLASSES, ids=lambda cls: cls.__name__)
def test_specific_errors_derive_from_database_error(cls: type[Exception]) -> None:
    assert issubclass(cls, aiolibsql.DatabaseError)


@pytest.mark.parametrize(
    ("sql", "errorcode", "errorname", "message"),
    [
        ("INSERT INTO item VALUES (2, 'a', 'dup', 1, 1)", 2067, "SQLITE_CONSTRAINT_UNIQUE", "UNIQUE constraint failed"),
        ("INSERT INTO item VALUES (2, 'b', NULL, 1, 1)", 1299, "SQLITE_CONSTRAINT_NOTNULL", "NOT NULL constraint"),
        ("INSERT INTO item VALUES (2, 'b', 'x', 99, 1)", 787, "SQLITE_CONSTRAINT_FOREIGNKEY", "FOREIGN KEY constraint"),
        ("INSERT INTO item VALUES (2, 'b', 'x', 1, -5)", 275, "SQLITE_CONSTRAINT_CHECK", "CHECK constraint failed"),
        ("INSERT INTO item VALUES (1, 'b', 'x', 1, 1)", 1555, "SQLITE_CONSTRAINT_PRIMARYKEY", "UNIQUE constraint"),
    ],
    ids=["unique", "not-null", "foreign-key", "check", "primary-key"],
)
async def test_constraint_violation_raises_integrity_error_with_extended_code(
    sql: str, errorcode: int, errorname: str, message: str
) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.executescript(SCHEMA)
        with pytest.raises(aiolibsql.IntegrityError) as info:
            await conn.execute(sql)
        assert info.value.sqlite_errorcode == errorcode
        assert info.value.sqlite_errorname == errorname
        assert message in str(info.value)
        assert await _item_count(conn) == 1


async def test_foreign_keys_are_enforced_by_default() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("PRAGMA foreign_keys") == [(1,)]


async def test_deferred_foreign_key_violation_fails_the_commit_with_integrity_error() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.executescript(
            "CREATE TABLE parent(id INTEGER PRIMARY KEY);"
            "CREATE TABLE child(parent_id REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);"
        )
        await conn.execute("INSERT INTO child VALUES (42)")
        with pytest.raises(aiolibsql.IntegrityError) as info:
            await conn.commit()
        assert info.value.sqlite_errorname == "SQLITE_CONSTRAINT_FOREIGNKEY"
        await conn.rollback()
        assert await conn.execute_fetchall("SELECT count(*) FROM child") == [(0,)]


@pytest.mark.parametrize(
    ("sql", "message"),
    [("SELEC 1", "syntax error"), ("SELECT * FROM no_such_table", "no such table: no_such_table")],
    ids=["syntax-error", "no-such-table"],
)
async def test_bad_sql_raises_operational_error_sqlite_error(sql: str, message: str) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        with pytest.raises(aiolibsql.OperationalError) as info:
            await conn.execute(sql)
        assert info.value.sqlite_errorcode == 1
        assert info.value.sqlite_errorname == "SQLITE_ERROR"
        assert message in str(info.value)
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


async def test_engine_errors_are_instances_of_the_exported_base_classes() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        with pytest.raises(aiolibsql.DatabaseError) as info:
            await conn.execute("SELECT * FROM missing")
        assert isinstance(info.value, aiolibsql.Error)
        assert isinstance(info.value, aiolibsql.OperationalError)


async def test_driver_misuse_errors_are_instances_of_error() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        with pytest.raises(aiolibsql.Error):
            await conn.execute("SELECT 1; SELECT 2")


async def test_invalid_utf8_text_raises_operational_error_on_fetch_and_connection_stays_usable() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(x)")
        await conn.execute("INSERT INTO t VALUES (CAST(x'ff' AS TEXT))")
        await conn.execute("INSERT INTO t VALUES ('fine')")
        with pytest.raises(aiolibsql.OperationalError):
            cursor = await conn.execute("SELECT x FROM t ORDER BY rowid")
            await cursor.fetchall()
        assert await conn.execute_fetchall("SELECT x FROM t WHERE x = 'fine'") == [("fine",)]
        assert await conn.execute_fetchall("SELECT CAST(x AS BLOB) FROM t ORDER BY rowid LIMIT 1") == [(b"\xff",)]


async def test_busy_database_raises_operational_error_after_the_timeout(db_path: str) -> None:
    async with aiolibsql.connect(db_path) as holder:
        await holder.execute("CREATE TABLE t(x)")
        await holder.commit()
        await holder.execute("BEGIN IMMEDIATE")
        async with aiolibsql.connect(db_path, timeout=0.1) as waiter:
            started = time.monotonic()
            with pytest.raises(aiolibsql.OperationalError) as info:
                await waiter.execute("INSERT INTO t VALUES (1)")
            elapsed = time.monotonic() - started
            assert info.value.sqlite_errorcode is not None
            assert info.value.sqlite_errorcode & 0xFF == 5
            assert info.value.sqlite_errorname is not None
            assert info.value.sqlite_errorname.startswith("SQLITE_BUSY")
            assert 0.08 <= elapsed < 3.0
            await waiter.rollback()
            await holder.rollback()
            await waiter.execute("INSERT INTO t VALUES (1)")
            await waiter.commit()
        assert await holder.execute_fetchall("SELECT x FROM t") == [(1,)]


async def test_zero_timeout_reports_busy_without_waiting(db_path: str) -> None:
    async with aiolibsql.connect(db_path) as holder:
        await holder.execute("CREATE TABLE t(x)")
        await holder.commit()
        await holder.execute("BEGIN IMMEDIATE")
        async with aiolibsql.connect(db_path, timeout=0) as waiter:
            started = time.monotonic()
            with pytest.raises(aiolibsql.OperationalError) as info:
                await waiter.execute("INSERT INTO t VALUES (1)")
            assert time.monotonic() - started < 0.5
            assert info.value.sqlite_errorname is not None
            assert info.value.sqlite_errorname.startswith("SQLITE_BUSY")
        await holder.rollback()
