"""A fork() child treats inherited remote connections, their open results and
remote pools as dead, as it does local ones; the parent's keep working,
including a result it was part-way through. Rows the child already holds may
still be read there, as locally; nothing goes to the parent's stream."""

from __future__ import annotations

import pytest
from fork_script import EXIT_MODES, run_script
from servers.launch import Remote


@pytest.mark.parametrize("exit_mode", EXIT_MODES)
def test_child_of_fork_refuses_an_inherited_remote_connection_its_open_result_and_pool(
    remote: Remote, exit_mode: str
) -> None:
    result = run_script(
        f"""
        ROWS = 5000
        STREAMED = {"cursors" in remote.server.supports!r}

        async def open_in_parent():
            connection = await aiolibsql.connect(DATABASE, autocommit=True)
            await connection.execute("create table t(x)")
            await connection.executemany("insert into t values (?)", [(x,) for x in range(ROWS)])
            cursor = await connection.execute("select x from t order by x")
            assert await cursor.fetchone() == (0,)
            pool = await aiolibsql.create_pool(DATABASE, size=2)
            return connection, cursor, pool

        inherited, open_result, inherited_pool = asyncio.run(open_in_parent())

        async def use_in_child():
            if STREAMED:
                # The rest of the result is still on the parent's stream.
                await expect_fork_error_async(open_result.fetchall())
            else:
                # A server without cursors sent the whole result at once: the
                # child may hand out what this process already holds, exactly.
                assert await open_result.fetchall() == [(x,) for x in range(1, ROWS)]
            await expect_fork_error_async(inherited.execute("select 1"))
            await expect_fork_error_async(inherited_pool.execute("select 1"))
            async with aiolibsql.connect(DATABASE) as own:
                assert await own.execute_fetchall("select count(*) from t") == [(ROWS,)]

        def check():
            global inherited, open_result, inherited_pool
            asyncio.run(use_in_child())
            del inherited, open_result, inherited_pool
            gc.collect()

        status = run_child(check, {exit_mode!r})

        async def use_in_parent():
            rest = await open_result.fetchall()
            assert rest == [(x,) for x in range(1, ROWS)], len(rest)
            assert await (await inherited_pool.execute("select count(*) from t")).fetchall() == [(ROWS,)]
            await inherited.close()
            await inherited_pool.close()

        asyncio.run(use_in_parent())
        sys.exit(status)
        """,
        remote.url,
    )
    assert result.returncode == 0, result.stdout
