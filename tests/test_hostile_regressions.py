"""Regressions from a hostile pass over the native execute/fetchone: each test
failed (or crashed the interpreter) before its fix."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
import textwrap
import warnings
from typing import Any

import pytest

import aiolibsql
from aiolibsql import Cursor

ROWS = 20_000


async def numbered(conn: aiolibsql.Connection, rows: int = ROWS) -> None:
    await conn.execute("CREATE TABLE t(x INTEGER PRIMARY KEY)")
    await conn.execute(
        "INSERT INTO t SELECT value FROM (WITH RECURSIVE c(value) AS "
        f"(SELECT 1 UNION ALL SELECT value + 1 FROM c WHERE value < {rows}) SELECT value FROM c)"
    )


async def test_many_fetchone_tasks_waiting_for_one_chunk_get_every_row_once_in_order() -> None:
    async with aiolibsql.connect(":memory:", isolation_level=None) as conn:
        await numbered(conn)
        cursor = await conn.execute("SELECT x FROM t ORDER BY x")
        rows = await asyncio.gather(*[cursor.fetchone() for _ in range(ROWS)])
        assert [row[0] for row in rows] == list(range(1, ROWS + 1))
        assert await cursor.fetchone() is None


@pytest.mark.parametrize("how", ["close", "collect"])
async def test_a_fetch_closed_while_it_waits_for_the_next_chunk_leaves_that_chunk_to_the_next_fetch(how: str) -> None:
    async with aiolibsql.connect(":memory:", isolation_level=None) as conn:
        await numbered(conn)
        cursor = await conn.execute("SELECT x FROM t ORDER BY x")
        assert cursor._rows is not None
        seen = [row[0] for row in cursor._rows.fetchall()]
        fetch = cursor.fetchmany(10)
        assert fetch.send(None) is not None  # waiting for the next chunk
        if how == "close":
            fetch.close()
        else:
            del fetch
            gc.collect()
        seen += [row[0] for row in await cursor.fetchall()]
        assert seen == list(range(1, ROWS + 1))


async def test_calls_gathered_after_an_autocommit_change_run_in_the_order_they_were_made() -> None:
    async with aiolibsql.connect(":memory:", isolation_level=None) as conn:
        await conn.execute("CREATE TABLE t(x)")
        for i in range(50):
            conn.autocommit = i % 2 == 0
            _, count = await asyncio.gather(
                conn.execute("INSERT INTO t VALUES (1)"), conn.execute("SELECT count(*) FROM t")
            )
            assert await count.fetchone() == (i + 1,)


async def test_fetchmany_with_a_huge_size_returns_every_remaining_row() -> None:
    async with aiolibsql.connect(":memory:", isolation_level=None) as conn:
        await numbered(conn, 100)
        cursor = await conn.execute("SELECT x FROM t ORDER BY x")
        assert await cursor.fetchone() == (1,)
        rows = await cursor.fetchmany(2**64 - 1)
        assert [row[0] for row in rows] == list(range(2, 101))


def run_isolated(source: str) -> subprocess.CompletedProcess[str]:
    """Runs `source` in a child interpreter: a crash there fails the test
    instead of ending the test run."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)], capture_output=True, text=True, timeout=60, check=False
    )


def test_fetchone_on_a_cursor_made_without_init_raises_instead_of_crashing() -> None:
    done = run_isolated(
        """
        import asyncio, aiolibsql
        async def main():
            cursor = aiolibsql.Cursor.__new__(aiolibsql.Cursor)
            try:
                await cursor.fetchone()
            except aiolibsql.ProgrammingError as error:
                print("refused:", error)
        asyncio.run(main())
        """
    )
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout


@pytest.mark.parametrize("kind", ["connection", "pool"])
def test_a_deleted_row_factory_reads_as_none_and_inline_reads_go_on(kind: str, tmp_path: Any) -> None:
    opener = "aiolibsql.connect(path)" if kind == "connection" else "aiolibsql.create_pool(path, size=2)"
    done = run_isolated(
        f"""
        import asyncio, aiolibsql
        async def main():
            path = {str(tmp_path / "d.db")!r}
            async with {opener} as db:
                del db.row_factory
                assert db.row_factory is None
                cursor = await db.execute("SELECT 1")
                print(await cursor.fetchone())
        asyncio.run(main())
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1,)"


def test_a_call_closed_or_stepped_from_inside_its_own_step_is_refused() -> None:
    done = run_isolated(
        """
        import asyncio, gc, aiolibsql
        async def main():
            async with aiolibsql.connect(":memory:", isolation_level=None) as conn:
                await conn.execute("CREATE TABLE t(x)")
                await conn.execute("INSERT INTO t VALUES (1), (2), (3)")
                calls = []
                refusals = []

                def factory(cursor, row):
                    for act in (lambda: calls[-1].close(), lambda: calls[-1].send(None)):
                        try:
                            act()
                        except ValueError as error:
                            refusals.append(str(error))
                    return row

                cursor = await conn.execute("SELECT x FROM t ORDER BY x")
                cursor.row_factory = factory
                calls.append(cursor.fetchone())
                print(await calls[-1], refusals)

                class Sneaky(list):
                    def __getitem__(self, index):
                        try:
                            calls[-1].close()
                        except ValueError:
                            refusals.append("close refused")
                        return super().__getitem__(index)

                calls.append(conn.execute("SELECT 'kept', ?", Sneaky([7])))
                print(await (await calls[-1]).fetchone())
                gc.collect()
                cursor.row_factory = None
                print(await cursor.fetchone())
        asyncio.run(main())
        """
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "(1,) ['the call is already running', 'the call is already running']"
    assert lines[1] == "('kept', 7)"
    assert lines[2] == "(2,)"


@pytest.mark.filterwarnings("ignore:aiolibsql call:RuntimeWarning")
async def test_a_call_is_not_an_iterable_that_runs_when_listed() -> None:
    async with aiolibsql.connect(":memory:", isolation_level=None) as conn:
        await numbered(conn, 3)
        cursor = await conn.execute("SELECT x FROM t ORDER BY x")
        with pytest.raises(TypeError):
            list(cursor.fetchone())  # type: ignore[call-overload]
        with pytest.raises(TypeError):
            list(conn.execute("DELETE FROM t"))  # type: ignore[call-overload]
        assert await cursor.fetchone() == (1,)
        assert await (await conn.execute("SELECT count(*) FROM t")).fetchone() == (3,)


async def test_a_call_never_awaited_is_reported_as_a_coroutine_would_be() -> None:
    async with aiolibsql.connect(":memory:", isolation_level=None) as conn:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            conn.execute("SELECT 1")
            gc.collect()
        assert any("was never awaited" in str(warning.message) for warning in caught)


async def test_throw_checks_its_arguments_as_a_coroutine_does() -> None:
    async with aiolibsql.connect(":memory:", isolation_level=None) as conn:
        await numbered(conn, 3)
        cursor = await conn.execute("SELECT x FROM t ORDER BY x")
        fetch = cursor.fetchone()
        with pytest.raises(TypeError):
            fetch.throw(1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="separate value"):
            fetch.throw(KeyError("a"), KeyError("b"))  # type: ignore[arg-type,call-overload]
        assert await fetch == (1,)  # still usable after refused throws
        with pytest.raises(RuntimeError):
            fetch.throw(KeyError("finished"))
        with pytest.raises(RuntimeError, match="StopIteration"):
            cursor.fetchone().throw(StopIteration)
        assert await cursor.fetchone() == (2,)


async def test_a_row_factory_on_a_connection_subclass_shapes_inline_and_queued_rows_alike(db_path: str) -> None:
    def as_dict(cursor: Any, row: tuple[Any, ...]) -> dict[str, Any]:
        return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}

    class DictConnection(aiolibsql.Connection):
        row_factory = staticmethod(as_dict)

    async with aiolibsql.connect(db_path, isolation_level=None) as plain:
        native = plain._native
        conn = DictConnection.__new__(DictConnection)
        DictConnection.__init__(conn, native, None, 1)
        inline = await (await conn.execute("SELECT 1 AS one")).fetchone()
        cursor = conn.cursor()
        assert isinstance(cursor, Cursor)
        queued = await (await cursor.execute("SELECT 1 AS one")).fetchone()
        assert inline == queued == {"one": 1}


async def test_a_loop_of_connect_and_close_still_lets_other_tasks_run(tmp_path: Any) -> None:
    path = str(tmp_path / "c.db")
    async with aiolibsql.connect(path) as conn:
        await conn.execute("CREATE TABLE t(x)")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    running = asyncio.ensure_future(ticker())
    await asyncio.sleep(0)
    ticks = 0
    for _ in range(3000):  # far more than the 1 ms a streak may last
        conn = await aiolibsql.connect(path)
        await conn.close()
    running.cancel()
    assert ticks > 0


def test_a_backup_whose_target_is_closed_meanwhile_fails_cleanly_instead_of_crashing(tmp_path: Any) -> None:
    done = run_isolated(
        f"""
        import asyncio, aiolibsql
        async def main():
            directory = {str(tmp_path)!r}
            async with aiolibsql.connect(directory + "/src.db") as source:
                await source.execute("CREATE TABLE t(x)")
                await source.execute("INSERT INTO t VALUES (1)")
                await source.commit()
                outcomes = set()
                for i in range(3000):
                    target = await aiolibsql.connect(directory + f"/target{{i % 4}}.db")
                    copying = asyncio.ensure_future(source.backup(target))
                    await asyncio.sleep(0)
                    await target.close()
                    try:
                        await copying
                        outcomes.add("copied")
                    except aiolibsql.ProgrammingError:
                        outcomes.add("refused")
                print(sorted(outcomes))
        asyncio.run(main())
        """
    )
    assert done.returncode == 0, done.stderr
    assert "refused" in done.stdout


async def test_a_second_close_returns_only_once_the_first_has_closed_the_file(tmp_path: Any) -> None:
    path = tmp_path / "c.db"
    conn = await aiolibsql.connect(str(path))
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA wal_autocheckpoint=0")
    await conn.execute("CREATE TABLE t(x)")
    await conn.executemany("INSERT INTO t VALUES (?)", [(bytes(1000),) for _ in range(5000)])
    await conn.commit()
    first = asyncio.ensure_future(conn.close())
    await asyncio.sleep(0)  # the first close is under way, on the worker: the log has frames
    await conn.close()
    assert first.done()
    assert not (tmp_path / "c.db-wal").exists()
    await first
