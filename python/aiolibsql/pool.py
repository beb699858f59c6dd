"""``create_pool`` and ``ConnectionPool``: one writer and many readers on one file.

Statements go where they belong by what they do (the engine's own
``sqlite3_stmt_readonly``, never the SQL text): reads to an idle reader,
writes to the single writer. Autocommit writes that arrive while the writer is
busy are committed together in one transaction (group commit), each under its
own savepoint, so one failing statement fails only its own caller.

"Committed" means the transaction committed in WAL mode with
``synchronous=NORMAL`` (the default): a committed write survives a crash of
the application, and a power loss can lose only the last transactions before
the next checkpoint. Use ``pragmas={"synchronous": "FULL"}`` to make every
commit durable against power loss too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from . import _native
from ._chunks import parameter_chunks
from ._opening import Opening
from ._replica import ReplicaSettings, SyncResult, replica_settings
from ._runner import Runner, inline_reads_default
from .connection import (
    _REMOTE_SCHEMES,
    DEFAULT_CIPHER,
    DatabasePath,
    _check_encryption,
    _check_open_options,
    _check_timeout,
    _database_path,
    _remote_url_text,
)
from .cursor import Parameters, ResultReader
from .exceptions import NotSupportedError, OperationalError, ProgrammingError

__all__ = ["DEFAULT_PRAGMAS", "ConnectionPool", "PoolCursor", "Snapshot", "Transaction", "create_pool"]

#: Pragmas applied to every pooled connection; ``create_pool(pragmas=...)`` overrides them one by one.
DEFAULT_PRAGMAS: dict[str, str | int] = {
    "journal_mode": "WAL",
    "synchronous": "NORMAL",
    "cache_size": -16000,
    "mmap_size": 268435456,
    "temp_store": "MEMORY",
}

# Each member is a connection with a thread of its own; beyond this many, a
# pool is a mistake rather than a size.
_MAX_SIZE = 1024
# Members of one commit group; a group's savepoints live in one transaction.
_MAX_GROUP_COMMIT_SIZE = 65536

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORD = re.compile(r"-?[A-Za-z0-9_.]+")


class PoolCursor(ResultReader):
    """The rows of one statement run through the pool."""

    __slots__ = ()


def _setup_statements(pragmas: Mapping[str, str | int] | None) -> list[str]:
    merged: dict[str, str | int] = dict(DEFAULT_PRAGMAS)
    if pragmas is not None and not isinstance(pragmas, Mapping):
        raise TypeError(f"pragmas must be a mapping of pragma names to values, not {type(pragmas).__name__}")
    for name, value in (pragmas or {}).items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ValueError(f"not a pragma name: {name!r}")
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not _WORD.fullmatch(str(value)):
            raise ValueError(f"pragma {name} needs an int or a single word, not {value!r}")
        # The engine reads pragma values as 64-bit integers: a larger one would
        # silently become another setting.
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError(f"pragma {name} needs a 64-bit int, not {value!r}")
        if name.lower() == "busy_timeout":
            raise ValueError("set the busy timeout with create_pool(timeout=seconds), not a pragma")
        merged[name.lower()] = value
    # journal_mode first: the writer switches the file to WAL before anything else.
    ordered = sorted(merged.items(), key=lambda item: item[0] != "journal_mode")
    return [f"PRAGMA {name} = {value}" for name, value in ordered]


def _parameter_sets(seq_of_parameters: Iterable[Parameters]) -> Iterator[Parameters]:
    if isinstance(seq_of_parameters, (str, bytes)):
        raise ProgrammingError("executemany() needs an iterable of parameter sets")
    try:
        return iter(seq_of_parameters)
    except TypeError:
        raise ProgrammingError("executemany() needs an iterable of parameter sets") from None


def _collect(seq_of_parameters: Iterable[Parameters]) -> list[Parameters]:
    return list(_parameter_sets(seq_of_parameters))


def _changed_rows(pool: ConnectionPool, changed: int) -> PoolCursor:
    """A rowless cursor reporting how many rows an executemany changed."""
    cursor = PoolCursor(pool._runner, pool.row_factory)
    cursor.rowcount = changed
    return cursor


class Transaction:
    """An explicit transaction on the pool's writer, from ``pool.transaction()``.

    Other writes wait until it ends. Leaving the ``async with`` block commits;
    an exception or a cancellation rolls back.
    """

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._native = pool._native.transaction()

    async def execute(self, sql: str, parameters: Parameters = ()) -> PoolCursor:
        """Run one statement inside the transaction."""
        rows = await self._pool._runner.submit(self._native.execute, sql, parameters)
        return PoolCursor(self._pool._runner, self._pool.row_factory, rows)

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Parameters]) -> PoolCursor:
        """Run one DML statement per parameter set inside the transaction; the
        cursor's rowcount is the rows changed (as from ``pool.executemany``)."""
        changed = await self._pool._runner.submit(self._native.executemany, sql, _collect(seq_of_parameters))
        return _changed_rows(self._pool, changed)

    async def __aenter__(self) -> Transaction:
        self._pool._refuse_waiting_on_own_transaction("a nested pool.transaction()")
        port = self._pool._runner.port()
        self._native = await _begin_when_free(
            self._pool, self._pool._native.transaction, lambda native: native.end(port, False)
        )
        self._pool._transaction_owner = asyncio.current_task()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        self._pool._transaction_owner = None
        future = self._native.end(self._pool._runner.port(), exc_type is None)
        # The end runs to completion even when this task is being cancelled.
        await asyncio.shield(future)


class Snapshot:
    """A read transaction pinned to one reader, from ``pool.snapshot()``: every
    query in the block sees the database as it was when the block began."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool
        self._native = pool._native.snapshot()

    async def execute(self, sql: str, parameters: Parameters = ()) -> PoolCursor:
        """Run one read-only statement in the snapshot."""
        rows = await self._pool._runner.submit(self._native.execute, sql, parameters)
        return PoolCursor(self._pool._runner, self._pool.row_factory, rows)

    async def __aenter__(self) -> Snapshot:
        port = self._pool._runner.port()
        self._native = await _begin_when_free(self._pool, self._pool._native.snapshot, lambda native: native.end(port))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.shield(self._native.end(self._pool._runner.port()))


async def _begin_when_free(
    pool: ConnectionPool,
    make: Callable[[], _native.NativePinned],
    end: Callable[[_native.NativePinned], Awaitable[object]],
) -> _native.NativePinned:
    """Begins a transaction or snapshot on a connection it pins. Connections
    held by other transactions, snapshots or unfinished results free up soon:
    wait for one up to the pool's timeout, as for a lock. Every failed or
    cancelled attempt gives its connection back."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + pool._timeout
    pause = 0.001
    while True:
        native = make()
        try:
            await pool._runner.submit(native.begin)
            return native
        except BaseException as error:
            with contextlib.suppress(Exception):
                await asyncio.shield(end(native))
            busy = isinstance(error, OperationalError) and error.sqlite_errorname == "SQLITE_BUSY"
            if not busy or loop.time() >= deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.02)


class ConnectionPool(_native.PoolBase):
    """One writer and ``size - 1`` readers on one database file in WAL mode.
    ``execute`` is native (``PoolBase``): a short read on an idle reader costs
    no Python frame."""

    def __init__(self, native: _native.NativePool, timeout: float) -> None:
        # The task inside an open pool.transaction() block, which owns the
        # writer: any other write it awaits would wait for itself. Set first:
        # the native execute() reads it.
        self._transaction_owner: asyncio.Task[Any] | None = None
        super().__init__(native, Runner(native, "Cannot operate on a closed pool."), PoolCursor)
        self._timeout = timeout

    if TYPE_CHECKING:

        async def execute(self, sql: str, parameters: Parameters = ()) -> PoolCursor:
            """Run one statement on a reader when it only reads, on the writer
            otherwise; returns once a write is committed."""

    @property
    def size(self) -> int:
        """Connections in the pool: the writer and the readers."""
        return self._native.size

    @property
    def reader_count(self) -> int:
        """Reader connections (``size - 1``); remotely, the streams a
        transaction or snapshot may pin (also ``size - 1``)."""
        return self._native.reader_count

    @property
    def is_remote(self) -> bool:
        """Whether the pool's streams go to a remote database."""
        return self._native.is_remote

    @property
    def is_replica(self) -> bool:
        """Whether the pool's readers use an embedded replica (``sync_url``)."""
        return self._native.is_replica

    async def sync(self) -> SyncResult:
        """Pull what the primary has that the replica lacks (see Connection.sync)."""
        rows = await self._runner.submit(self._native.sync)
        return SyncResult(*rows.fetchone())

    async def _execute_queued(self, sql: str, parameters: Parameters) -> PoolCursor:
        """execute() of a statement that does not run inline."""
        # Runner.submit's steps, spelled out: a pool has no pending settings.
        runner = self._runner
        if self._native.closed:
            runner.check_open()
        if self._transaction_owner is not None and self._native.goes_to_writer(sql):
            self._refuse_waiting_on_own_transaction("pool.execute() of a write")
        rows = await self._native.execute(runner.port(), sql, parameters)
        return PoolCursor(runner, self.row_factory, rows)

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Parameters]) -> PoolCursor:
        """Run one DML statement per parameter set, all in one transaction."""
        self._refuse_waiting_on_own_transaction("pool.executemany()")
        if not self.is_remote:
            changed = await self._runner.submit(self._native.executemany, sql, _collect(seq_of_parameters))
            return _changed_rows(self, changed)
        # Remotely, what fits one request goes as one atomic batch; more, in
        # a transaction of its own, a request per chunk.
        chunks = parameter_chunks(_parameter_sets(seq_of_parameters), remote=True)
        first = next(chunks, [])
        second = next(chunks, None)
        if second is None:
            changed = await self._runner.submit(self._native.executemany, sql, first)
            return _changed_rows(self, changed)
        changed = 0
        async with self.transaction() as tx:
            for chunk in itertools.chain((first, second), chunks):
                changed += (await tx.executemany(sql, chunk)).rowcount
        return _changed_rows(self, changed)

    async def executebatch(self, statements: Iterable[tuple[str, Parameters] | tuple[str]]) -> None:
        """Run ``(sql, parameters)`` pairs in one transaction: all or nothing."""
        self._refuse_waiting_on_own_transaction("pool.executebatch()")
        await self._runner.submit(self._native.executebatch, list(statements))

    def _refuse_waiting_on_own_transaction(self, what: str) -> None:
        """Fails at once what would otherwise wait forever for the caller's own transaction."""
        if self._transaction_owner is not None and self._transaction_owner is asyncio.current_task():
            raise ProgrammingError(
                f"{what} inside this task's own pool.transaction() block would wait for that transaction "
                "to end, which never happens: use the transaction (tx.execute) instead"
            )

    def transaction(self) -> Transaction:
        """``async with pool.transaction() as tx:`` an explicit transaction on the writer."""
        self._runner.check_open()
        return Transaction(self)

    def snapshot(self) -> Snapshot:
        """``async with pool.snapshot() as snap:`` consistent reads pinned to one reader."""
        self._runner.check_open()
        return Snapshot(self)

    def stats(self) -> dict[str, Any]:
        """Queue depth and operations served per connection, and group-commit figures."""
        connections = self._native.stats()
        writer = connections[0]
        return {
            "connections": [{key: entry[key] for key in ("role", "queued", "completed")} for entry in connections],
            "group_commit": {
                "groups": writer["groups"],
                "grouped_operations": writer["grouped_operations"],
                "largest_group": writer["largest_group"],
            },
        }

    async def close(self) -> None:
        """Fail queued work, wait for running statements, checkpoint, close every connection."""
        if self._native.closed:
            return
        await asyncio.shield(self._native.close(self._runner.port()))

    async def __aenter__(self) -> ConnectionPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._native.closed else "open"
        where = " remote" if self.is_remote else ""
        return f"<aiolibsql.ConnectionPool{where} size={self.size} {state}>"


def create_pool(
    database: DatabasePath,
    size: int = 10,
    timeout: float = 5.0,
    encryption_key: str | bytes | None = None,
    pragmas: Mapping[str, str | int] | None = None,
    *,
    group_commit: bool = True,
    group_commit_size: int = 256,
    group_commit_wait: float = 0.0,
    cached_statements: int = 128,
    inline_reads: bool | None = None,
    cipher: str = DEFAULT_CIPHER,
    uri: bool = False,
    auth_token: str | None = None,
    sync_url: str | None = None,
    sync_interval: float | None = None,
    offline: bool = False,
    sync_protocol: str = "auto",
) -> Opening[ConnectionPool]:
    """Open a pool of ``size`` connections (1 writer + ``size - 1`` readers) on one file.

    ``pragmas`` override :data:`DEFAULT_PRAGMAS`; the busy timeout is
    ``timeout`` (a ``busy_timeout`` pragma is refused: it would replace the
    handler that lets cancellation stop a wait for a lock). Group commit gathers up to ``group_commit_size`` queued
    autocommit writes into one transaction, waiting up to
    ``group_commit_wait`` seconds for more once a group has started;
    ``group_commit=False`` commits each write alone. ``inline_reads`` is as
    for :func:`aiolibsql.connect`: short reads on an idle reader run on the
    event loop's thread. ``uri`` is as for :func:`aiolibsql.connect`: without
    it, a name that starts with ``file:`` is a plain path. ``:memory:`` is refused:
    an in-memory database is private to one connection, so a pool cannot share it.

    A ``libsql://``, ``https://`` or ``http://`` URL (as for
    :func:`aiolibsql.connect`, with ``auth_token``) opens ``size`` streams to
    a remote database. Each statement outside a transaction goes to the least
    loaded stream, writes included: the server orders them, and each commits
    on its own (``executemany`` and ``executebatch`` are one atomic batch, in
    one round trip). ``transaction()`` and ``snapshot()`` pin a stream until
    they end; one stream is never pinned. ``timeout`` bounds connecting, each
    request and the wait for a stream to pin. ``pragmas`` and
    ``encryption_key`` raise NotSupportedError there (the server owns both);
    the local tuning options (group commit, statement cache, inline reads)
    do not apply and are ignored.

    With ``sync_url`` (and ``auth_token``, ``sync_interval``), ``database`` is
    an embedded replica, as for :func:`aiolibsql.connect`: the readers (and
    inline reads) use the local file, writes, ``executemany``,
    ``executebatch`` and ``transaction()`` go to the primary, and a read
    first pulls what the pool's writes changed. ``offline=True`` is refused
    for a pool: offline writes need the one writer of a connection.
    ``sync_protocol`` is as for :func:`aiolibsql.connect`.
    """
    path = _database_path(database)
    if isinstance(size, bool) or not isinstance(size, int) or not 2 <= size <= _MAX_SIZE:
        raise ValueError(f"size must be an int from 2 (one writer and one reader) to {_MAX_SIZE}")
    replica = replica_settings(
        path,
        path.startswith(_REMOTE_SCHEMES),
        sync_url,
        sync_interval,
        offline,
        encryption_key,
        uri,
        sync_protocol,
        auth_token,
    )
    if replica is not None:
        return _create_replica_pool(path, replica, size, timeout, pragmas, cached_statements, inline_reads)
    if path.startswith(_REMOTE_SCHEMES):
        return _create_remote_pool(path, size, timeout, auth_token, encryption_key, pragmas)
    if path in (b"", b":memory:") or b"mode=memory" in path:
        raise NotSupportedError("a pool needs a database file: an in-memory database is private to one connection")
    _check_encryption(encryption_key, cipher)
    _check_timeout(timeout)
    _check_open_options(uri, cached_statements)
    if (
        isinstance(group_commit_size, bool)
        or not isinstance(group_commit_size, int)
        or not 1 <= group_commit_size <= _MAX_GROUP_COMMIT_SIZE
    ):
        raise ValueError(f"group_commit_size must be an int from 1 to {_MAX_GROUP_COMMIT_SIZE}")
    if not isinstance(group_commit_wait, (int, float)) or not 0 <= group_commit_wait <= 1:
        raise ValueError("group_commit_wait must be between 0 and 1 second")
    setup = _setup_statements(pragmas)
    largest_group = group_commit_size if group_commit else 1

    async def open_pool() -> ConnectionPool:
        native = _native.NativePool.local(
            path,
            uri,
            size,
            float(timeout),
            setup,
            largest_group,
            float(group_commit_wait),
            cached_statements,
            inline_reads_default() if inline_reads is None else bool(inline_reads),
            encryption_key,
            cipher,
        )
        return await _opened(native, float(timeout))

    return Opening(open_pool)


async def _opened(native: _native.NativePool, timeout: float) -> ConnectionPool:
    pool = ConnectionPool(native, timeout)
    try:
        await pool._runner.submit(native.open)
    except BaseException:
        # Cancelled or failed: stop opening and let every connection's thread go.
        with contextlib.suppress(Exception):
            await asyncio.shield(native.close(pool._runner.port()))
        raise
    return pool


def _create_replica_pool(
    path: bytes,
    replica: ReplicaSettings,
    size: int,
    timeout: float,
    pragmas: Mapping[str, str | int] | None,
    cached_statements: int,
    inline_reads: bool | None,
) -> Opening[ConnectionPool]:
    if replica.offline:
        raise NotSupportedError("offline=True is for connections: a pool on a replica writes through its primary")
    _check_timeout(timeout)
    _check_open_options(False, cached_statements)
    setup = _setup_statements(pragmas)

    async def open_pool() -> ConnectionPool:
        native = _native.NativePool.replica(
            path,
            replica.sync_url,
            replica.auth_token,
            replica.sync_protocol,
            size,
            float(timeout),
            setup,
            cached_statements,
            inline_reads_default() if inline_reads is None else bool(inline_reads),
            replica.sync_interval,
        )
        return await _opened(native, float(timeout))

    return Opening(open_pool)


def _create_remote_pool(
    url: bytes,
    size: int,
    timeout: float,
    auth_token: str | None,
    encryption_key: str | bytes | None,
    pragmas: Mapping[str, str | int] | None,
) -> Opening[ConnectionPool]:
    if encryption_key is not None:
        raise NotSupportedError("encryption_key is for local files: a remote database is encrypted by its server")
    if pragmas:
        raise NotSupportedError("pragmas are for local files: a remote database's server sets its own")
    if auth_token is not None and not isinstance(auth_token, str):
        raise TypeError("auth_token must be a str")
    _check_timeout(timeout)
    native = _native.NativePool.remote(_remote_url_text(url), auth_token, float(timeout), size)
    return Opening(lambda: _opened(native, float(timeout)))
