"""Large remote results arrive as they are fetched, as local ones do: memory
stays bounded however many rows a statement returns, and other statements on
the same connection still get their turn while a result is open."""

from __future__ import annotations

import pytest
from servers.launch import Remote

import aiolibsql
import aiolibsql.dbapi as dbapi

ROWS = 20_000
# Each row carries 5,000 characters: the whole answer is about 100 MB.
FILL = f"""WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {ROWS})
           INSERT INTO big SELECT i, hex(randomblob(2500)) FROM c"""
BOUND = 50 * 1024 * 1024


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.resident_memory
@pytest.mark.needs("cursors")
async def test_iterating_a_100_mb_result_holds_a_bounded_amount_of_memory(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE big (i INTEGER, v TEXT)")
        await conn.execute(FILL)
        baseline = resident_bytes()
        peak = baseline
        expected = 1
        cursor = await conn.execute("SELECT i, v FROM big ORDER BY i")
        async for i, v in cursor:
            assert i == expected
            assert len(v) == 5000
            expected += 1
            if i % 500 == 0:
                peak = max(peak, resident_bytes())
        assert expected == ROWS + 1
        assert peak - baseline < BOUND, f"grew by {(peak - baseline) >> 20} MiB"


@pytest.mark.resident_memory
@pytest.mark.needs("cursors")
def test_the_blocking_module_fetches_a_large_result_in_bounded_memory(remote: Remote) -> None:
    conn = dbapi.connect(remote.url, autocommit=True)
    try:
        conn.execute("CREATE TABLE big (i INTEGER, v TEXT)")
        conn.execute(FILL)
        # One pass first: the allocator's per-thread arenas (the transport's
        # among them) reach their working size, which is not growth.
        warm_up = conn.execute("SELECT i, v FROM big ORDER BY i")
        while warm_up.fetchmany(1000):
            pass
        baseline = resident_bytes()
        peak = baseline
        cursor = conn.execute("SELECT i, v FROM big ORDER BY i")
        total = 0
        while rows := cursor.fetchmany(1000):
            total += len(rows)
            peak = max(peak, resident_bytes())
        assert total == ROWS
        assert peak - baseline < BOUND, f"grew by {(peak - baseline) >> 20} MiB"
    finally:
        conn.close()


@pytest.mark.needs("batons")
async def test_statements_run_while_a_result_is_open_get_their_turn(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url) as conn:
        await conn.execute("CREATE TABLE t (x INTEGER)")
        await conn.executemany("INSERT INTO t VALUES (?)", [(x,) for x in range(1, ROWS + 1)])
        await conn.commit()
        seen = 0
        cursor = await conn.execute("SELECT x FROM t ORDER BY x")
        async for (x,) in cursor:
            seen += 1
            if x % 5000 == 0:
                await conn.execute("UPDATE t SET x = -x WHERE x = ?", (x,))
        await conn.commit()
        assert seen == ROWS
        assert await conn.execute_fetchall("SELECT count(*) FROM t WHERE x < 0") == [(ROWS // 5000,)]


async def test_a_result_dropped_unread_leaves_the_connection_usable(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t (x INTEGER)")
        await conn.executemany("INSERT INTO t VALUES (?)", [(x,) for x in range(ROWS)])
        for _ in range(3):
            cursor = await conn.execute("SELECT x FROM t")
            assert await cursor.fetchone() == (0,)
            await cursor.close()
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(ROWS,)]


async def test_a_schema_change_behind_an_open_result_waits_for_it_and_later_reads_see_the_new_columns(
    remote: Remote,
) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        await conn.executemany("INSERT INTO t VALUES (?, 'x')", [(a,) for a in range(ROWS)])
        cursor = await conn.execute("SELECT * FROM t ORDER BY a")
        first = await cursor.fetchmany(10)
        await conn.execute("ALTER TABLE t ADD COLUMN c INTEGER DEFAULT 7")
        rest = await cursor.fetchall()
        assert first + rest == [(a, "x") for a in range(ROWS)]
        assert [column[0] for column in cursor.description] == ["a", "b"]
        after = await conn.execute("SELECT * FROM t ORDER BY a")
        assert [column[0] for column in after.description] == ["a", "b", "c"]
        assert await after.fetchone() == (0, "x", 7)


async def test_a_table_dropped_by_another_connection_leaves_an_open_result_whole(remote: Remote) -> None:
    async with aiolibsql.connect(remote.url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE t (a INTEGER)")
        await conn.executemany("INSERT INTO t VALUES (?)", [(a,) for a in range(ROWS)])
        cursor = await conn.execute("SELECT a FROM t ORDER BY a")
        first = await cursor.fetchmany(10)
        async with aiolibsql.connect(remote.url, autocommit=True) as other:
            await other.execute("DROP TABLE t")
        assert first + await cursor.fetchall() == [(a,) for a in range(ROWS)]
        with pytest.raises(aiolibsql.OperationalError, match="no such table"):
            await conn.execute("SELECT count(*) FROM t")
