"""``Row``: a result row readable by index and by column name, like ``sqlite3.Row``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol


class _DescribedCursor(Protocol):
    @property
    def description(self) -> tuple[tuple[Any, ...], ...] | None: ...


class Row:
    """A row that reads by position, by column name (case-insensitively) and
    as a mapping through ``keys()``. Use it as a row factory::

        conn.row_factory = aiolibsql.Row
    """

    __slots__ = ("_keys", "_values")

    def __init__(self, cursor: _DescribedCursor, values: tuple[Any, ...]) -> None:
        description = cursor.description or ()
        self._keys = tuple(column[0] for column in description)
        self._values = tuple(values)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._keys)

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            folded = key.casefold()
            for index, name in enumerate(self._keys):
                if name.casefold() == folded:
                    return self._values[index]
            raise IndexError(f"No item with key {key!r}")
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return self._keys == other._keys and self._values == other._values

    def __hash__(self) -> int:
        return hash((self._keys, self._values))

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={value!r}" for key, value in zip(self._keys, self._values, strict=False))
        return f"<Row {fields}>"
