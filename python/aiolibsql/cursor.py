"""``Cursor``: one execution at a time and the rows it returned."""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import _native
from ._native import ResultRows
from .exceptions import ProgrammingError

if TYPE_CHECKING:
    from .connection import Connection

Parameters = Sequence[Any] | Mapping[str, Any]
RowFactory = Callable[[Any, tuple[Any, ...]], Any]


def shape_rows(cursor: Any, row_factory: RowFactory | None, rows: list[Any]) -> list[Any]:
    """Fetched rows as the cursor's row factory makes them (the async and the
    blocking cursors share it)."""
    if row_factory is None:
        return rows
    return [row_factory(cursor, row) for row in rows]


class ResultReader(_native.ResultReaderBase):
    """Reads the rows of one result.

    The first rows arrive with the execution itself, so fetching a small
    result needs no further trip to the database thread; larger results stream
    in chunks, keeping memory bounded however many rows there are. The state
    and ``fetchone`` when its row is already here are native
    (``ResultReaderBase``); what must wait for the engine is here.
    """

    __slots__ = ()

    def _check_open(self) -> None:
        if self._closed:
            raise ProgrammingError("Cannot operate on a closed cursor.")
        self._runner.check_open()

    def _drop_unread(self) -> None:
        """Let go of rows a cancelled fetch left behind; a chunk still being
        fetched is cancelled, which stops its statement."""
        self._carried = None
        pending, self._pending_chunk = self._pending_chunk, None
        if pending is not None:
            pending.cancel()

    def _carry(self, taken: list[tuple[Any, ...]]) -> None:
        """Put rows a cancelled fetch had taken back in front of the rest."""
        if taken:
            self._carried = deque(taken) if self._carried is None else deque([*taken, *self._carried])

    def _take_carried(self, wanted: int) -> list[tuple[Any, ...]]:
        carried = self._carried
        if carried is None:
            return []
        taken = [carried.popleft() for _ in range(min(wanted, len(carried)))]
        if not carried:
            self._carried = None
        return taken

    async def _next_chunk(self) -> ResultRows | None:
        """Fetch the next chunk of rows from the engine, if any remain."""
        current = self._rows
        if current is None or not current.has_more:
            return None
        # The chunk is fetched under a shield: a fetch cancelled or closed
        # while it waits leaves the chunk to the next fetch instead of losing it.
        pending = self._pending_chunk
        if pending is None:
            pending = self._pending_chunk = asyncio.ensure_future(self._runner.submit(_native.fetch_more, current))
        try:
            rows = await asyncio.shield(pending)
        except BaseException:
            # Only the fetch's own failure (its error, or its cancellation)
            # lets it go; a wait interrupted before or after the chunk came
            # leaves the chunk to the next fetch.
            failed = pending.done() and (pending.cancelled() or pending.exception() is not None)
            if failed and self._pending_chunk is pending:
                self._pending_chunk = None
            raise
        # Other fetches may wait for the same chunk: the first to wake holds
        # it, and the rest read on from whatever the cursor holds by then.
        if self._pending_chunk is pending:
            self._pending_chunk = None
            self._rows = rows
            if rows.rowcount != -1:
                self.rowcount = rows.rowcount
        return self._rows

    def _shape(self, row: tuple[Any, ...]) -> Any:
        factory = self.row_factory
        return row if factory is None else factory(self, row)

    async def _fetchone_slowly(self) -> Any:
        """fetchone() when its row is not already here: rows a cancelled fetch
        put back, or the next chunk to wait for."""
        if self._closed or self._runner.native.closed:
            self._check_open()
        if self._carried is not None:
            row = self._take_carried(1)[0]
            return row if self.row_factory is None else self.row_factory(self, row)
        rows = self._rows
        if rows is None:
            return None
        row = rows.fetchone()
        while row is None and rows is not None and rows.has_more:
            rows = await self._next_chunk()
            row = None if rows is None else rows.fetchone()
        if row is None or self.row_factory is None:
            return row
        return self.row_factory(self, row)

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` rows (default ``arraysize``)."""
        self._check_open()
        # Larger than any result can be; the engine counts rows in 64 bits.
        wanted = min(self.arraysize if size is None else size, sys.maxsize)
        if wanted < 0:
            raise ValueError("fetchmany() size must not be negative")
        rows = self._rows
        result = self._take_carried(wanted)
        try:
            while rows is not None and len(result) < wanted:
                result.extend(rows.fetchmany(wanted - len(result)))
                if len(result) < wanted:
                    rows = await self._next_chunk()
        except asyncio.CancelledError:
            self._carry(result)
            raise
        return shape_rows(self, self.row_factory, result)

    async def fetchall(self) -> list[Any]:
        """Every remaining row."""
        self._check_open()
        return await self._fetch_remaining()

    async def _fetch_remaining(self) -> list[Any]:
        """Every remaining row; only fetching more chunks needs an open connection."""
        rows = self._rows
        result = self._take_carried(len(self._carried or ()))
        try:
            while rows is not None:
                result.extend(rows.fetchall())
                rows = await self._next_chunk()
        except asyncio.CancelledError:
            self._carry(result)
            raise
        return shape_rows(self, self.row_factory, result)

    async def close(self) -> None:
        """Close the cursor; the rest of its result is released."""
        self._closed = True
        self._drop_unread()
        self._rows = None

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        row = await self.fetchone()
        if row is None:
            raise StopAsyncIteration
        return row

    async def __aenter__(self) -> ResultReader:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class Cursor(ResultReader):
    """Executes statements on its connection and fetches their rows."""

    __slots__ = ()

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection._runner, connection.row_factory, None, connection)

    @property
    def connection(self) -> Connection:
        """The connection this cursor runs on."""
        return self._connection

    async def execute(self, sql: str, parameters: Parameters = ()) -> Cursor:
        """Run one statement with ``?`` parameters from a sequence or
        ``:name``/``@name``/``$name`` parameters from a mapping."""
        if self._closed:
            raise ProgrammingError("Cannot operate on a closed cursor.")
        # The connection's own execute() runs it (inline when it can); this
        # cursor takes over the result.
        executed = await self._connection.execute(sql, parameters)
        self._take(executed._rows)
        return self

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Parameters]) -> Cursor:
        """Run one DML statement once per parameter set; any iterable works,
        generators included, and is consumed in batches."""
        self._check_open()
        self._forget_result()
        self.rowcount = await self._connection._executemany(sql, seq_of_parameters)
        return self

    async def executescript(self, sql_script: str) -> Cursor:
        """Run several statements separated by semicolons, without parameters.
        Under legacy transaction control a pending transaction is committed first."""
        self._check_open()
        self._forget_result()
        self.rowcount = -1
        await self._runner.submit(self._connection._native.executescript, sql_script)
        return self
