"""Binding parameters: placeholder styles, value conversion both ways, and rejection of bad input.

Every rejected input must leave the connection usable and the database unchanged.
"""

from __future__ import annotations

import datetime
import decimal
import math
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pytest

import aiolibsql

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)


class CustomSequence(Sequence[Any]):
    """A Sequence that is neither a tuple nor a list."""

    def __init__(self, *values: Any) -> None:
        self._values = values

    def __getitem__(self, index: Any) -> Any:
        return self._values[index]

    def __len__(self) -> int:
        return len(self._values)


class CustomMapping(Mapping[str, Any]):
    """A Mapping that is not a dict."""

    def __init__(self, **values: Any) -> None:
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


async def _open_with_one_row() -> aiolibsql.Connection:
    conn = await aiolibsql.connect(":memory:")
    await conn.execute("CREATE TABLE t(a, b)")
    await conn.execute("INSERT INTO t VALUES (1, 2)")
    await conn.commit()
    return conn


async def _assert_unchanged_and_usable(conn: aiolibsql.Connection) -> None:
    """The table still holds only its one row, and the connection still writes."""
    assert await conn.execute_fetchall("SELECT a, b FROM t") == [(1, 2)]
    await conn.execute("INSERT INTO t VALUES (?, ?)", (3, 4))
    assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(2,)]


# -- placeholder styles --------------------------------------------------------


@pytest.mark.parametrize(
    "parameters",
    [(1, "x"), [1, "x"], CustomSequence(1, "x")],
    ids=["tuple", "list", "custom-sequence"],
)
async def test_qmark_parameters_bind_from_any_sequence(parameters: Sequence[Any]) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("SELECT ?, ?", parameters) == [(1, "x")]


async def test_numbered_qmark_parameters_bind_by_position() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("SELECT ?2, ?1, ?2", ("first", "second")) == [("second", "first", "second")]


@pytest.mark.parametrize("prefix", [":", "@", "$"])
async def test_named_parameters_bind_from_a_dict(prefix: str) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        rows = await conn.execute_fetchall(f"SELECT {prefix}alpha, {prefix}beta", {"alpha": 1, "beta": "two"})
        assert rows == [(1, "two")]


@pytest.mark.parametrize(
    "parameters",
    [CustomMapping(alpha=1, beta="two"), types.MappingProxyType({"alpha": 1, "beta": "two"})],
    ids=["custom-mapping", "mappingproxy"],
)
async def test_named_parameters_bind_from_any_mapping(parameters: Mapping[str, Any]) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("SELECT :alpha, :beta", parameters) == [(1, "two")]


async def test_a_named_parameter_used_twice_binds_the_same_value() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("SELECT :v, :v + 1", {"v": 10}) == [(10, 11)]


async def test_unused_keys_in_a_mapping_are_ignored() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("SELECT :used", {"used": 1, "unused": 2}) == [(1,)]


async def test_executemany_binds_named_parameters_from_mappings() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(v)")
        cursor = await conn.executemany("INSERT INTO t VALUES (:v)", [{"v": 1}, {"v": 2}, {"v": 3}])
        assert cursor.rowcount == 3
        assert await conn.execute_fetchall("SELECT v FROM t ORDER BY v") == [(1,), (2,), (3,)]


# -- values in and out ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "sql_type"),
    [
        (None, "null"),
        (0, "integer"),
        (-1, "integer"),
        (INT64_MAX, "integer"),
        (INT64_MIN, "integer"),
        (1.5, "real"),
        (0.1, "real"),
        (-1e308, "real"),
        (math.inf, "real"),
        (-math.inf, "real"),
        ("", "text"),
        ("plain text", "text"),
        ("a\x00b", "text"),
        ("😀", "text"),
        ("ünïcödé ∑", "text"),
        (b"", "blob"),
        (b"\x00\x01\xfe\xff", "blob"),
    ],
    ids=repr,
)
async def test_value_round_trips_with_its_type(value: Any, sql_type: str) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(v)")
        await conn.execute("INSERT INTO t VALUES (?)", (value,))
        [(stored, stored_type)] = await conn.execute_fetchall("SELECT v, typeof(v) FROM t")
        assert stored_type == sql_type
        assert type(stored) is type(value)
        assert stored == value


@pytest.mark.parametrize("value", [bytearray(b"\x00ab"), memoryview(b"\x00ab")], ids=["bytearray", "memoryview"])
async def test_bytes_like_values_are_stored_as_blobs_and_read_back_as_bytes(value: Any) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("SELECT ?, typeof(?)", (value, value)) == [(b"\x00ab", "blob")]


async def test_empty_bytes_like_values_read_back_as_empty_bytes_not_null() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        rows = await conn.execute_fetchall("SELECT ?, ?, ?", (b"", bytearray(), memoryview(b"")))
        assert rows == [(b"", b"", b"")]


@pytest.mark.parametrize(("value", "stored"), [(True, 1), (False, 0)])
async def test_bool_is_stored_as_integer_one_or_zero(value: bool, stored: int) -> None:
    async with aiolibsql.connect(":memory:") as conn:
        [(result, sql_type)] = await conn.execute_fetchall("SELECT ?, typeof(?)", (value, value))
        assert type(result) is int
        assert result == stored
        assert sql_type == "integer"


async def test_nan_is_stored_as_null_as_sqlite_does() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t(v)")
        await conn.execute("INSERT INTO t VALUES (?)", (math.nan,))
        assert await conn.execute_fetchall("SELECT v, typeof(v) FROM t") == [(None, "null")]


async def test_text_with_embedded_nul_is_stored_whole() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        rows = await conn.execute_fetchall("SELECT length(CAST(? AS BLOB))", ("a\x00b",))
        assert rows == [(3,)]


async def test_non_bmp_text_is_stored_as_utf8() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        rows = await conn.execute_fetchall("SELECT length(?), CAST(? AS BLOB)", ("😀", "😀"))
        assert rows == [(1, "😀".encode())]


async def test_text_and_blob_parameters_stay_bound_while_a_result_streams() -> None:
    text, blob = "t" * 1000, b"\x01" * 1000
    async with aiolibsql.connect(":memory:") as conn:
        cursor = await conn.execute(
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 20000) SELECT i, ?, ? FROM r",
            ("t" * 1000, b"\x01" * 1000),
        )
        rows = await cursor.fetchmany(300)
        # Other statements with parameters of the same size run between the chunks.
        for _ in range(5):
            assert await conn.execute_fetchall("SELECT length(?)", ("x" * 1000,)) == [(1000,)]
        rows += await cursor.fetchall()
        assert [row[0] for row in rows] == list(range(1, 20001))
        assert all(row[1] == text and row[2] == blob for row in rows)


async def test_results_come_back_as_the_python_type_of_each_sql_type() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        [row] = await conn.execute_fetchall("SELECT NULL, 7, 2.5, 'txt', x'00ff'")
        assert row == (None, 7, 2.5, "txt", b"\x00\xff")
        assert [type(value) for value in row] == [type(None), int, float, str, bytes]


# -- rejected input ------------------------------------------------------------


@pytest.mark.parametrize("value", [INT64_MAX + 1, INT64_MIN - 1, 2**100], ids=["max+1", "min-1", "2**100"])
async def test_int_outside_64_bits_raises_overflow_error(value: int) -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(OverflowError):
            await conn.execute("INSERT INTO t VALUES (?, ?)", (5, value))
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


UNSUPPORTED_VALUES = [
    [1],
    (1,),
    {"a": 1},
    object(),
    decimal.Decimal("1.5"),
    datetime.date(2024, 1, 2),
    datetime.datetime(2024, 1, 2, 3, 4, 5),
    1 + 2j,
    {1, 2},
]


@pytest.mark.parametrize("value", UNSUPPORTED_VALUES, ids=lambda value: type(value).__name__)
async def test_unsupported_positional_value_raises_programming_error_naming_the_parameter(value: Any) -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(aiolibsql.ProgrammingError, match="parameter 2"):
            await conn.execute("INSERT INTO t VALUES (?, ?)", (5, value))
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


@pytest.mark.parametrize("value", UNSUPPORTED_VALUES, ids=lambda value: type(value).__name__)
async def test_unsupported_named_value_raises_programming_error_naming_the_parameter(value: Any) -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(aiolibsql.ProgrammingError, match="second_value"):
            await conn.execute("INSERT INTO t VALUES (:first, :second_value)", {"first": 5, "second_value": value})
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


async def test_unsupported_value_in_executemany_raises_programming_error() -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.executemany("INSERT INTO t VALUES (?, ?)", [(5, object()), (6, 7)])
        await conn.rollback()
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("sql", "parameters"),
    [
        ("INSERT INTO t VALUES (?, ?)", (5,)),
        ("INSERT INTO t VALUES (?, ?)", (5, 6, 7)),
        ("INSERT INTO t VALUES (?, ?)", ()),
        ("INSERT INTO t VALUES (?3, ?1)", (5, 6)),
        ("INSERT INTO t VALUES (:a, :b)", {"a": 5}),
        ("INSERT INTO t VALUES (?, ?)", {"a": 5, "b": 6}),
    ],
    ids=["too-few", "too-many", "none-given", "numbered-too-few", "missing-name", "mapping-for-qmark"],
)
async def test_wrong_parameters_for_the_placeholders_raise_programming_error(sql: str, parameters: Any) -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.execute(sql, parameters)
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


@pytest.mark.parametrize(
    "parameters",
    ["56", "5", b"56", 5, {5, 6}, (value for value in (5, 6))],
    ids=["str", "one-char-str", "bytes", "int", "set", "generator"],
)
async def test_parameters_that_are_not_a_sequence_or_mapping_raise_programming_error(parameters: Any) -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.execute("INSERT INTO t VALUES (?, ?)", parameters)
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


async def test_more_than_one_statement_raises_programming_error_and_runs_none() -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.execute("INSERT INTO t VALUES (5, 6); INSERT INTO t VALUES (7, 8)")
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


async def test_sql_containing_a_nul_character_raises_programming_error() -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.execute("INSERT INTO t VALUES (5, '\x00')")
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


@pytest.mark.parametrize("sql", [b"INSERT INTO t VALUES (5, 6)", 5, None], ids=["bytes", "int", "None"])
async def test_non_str_sql_raises_programming_error(sql: Any) -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.execute(sql)
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.executemany(sql, [(5, 6)])
        with pytest.raises(aiolibsql.ProgrammingError):
            await conn.executescript(sql)
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()


async def test_str_with_a_lone_surrogate_is_rejected() -> None:
    conn = await _open_with_one_row()
    try:
        with pytest.raises((aiolibsql.ProgrammingError, UnicodeEncodeError)):
            await conn.execute("INSERT INTO t VALUES (?, ?)", (5, "\ud800"))
        await _assert_unchanged_and_usable(conn)
    finally:
        await conn.close()
