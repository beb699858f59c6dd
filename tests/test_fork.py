"""A child made by fork() treats inherited connections and pools as dead:
using one raises InterfaceError, dropping one is clean, its own new
connections work, and it exits promptly however it exits.

Each case runs in a fresh interpreter (a crash or a hang of the child is
then seen as a failed exit status), which forks and reports the child's
exit status as its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from fork_script import EXIT_MODES, run_script


@pytest.mark.parametrize("exit_mode", EXIT_MODES)
@pytest.mark.parametrize("drop_inherited", [True, False], ids=["dropped", "kept-until-exit"])
def test_child_of_fork_refuses_an_inherited_dbapi_connection_and_exits_cleanly(
    tmp_path: Path, exit_mode: str, drop_inherited: bool
) -> None:
    result = run_script(
        f"""
        inherited = dbapi.connect(DATABASE)
        inherited.execute("create table t(x)")
        inherited.execute("insert into t values (1)")
        inherited.commit()
        cursor = inherited.execute("select x from t")

        def check():
            global inherited, cursor
            expect_fork_error(lambda: inherited.execute("select 1"))
            expect_fork_error(inherited.commit)
            expect_fork_error(inherited.close)
            own = dbapi.connect(DATABASE)
            assert own.execute("select x from t").fetchall() == [(1,)]
            own.close()
            if {drop_inherited!r}:
                del inherited, cursor
                gc.collect()

        status = run_child(check, {exit_mode!r})
        assert inherited.execute("select count(*) from t").fetchone() == (1,)
        inherited.close()
        sys.exit(status)
        """,
        tmp_path / "fork.db",
    )
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("exit_mode", EXIT_MODES)
def test_child_of_fork_refuses_an_inherited_async_connection_and_pool(tmp_path: Path, exit_mode: str) -> None:
    result = run_script(
        f"""
        async def open_in_parent():
            connection = await aiolibsql.connect(DATABASE)
            await connection.execute("create table t(x)")
            await connection.execute("insert into t values (1)")
            await connection.commit()
            pool = await aiolibsql.create_pool(DATABASE, size=2)
            return connection, pool

        inherited, inherited_pool = asyncio.run(open_in_parent())

        async def use_in_child():
            await expect_fork_error_async(inherited.execute("select 1"))
            await expect_fork_error_async(inherited_pool.execute("select 1"))
            own = await aiolibsql.connect(DATABASE)
            cursor = await own.execute("select x from t")
            assert await cursor.fetchall() == [(1,)]
            await own.close()

        def check():
            global inherited, inherited_pool
            asyncio.run(use_in_child())
            del inherited, inherited_pool
            gc.collect()

        status = run_child(check, {exit_mode!r})

        async def use_in_parent():
            cursor = await inherited.execute("select count(*) from t")
            assert await cursor.fetchone() == (1,)
            await inherited.close()
            await inherited_pool.close()

        asyncio.run(use_in_parent())
        sys.exit(status)
        """,
        tmp_path / "fork.db",
    )
    assert result.returncode == 0, result.stdout


def test_child_forked_inside_a_running_loop_gets_the_fork_error_from_its_own_loop(tmp_path: Path) -> None:
    result = run_script(
        """
        async def parent():
            connection = await aiolibsql.connect(DATABASE)
            pool = await aiolibsql.create_pool(DATABASE, size=2)
            await pool.execute("select 1")

            async def use_in_child():
                await expect_fork_error_async(pool.execute("select 1"))
                await expect_fork_error_async(pool.close())
                await expect_fork_error_async(connection.close())

            # Forked while the parent's loop runs: the child runs a loop of its own.
            status = run_child(lambda: asyncio.run(use_in_child()), "os._exit")
            await pool.close()
            await connection.close()
            return status

        sys.exit(asyncio.run(parent()))
        """,
        tmp_path / "fork.db",
    )
    assert result.returncode == 0, result.stdout
    assert "Future exception was never retrieved" not in result.stdout


@pytest.mark.parametrize("exit_mode", EXIT_MODES)
def test_fork_while_a_statement_runs_in_the_parent(tmp_path: Path, exit_mode: str) -> None:
    result = run_script(
        f"""
        busy = dbapi.connect(DATABASE, check_same_thread=False)
        busy.execute("create table t(x)")
        busy.commit()
        started = threading.Event()
        release = threading.Event()

        def hold(value):
            started.set()
            release.wait()
            return value

        busy.create_function("hold", 1, hold)
        results = []
        statement = threading.Thread(target=lambda: results.append(busy.execute("select hold(7)").fetchone()))
        statement.start()
        assert started.wait(30)

        def check():
            expect_fork_error(lambda: busy.execute("select 1"))
            own = dbapi.connect(DATABASE)
            assert own.execute("select count(*) from t").fetchone() == (0,)
            own.close()

        status = run_child(check, {exit_mode!r})
        release.set()
        statement.join()
        assert results == [(7,)], results
        busy.close()
        sys.exit(status)
        """,
        tmp_path / "fork.db",
    )
    assert result.returncode == 0, result.stdout


def test_a_child_forked_right_after_a_drop_finds_the_dropped_connection_closed(tmp_path: Path) -> None:
    # The drop hands the close to a worker; the fork waits for it, or the
    # child would inherit the engine's locks half-held by that worker.
    result = run_script(
        """
        async def round(n):
            conn = await aiolibsql.connect(DATABASE, timeout=1.0)
            await conn.execute("pragma journal_mode=wal")
            await conn.execute("create table if not exists t(x)")
            await conn.execute("insert into t select randomblob(1000) from generate_series(1, 3000)")
            await conn.commit()
            await conn.execute("insert into t values (1)")  # left uncommitted
            del conn
            gc.collect()

            def check():
                own = dbapi.connect(DATABASE, timeout=1.0)
                assert own.execute("select count(*) from t").fetchone() == (3000 * (n + 1),)
                own.execute("insert into t values (2)")
                own.rollback()
                own.close()

            return run_child(check, "os._exit")

        async def main():
            for n in range(5):
                status = await round(n)
                if status:
                    return status
            return 0

        sys.exit(asyncio.run(main()))
        """,
        tmp_path / "drop.db",
    )
    assert result.returncode == 0, result.stdout
