"""Results after ALTER TABLE: a cached statement that the engine re-prepares
must report the columns of the statement as it now is, not as it was."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import aiolibsql
import aiolibsql.dbapi as dbapi
from aiolibsql import create_pool

# ALTER statement, the column names after it, the row after it.
ALTERATIONS = {
    "drop": ("ALTER TABLE t DROP COLUMN a", ["b", "c"], (2, 3)),
    "add": ("ALTER TABLE t ADD COLUMN d DEFAULT 4", ["a", "b", "c", "d"], (1, 2, 3, 4)),
    "rename": ("ALTER TABLE t RENAME COLUMN a TO z", ["z", "b", "c"], (1, 2, 3)),
}
READ_ALL = "SELECT * FROM t"
READ_NONE = "SELECT * FROM t WHERE 0"


def alter_in_another_process(path: str, alter: str) -> None:
    script = textwrap.dedent(
        f"""
        import aiolibsql.dbapi as dbapi
        conn = dbapi.connect({path!r})
        conn.execute({alter!r})
        conn.commit()
        conn.close()
        """
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr


def names(description: Any) -> list[str]:
    return [column[0] for column in description]


def make_table(path: str) -> None:
    conn = dbapi.connect(path)
    conn.execute("CREATE TABLE t(a, b, c)")
    conn.execute("INSERT INTO t VALUES (1, 2, 3)")
    conn.commit()
    conn.close()


Alter = Callable[[str], Awaitable[None]]


async def check_reads_follow_the_schema(
    execute: Callable[[str], Awaitable[Any]], alter: Alter, alteration: str
) -> None:
    statement, names_after, row_after = ALTERATIONS[alteration]
    for sql in (READ_ALL, READ_NONE):
        cursor = await execute(sql)
        assert names(cursor.description) == ["a", "b", "c"]
        await cursor.fetchall()
    await alter(statement)
    cursor = await execute(READ_ALL)
    assert names(cursor.description) == names_after
    rows = await cursor.fetchall()
    assert [tuple(row) for row in rows] == [row_after]
    assert rows[0].keys() == names_after
    assert rows[0][names_after[0]] == row_after[0]
    cursor = await execute(READ_NONE)
    assert names(cursor.description) == names_after
    assert await cursor.fetchall() == []


@pytest.mark.parametrize("alteration", ALTERATIONS)
@pytest.mark.parametrize("altered_by", ["same connection", "another connection", "another process"])
async def test_connection_reads_report_the_columns_after_alter_table(
    db_path: str, alteration: str, altered_by: str
) -> None:
    make_table(db_path)
    async with aiolibsql.connect(db_path) as conn:
        conn.row_factory = aiolibsql.Row

        async def alter(statement: str) -> None:
            if altered_by == "same connection":
                await conn.execute(statement)
                await conn.commit()
            elif altered_by == "another connection":
                async with aiolibsql.connect(db_path) as other:
                    await other.execute(statement)
            else:
                alter_in_another_process(db_path, statement)

        await check_reads_follow_the_schema(conn.execute, alter, alteration)


@pytest.mark.parametrize("alteration", ALTERATIONS)
@pytest.mark.parametrize("altered_by", ["pool writer", "another process"])
async def test_pool_reader_reads_report_the_columns_after_alter_table(
    db_path: str, alteration: str, altered_by: str
) -> None:
    make_table(db_path)
    # One reader, so every read goes through the same statement cache.
    async with create_pool(db_path, size=2) as pool:

        async def alter(statement: str) -> None:
            if altered_by == "pool writer":
                await pool.execute(statement)
            else:
                alter_in_another_process(db_path, statement)

        async def execute(sql: str) -> Any:
            cursor = await pool.execute(sql)
            cursor.row_factory = aiolibsql.Row
            return cursor

        assert pool.reader_count == 1
        await check_reads_follow_the_schema(execute, alter, alteration)


@pytest.mark.parametrize("alteration", ALTERATIONS)
@pytest.mark.parametrize("altered_by", ["same connection", "another connection", "another process"])
def test_dbapi_reads_report_the_columns_after_alter_table(db_path: str, alteration: str, altered_by: str) -> None:
    statement, names_after, row_after = ALTERATIONS[alteration]
    make_table(db_path)
    conn = dbapi.connect(db_path)
    try:
        conn.row_factory = dbapi.Row
        for sql in (READ_ALL, READ_NONE):
            cursor = conn.execute(sql)
            assert names(cursor.description) == ["a", "b", "c"]
            cursor.fetchall()
        if altered_by == "same connection":
            conn.execute(statement)
            conn.commit()
        elif altered_by == "another connection":
            other = dbapi.connect(db_path)
            other.execute(statement)
            other.commit()
            other.close()
        else:
            alter_in_another_process(db_path, statement)
        cursor = conn.execute(READ_ALL)
        assert names(cursor.description) == names_after
        rows = cursor.fetchall()
        assert [tuple(row) for row in rows] == [row_after]
        assert rows[0].keys() == names_after
        cursor = conn.execute(READ_NONE)
        assert names(cursor.description) == names_after
        assert cursor.fetchall() == []
    finally:
        conn.close()
