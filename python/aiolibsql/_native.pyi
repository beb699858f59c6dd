"""Native core of aiolibsql: libSQL connections driven by worker threads."""

from collections.abc import Sequence


import asyncio
import contextvars
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Generic, TypeVar

_T = TypeVar("_T")

sqlite_version: str = '3.47.0'

libsql_version: str = '0.2.3'

def register_exception_classes(classes: dict) -> None:
    """Tell the native core which Python classes to raise, by DB-API name."""

def close_everything_still_open() -> None:
    """
    Close every open connection and pool, waiting for running statements (used at interpreter exit).
    """

def fetch_more(port: object | None, rows: object) -> object:
    """
    The next chunk of a result that has more rows, from the connection that produced it.
    """

class Future(Generic[_T]):
    """The result of one operation, awaitable like asyncio.Future."""

    _asyncio_future_blocking: bool

    def __await__(self) -> Generator[Any, None, _T]: ...
    def __iter__(self) -> Generator[Any, None, _T]: ...
    def result(self) -> _T: ...
    def exception(self) -> BaseException | None: ...
    def done(self) -> bool: ...
    def cancelled(self) -> bool: ...
    def cancel(self, msg: Any | None = None) -> bool: ...
    def add_done_callback(
        self, fn: Callable[[Future[_T]], object], /, *, context: contextvars.Context | None = None
    ) -> None: ...
    def remove_done_callback(self, fn: Callable[[Future[_T]], object], /) -> int: ...
    def get_loop(self) -> asyncio.AbstractEventLoop: ...

class LazyCall(Generic[_T]):
    """A database call that runs when first awaited."""

    def __await__(self) -> Generator[Any, None, _T]: ...
    def __iter__(self) -> Generator[Any, None, _T]: ...
    def __next__(self) -> Any: ...
    def send(self, value: Any, /) -> Any: ...
    def throw(self, exception: Any, value: Any = None, traceback: Any = None, /) -> Any: ...
    def close(self) -> None: ...

class ResultReaderBase:
    """The state of one result and the fetches that need no waiting."""

    _runner: Any
    _connection: Any
    _rows: ResultRows | None
    _carried: Any
    _pending_chunk: Any
    _closed: bool
    row_factory: Callable[[Any, tuple[Any, ...]], Any] | None
    lastrowid: int | None
    rowcount: int
    arraysize: int

    def __init__(
        self, runner: Any, row_factory: Callable[[Any, tuple[Any, ...]], Any] | None,
        rows: ResultRows | None = None, connection: Any = None
    ) -> None: ...
    @property
    def description(self) -> tuple[tuple[Any, ...], ...] | None: ...
    def fetchone(self) -> Coroutine[Any, Any, Any]: ...
    def _take(self, rows: ResultRows, /) -> None: ...
    def _forget_result(self) -> None: ...

class ConnectionBase:
    """The native part of a connection: execute() without Python frames."""

    _native: NativeConnection
    _runner: Any
    row_factory: Callable[[Any, tuple[Any, ...]], Any] | None

    def __init__(self, native: NativeConnection, runner: Any, cursor_class: type[ResultReaderBase]) -> None: ...
    def execute(self, sql: str, parameters: Any = ()) -> Coroutine[Any, Any, Any]: ...

class PoolBase:
    """The native part of a pool: execute() without Python frames."""

    _native: NativePool
    _runner: Any
    row_factory: Callable[[Any, tuple[Any, ...]], Any] | None

    def __init__(self, native: NativePool, runner: Any, cursor_class: type[ResultReaderBase]) -> None: ...
    def execute(self, sql: str, parameters: Any = ()) -> Coroutine[Any, Any, Any]: ...

class CompletionPort:
    """Collects the completions of operations submitted from one event loop."""

    def __init__(self, loop: object) -> None: ...

    @property
    def fd(self) -> int:
        """File descriptor that is readable while completions wait."""

    def drain(self) -> None:
        """Resolve the future of every finished operation."""

class ResultRows:
    """One chunk of an execution's rows, converted as they are fetched."""

    def fetchone(self) -> object: ...

    def fetchmany(self, size: int) -> list: ...

    def fetchall(self) -> list: ...

    @property
    def remaining(self) -> int: ...

    @property
    def has_more(self) -> bool: ...

    @property
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int: ...

    @property
    def description(self) -> object: ...

class NativeConnection:
    """
    A connection to a local file or a remote database. Each operation takes a CompletionPort and returns a Future, or None and blocks.
    """

    @staticmethod
    def local(inline_reads: bool, database: bytes, uri: bool, timeout: float, isolation_level: str | None, autocommit: int, cached_statements: int, encryption_key: object | None, cipher: str) -> NativeConnection:
        """A local file or :memory:, its work on a worker thread of its own."""

    @staticmethod
    def remote(url: str, auth_token: object | None, timeout: float, isolation_level: str | None, autocommit: int) -> NativeConnection:
        """A remote database over Hrana."""

    @staticmethod
    def replica(database: bytes, sync_url: str, auth_token: object | None, sync_protocol: str, offline: bool, sync_interval: float | None, timeout: float, isolation_level: str | None, autocommit: int, cached_statements: int, inline_reads: bool) -> NativeConnection:
        """An embedded replica: a local file kept in step with a remote primary."""

    def open(self, port: object | None) -> object: ...

    def rekey(self, port: object | None, key: object | None) -> object: ...

    def execute(self, port: object | None, sql: object | None, parameters: object | None) -> object: ...

    def executemany(self, port: object | None, sql: object | None, batch: object) -> object: ...

    def executescript(self, port: object | None, script: object | None) -> object: ...

    def commit(self, port: object | None) -> object: ...

    def rollback(self, port: object | None) -> object: ...

    def set_autocommit(self, port: object | None, autocommit: int) -> object: ...

    def backup(self, port: object | None, target: NativeConnection, schema: str, pages: int) -> object: ...

    def create_function(self, port: object | None, name: str, arg_count: int, callable: object, deterministic: bool) -> object: ...

    def close(self, port: object | None) -> object: ...

    def sync(self, port: object | None) -> object: ...

    def interrupt(self) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    @property
    def total_changes(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    @property
    def is_remote(self) -> bool: ...

    @property
    def is_replica(self) -> bool: ...

class NativePool:
    """
    A pool of connections to a local file, or of streams to a remote database.
    """

    @staticmethod
    def local(database: bytes, uri: bool, size: int, timeout: float, setup_statements: Sequence[str], largest_group: int, group_gather: float, cached_statements: int, inline_reads: bool, encryption_key: object | None, cipher: str) -> NativePool:
        """One writer and size - 1 readers on one WAL file."""

    @staticmethod
    def remote(url: str, auth_token: object | None, timeout: float, size: int) -> NativePool:
        """size streams to a remote database over Hrana."""

    @staticmethod
    def replica(database: bytes, sync_url: str, auth_token: object | None, sync_protocol: str, size: int, timeout: float, setup_statements: Sequence[str], cached_statements: int, inline_reads: bool, sync_interval: float | None) -> NativePool:
        """Readers on an embedded replica, writes to its primary."""

    def open(self, port: object | None) -> object: ...

    def execute(self, port: object | None, sql: object | None, parameters: object | None) -> object: ...

    def executemany(self, port: object | None, sql: object | None, batch: object) -> object: ...

    def goes_to_writer(self, sql: object | None) -> bool: ...

    def executebatch(self, port: object | None, statements: object) -> object: ...

    def close(self, port: object | None) -> object: ...

    def sync(self, port: object | None) -> object: ...

    def stats(self) -> list: ...

    def transaction(self) -> NativePinned: ...

    def snapshot(self) -> NativePinned: ...

    @property
    def size(self) -> int: ...

    @property
    def reader_count(self) -> int: ...

    @property
    def closed(self) -> bool: ...

    @property
    def is_remote(self) -> bool: ...

    @property
    def is_replica(self) -> bool: ...

class NativePinned:
    """
    A transaction or snapshot pinning one member of a pool; rolls back if dropped unended.
    """

    def begin(self, port: object | None) -> object: ...

    def execute(self, port: object | None, sql: object | None, parameters: object | None) -> object: ...

    def executemany(self, port: object | None, sql: object | None, batch: object) -> object: ...

    def end(self, port: object | None, commit: bool = False) -> object: ...
