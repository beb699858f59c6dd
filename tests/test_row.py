"""``Row`` and row factories: rows readable by index and by case-insensitive column name."""

from __future__ import annotations

from typing import Any

import pytest

import aiolibsql


async def _one_row(sql: str = "SELECT 1 AS id, 'ann' AS Name, NULL AS note") -> aiolibsql.Row:
    async with aiolibsql.connect(":memory:") as conn:
        conn.row_factory = aiolibsql.Row
        cursor = await conn.execute(sql)
        row = await cursor.fetchone()
        assert isinstance(row, aiolibsql.Row)
        return row


async def test_row_reads_by_index_including_negative_indexes() -> None:
    row = await _one_row()
    assert (row[0], row[1], row[2]) == (1, "ann", None)
    assert row[-1] is None
    assert row[-3] == 1


async def test_row_reads_by_column_name_case_insensitively() -> None:
    row = await _one_row()
    assert row["id"] == 1
    assert row["ID"] == 1
    assert row["name"] == "ann"
    assert row["NAME"] == "ann"
    assert row["Name"] == "ann"
    assert row["note"] is None


async def test_row_keys_are_the_column_names_in_order() -> None:
    row = await _one_row()
    assert row.keys() == ["id", "Name", "note"]


async def test_row_length_and_iteration_follow_the_columns() -> None:
    row = await _one_row()
    assert len(row) == 3
    assert list(row) == [1, "ann", None]
    assert tuple(row) == (1, "ann", None)


async def test_row_converts_to_a_dict_through_keys() -> None:
    row = await _one_row()
    assert {key: row[key] for key in row.keys()} == {"id": 1, "Name": "ann", "note": None}


@pytest.mark.parametrize("key", ["missing", "", "id "], ids=repr)
async def test_row_lookup_of_an_unknown_name_raises_index_error(key: str) -> None:
    row = await _one_row()
    with pytest.raises(IndexError):
        row[key]


@pytest.mark.parametrize("index", [3, -4, 100])
async def test_row_lookup_out_of_range_raises_index_error(index: int) -> None:
    row = await _one_row()
    with pytest.raises(IndexError):
        row[index]


async def test_row_with_duplicate_column_names_returns_the_first_by_name() -> None:
    row = await _one_row("SELECT 1 AS a, 2 AS a")
    assert row["a"] == 1
    assert list(row) == [1, 2]


async def test_rows_with_equal_columns_and_values_are_equal_and_hash_alike() -> None:
    first = await _one_row()
    second = await _one_row()
    assert first is not second
    assert first == second
    assert not first != second
    assert hash(first) == hash(second)
    assert len({first, second}) == 1


@pytest.mark.parametrize(
    "other_sql",
    ["SELECT 2 AS id, 'ann' AS Name, NULL AS note", "SELECT 1 AS key, 'ann' AS Name, NULL AS note"],
    ids=["other-values", "other-names"],
)
async def test_rows_differing_in_values_or_names_are_not_equal(other_sql: str) -> None:
    row = await _one_row()
    other = await _one_row(other_sql)
    assert row != other
    assert not row == other


async def test_row_is_not_equal_to_a_tuple_of_its_values() -> None:
    row = await _one_row()
    assert row != (1, "ann", None)


async def test_row_factory_defaults_to_none_and_rows_are_tuples() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert conn.row_factory is None
        assert await conn.execute_fetchall("SELECT 1, 2") == [(1, 2)]
        cursor = await conn.execute("SELECT 1")
        assert type(await cursor.fetchone()) is tuple


async def test_row_factory_shapes_rows_from_every_fetch_method() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        conn.row_factory = aiolibsql.Row
        sql = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 600) SELECT i AS n FROM r"
        cursor = await conn.execute(sql)
        fetched = [await cursor.fetchone(), *await cursor.fetchmany(300)]
        fetched += [row async for row in cursor]
        cursor = await conn.execute(sql)
        everything = await cursor.fetchall()
        direct = await conn.execute_fetchall(sql)
        for rows in (fetched, everything, direct):
            assert all(isinstance(row, aiolibsql.Row) for row in rows)
            assert [row["n"] for row in rows] == list(range(1, 601))


async def test_a_callable_row_factory_receives_the_cursor_and_the_row_tuple() -> None:
    calls: list[tuple[Any, tuple[Any, ...]]] = []

    def as_dict(cursor: Any, row: tuple[Any, ...]) -> dict[str, Any]:
        calls.append((cursor, row))
        return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}

    async with aiolibsql.connect(":memory:") as conn:
        conn.row_factory = as_dict
        cursor = await conn.execute("SELECT 1 AS a, 'b' AS b")
        assert await cursor.fetchall() == [{"a": 1, "b": "b"}]
        assert calls == [(cursor, (1, "b"))]


async def test_a_cursor_keeps_the_row_factory_its_connection_had_when_it_was_made() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        conn.row_factory = aiolibsql.Row
        cursor = conn.cursor()
        assert cursor.row_factory is aiolibsql.Row
        conn.row_factory = None
        await cursor.execute("SELECT 1 AS a")
        assert isinstance(await cursor.fetchone(), aiolibsql.Row)
        assert await conn.execute_fetchall("SELECT 1 AS a") == [(1,)]


async def test_a_cursors_own_row_factory_overrides_the_connections() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        cursor = conn.cursor()
        cursor.row_factory = aiolibsql.Row
        await cursor.execute("SELECT 1 AS a")
        row = await cursor.fetchone()
        assert isinstance(row, aiolibsql.Row)
        assert row["a"] == 1
        assert conn.row_factory is None
