"""Transaction control: legacy ``isolation_level`` behaviour and Python 3.12's ``autocommit`` semantics.

What another connection can see is the test of what was committed.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

import aiolibsql

LEGACY = aiolibsql.LEGACY_TRANSACTION_CONTROL


async def _create_table(path: str) -> None:
    async with aiolibsql.connect(path) as setup:
        await setup.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, x)")
        await setup.execute("INSERT INTO t(x) VALUES (0)")


async def _committed_rows(path: str) -> int:
    """Rows of t as a fresh connection sees them."""
    async with aiolibsql.connect(path, isolation_level=None) as other:
        rows = await other.execute_fetchall("SELECT count(*) FROM t")
        return int(rows[0][0])


async def _settle(conn: aiolibsql.Connection) -> None:
    """A round trip: an ``autocommit`` change runs in order with queued operations."""
    await conn.execute("SELECT 1")


# -- legacy transaction control --------------------------------------------------


async def test_a_new_connection_is_not_in_a_transaction_and_uses_legacy_control(db_path: str) -> None:
    async with aiolibsql.connect(db_path) as conn:
        assert conn.in_transaction is False
        assert conn.autocommit == LEGACY


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO t(x) VALUES (1)",
        "UPDATE t SET x = 5",
        "DELETE FROM t",
        "REPLACE INTO t(id, x) VALUES (1, 9)",
        "  /* comment */ insert into t(x) values (1)",
    ],
    ids=["insert", "update", "delete", "replace", "lower-case-after-comment"],
)
async def test_legacy_dml_opens_a_transaction_implicitly(sql: str, db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute(sql)
        assert conn.in_transaction is True
        await conn.rollback()
        assert conn.in_transaction is False


@pytest.mark.parametrize(
    "sql",
    ["SELECT * FROM t", "CREATE TABLE u(y)", "CREATE INDEX t_x ON t(x)", "DROP TABLE t", "PRAGMA user_version"],
    ids=["select", "create-table", "create-index", "drop-table", "pragma"],
)
async def test_legacy_select_and_ddl_do_not_open_a_transaction(sql: str, db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute(sql)
        assert conn.in_transaction is False


@pytest.mark.parametrize("isolation_level", ["DEFERRED", "IMMEDIATE", "EXCLUSIVE", ""])
async def test_every_isolation_level_opens_a_transaction_that_commit_publishes(
    isolation_level: str, db_path: str
) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, isolation_level=isolation_level) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        assert conn.in_transaction is True
        await conn.commit()
        assert conn.in_transaction is False
    assert await _committed_rows(db_path) == 2


async def test_uncommitted_changes_are_invisible_to_other_connections(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        assert await _committed_rows(db_path) == 1
        await conn.commit()
        assert await _committed_rows(db_path) == 2


async def test_exclusive_isolation_level_locks_out_readers_until_commit(db_path: str) -> None:
    await _create_table(db_path)
    async with (
        aiolibsql.connect(db_path, isolation_level="EXCLUSIVE") as conn,
        aiolibsql.connect(db_path, timeout=0) as reader,
    ):
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        with pytest.raises(aiolibsql.OperationalError):
            await reader.execute("SELECT count(*) FROM t")
        await conn.commit()
        assert await reader.execute_fetchall("SELECT count(*) FROM t") == [(2,)]


async def test_ddl_inside_an_implicit_transaction_stays_in_it(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        await conn.execute("CREATE TABLE u(y)")
        assert conn.in_transaction is True
        await conn.rollback()
        with pytest.raises(aiolibsql.OperationalError):
            await conn.execute("SELECT * FROM u")


async def test_rollback_discards_the_transaction(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        await conn.execute("UPDATE t SET x = 7")
        await conn.rollback()
        assert conn.in_transaction is False
        assert await conn.execute_fetchall("SELECT x FROM t") == [(0,)]


async def test_commit_and_rollback_without_a_transaction_are_no_ops(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.commit()
        await conn.rollback()
        assert conn.in_transaction is False
        assert await conn.execute_fetchall("SELECT x FROM t") == [(0,)]


async def test_close_without_commit_discards_the_transaction(db_path: str) -> None:
    await _create_table(db_path)
    conn = await aiolibsql.connect(db_path)
    await conn.execute("INSERT INTO t(x) VALUES (1)")
    assert conn.in_transaction is True
    await conn.close()
    assert await _committed_rows(db_path) == 1


async def test_isolation_level_none_commits_each_statement(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, isolation_level=None) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        assert conn.in_transaction is False
        assert await _committed_rows(db_path) == 2


async def test_isolation_level_none_honours_explicit_begin_and_commit(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, isolation_level=None) as conn:
        await conn.execute("BEGIN")
        assert conn.in_transaction is True
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        assert await _committed_rows(db_path) == 1
        await conn.commit()
        assert conn.in_transaction is False
        assert await _committed_rows(db_path) == 2


async def test_executescript_commits_a_pending_legacy_transaction_first(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        assert conn.in_transaction is True
        await conn.executescript("INSERT INTO t(x) VALUES (2);")
        assert conn.in_transaction is False
        await conn.rollback()
        assert await _committed_rows(db_path) == 3


async def test_a_failed_statement_keeps_the_earlier_work_of_the_transaction(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute("INSERT INTO t(id, x) VALUES (10, 1)")
        with pytest.raises(aiolibsql.IntegrityError):
            await conn.execute("INSERT INTO t(id, x) VALUES (10, 2)")
        assert conn.in_transaction is True
        await conn.commit()
        assert await _committed_rows(db_path) == 2


# -- autocommit ----------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, LEGACY], ids=["True", "False", "LEGACY"])
async def test_autocommit_reports_the_value_it_was_opened_with(value: int | bool) -> None:
    async with aiolibsql.connect(":memory:", autocommit=value) as conn:
        assert conn.autocommit == value
        assert type(conn.autocommit) is type(value)


async def test_autocommit_true_commits_each_statement_whatever_the_isolation_level(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, isolation_level="IMMEDIATE", autocommit=True) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        assert conn.in_transaction is False
        assert await _committed_rows(db_path) == 2


async def test_autocommit_true_makes_commit_and_rollback_no_ops(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, autocommit=True) as conn:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        await conn.commit()
        assert conn.in_transaction is True
        assert await _committed_rows(db_path) == 1
        await conn.rollback()
        assert conn.in_transaction is True
        await conn.execute("COMMIT")
        assert await _committed_rows(db_path) == 2


async def test_autocommit_false_is_always_in_a_transaction(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, autocommit=False) as conn:
        assert conn.in_transaction is True
        await conn.execute("SELECT * FROM t")
        assert conn.in_transaction is True
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        await conn.commit()
        assert conn.in_transaction is True
        assert await _committed_rows(db_path) == 2
        await conn.execute("INSERT INTO t(x) VALUES (2)")
        await conn.rollback()
        assert conn.in_transaction is True
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(2,)]


async def test_autocommit_false_close_without_commit_discards(db_path: str) -> None:
    await _create_table(db_path)
    conn = await aiolibsql.connect(db_path, autocommit=False)
    await conn.execute("INSERT INTO t(x) VALUES (1)")
    await conn.close()
    assert await _committed_rows(db_path) == 1


async def test_autocommit_false_executescript_does_not_commit_first(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, autocommit=False) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        await conn.executescript("INSERT INTO t(x) VALUES (2);")
        assert conn.in_transaction is True
        assert await _committed_rows(db_path) == 1
        await conn.rollback()
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(1,)]


async def test_setting_autocommit_true_commits_the_pending_transaction(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        conn.autocommit = True
        assert conn.autocommit is True
        await _settle(conn)
        assert conn.in_transaction is False
        assert await _committed_rows(db_path) == 2
        await conn.execute("INSERT INTO t(x) VALUES (2)")
        assert conn.in_transaction is False
        assert await _committed_rows(db_path) == 3


async def test_setting_autocommit_false_opens_a_transaction(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, autocommit=True) as conn:
        conn.autocommit = False
        assert conn.autocommit is False
        await _settle(conn)
        assert conn.in_transaction is True
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        assert await _committed_rows(db_path) == 1
        await conn.commit()
        assert conn.in_transaction is True
        assert await _committed_rows(db_path) == 2


async def test_setting_autocommit_back_to_legacy_restores_implicit_transactions(db_path: str) -> None:
    await _create_table(db_path)
    async with aiolibsql.connect(db_path, autocommit=True) as conn:
        conn.autocommit = LEGACY
        assert conn.autocommit == LEGACY
        await conn.execute("INSERT INTO t(x) VALUES (1)")
        assert conn.in_transaction is True
        assert await _committed_rows(db_path) == 1
        await conn.commit()
        assert await _committed_rows(db_path) == 2


@pytest.mark.parametrize("value", [2, -2, "yes", None], ids=repr)
async def test_setting_an_invalid_autocommit_raises_value_error_and_keeps_the_mode(value: object) -> None:
    async with aiolibsql.connect(":memory:", autocommit=True) as conn:
        with pytest.raises(ValueError):
            conn.autocommit = value  # type: ignore[assignment]
        assert conn.autocommit is True


DEFERRED_FOREIGN_KEY = """
CREATE TABLE parent(id INTEGER PRIMARY KEY);
CREATE TABLE child(parent_id REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);
"""


async def test_a_failed_switch_to_autocommit_raises_from_the_next_operation() -> None:
    """The setter's COMMIT fails on a deferred foreign key; the next await must report it."""
    async with aiolibsql.connect(":memory:") as conn:
        await conn.executescript(DEFERRED_FOREIGN_KEY)
        await conn.execute("INSERT INTO child VALUES (42)")
        conn.autocommit = True
        with pytest.raises(aiolibsql.IntegrityError):
            await conn.execute("SELECT 1")
        await conn.execute("ROLLBACK")


async def test_after_a_failed_switch_to_autocommit_the_connection_behaves_as_autocommit() -> None:
    """As in sqlite3 3.12: the mode is set even though the COMMIT it triggered failed."""
    async with aiolibsql.connect(":memory:") as conn:
        await conn.executescript(DEFERRED_FOREIGN_KEY)
        await conn.execute("INSERT INTO child VALUES (42)")
        conn.autocommit = True
        for _ in range(2):  # the error surfaces on one of the next operations
            try:
                await conn.execute("SELECT 1")
            except aiolibsql.IntegrityError:
                pass
        await conn.execute("ROLLBACK")
        assert conn.autocommit is True
        await conn.execute("INSERT INTO parent VALUES (1)")
        assert conn.in_transaction is False


async def test_in_transaction_holds_while_a_cancelled_statement_is_still_running(db_path: str) -> None:
    # Whether it leaves a transaction open is unknown until it ends, and
    # "roll back if in a transaction" clean-up must not be skipped meanwhile.
    started = threading.Event()
    release = threading.Event()

    def hold() -> int:
        started.set()
        release.wait()
        return 1

    async with aiolibsql.connect(db_path, autocommit=True) as conn:
        await conn.create_function("hold", 0, hold)
        running = asyncio.ensure_future(conn.execute("SELECT hold()"))
        await asyncio.to_thread(started.wait)
        running.cancel()
        try:
            with pytest.raises(asyncio.CancelledError):
                await running
            assert conn.in_transaction
        finally:
            release.set()
        # Queued behind the cancelled statement, so it runs once that ended.
        await conn.execute("SELECT 1")
        assert not conn.in_transaction
