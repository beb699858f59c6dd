"""A fork() child treats an inherited replica, its background sync and a
replica pool as dead, as it does local and remote connections; the parent's
go on, syncing included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fork_script import EXIT_MODES, run_script
from servers import control
from servers.launch import sync_primary


@pytest.fixture
def primary() -> Iterator[str]:
    with sync_primary() as url:
        yield url


@pytest.mark.parametrize("exit_mode", EXIT_MODES)
def test_child_of_fork_refuses_an_inherited_replica_and_replica_pool(
    primary: str, tmp_path: Path, exit_mode: str
) -> None:
    control.on_primary(primary, None, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    result = run_script(
        f"""
        PRIMARY = {primary!r}

        async def open_in_parent():
            replica = await aiolibsql.connect(DATABASE + "/r.db", sync_url=PRIMARY, sync_interval=0.01)
            pool = await aiolibsql.create_pool(DATABASE + "/p.db", size=2, sync_url=PRIMARY, sync_interval=0.01)
            return replica, pool

        inherited, inherited_pool = asyncio.run(open_in_parent())

        async def use_in_child():
            await expect_fork_error_async(inherited.execute("select x from t"))
            await expect_fork_error_async(inherited.sync())
            await expect_fork_error_async(inherited_pool.execute("select x from t"))
            await expect_fork_error_async(inherited_pool.sync())

        def check():
            global inherited, inherited_pool
            asyncio.run(use_in_child())
            del inherited, inherited_pool
            gc.collect()

        status = run_child(check, {exit_mode!r})

        async def use_in_parent():
            assert await inherited.execute_fetchall("select x from t") == [(1,)]
            assert (await inherited.sync()).generation == 1
            assert await (await inherited_pool.execute("select x from t")).fetchall() == [(1,)]
            await inherited.close()
            await inherited_pool.close()

        asyncio.run(use_in_parent())
        print("child", status)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stdout
    assert "child 0" in result.stdout, result.stdout
