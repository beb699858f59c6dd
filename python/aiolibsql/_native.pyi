"""Native core of aiolibsql: libSQL connections driven by worker threads."""

from collections.abc import Sequence


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
    A libSQL connection whose work runs on a worker thread of its own. Each operation takes a CompletionPort and returns a future, or None and blocks.
    """

    def __init__(self, inline_reads: bool) -> None: ...

    def open(self, port: object | None, database: str, uri: bool, timeout: float, isolation_level: str | None, autocommit: int, cached_statements: int, query_only: bool, encryption_key: object | None, cipher: str) -> object: ...

    def rekey(self, port: object | None, key: object | None) -> object: ...

    def try_execute(self, sql: object | None, parameters: object | None) -> object:
        """
        Run a short read inline if the connection is idle; None means: queue it with execute().
        """

    def execute(self, port: object | None, sql: object | None, parameters: object | None) -> object: ...

    def executemany(self, port: object | None, sql: object | None, batch: object) -> object: ...

    def executescript(self, port: object | None, script: object | None) -> object: ...

    def commit(self, port: object | None) -> object: ...

    def rollback(self, port: object | None) -> object: ...

    def set_autocommit(self, port: object | None, autocommit: int) -> object: ...

    def backup(self, port: object | None, target: NativeConnection, schema: str, pages: int) -> object: ...

    def create_function(self, port: object | None, name: str, arg_count: int, callable: object, deterministic: bool) -> object: ...

    def close(self, port: object | None) -> object: ...

    def cancel(self, future: object) -> bool:
        """
        Cancel the operation whose future this is: drop it if queued, interrupt it if running.
        """

    def interrupt(self) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    @property
    def total_changes(self) -> int: ...

    @property
    def closed(self) -> bool: ...

class NativePool:
    """One writer and size - 1 readers on one WAL file."""

    def __init__(self, database: str, size: int, timeout: float, setup_statements: Sequence[str], largest_group: int, group_gather: float, cached_statements: int, inline_reads: bool, encryption_key: object | None, cipher: str) -> None: ...

    def open(self, port: object | None) -> object: ...

    def execute(self, port: object | None, sql: object | None, parameters: object | None) -> object: ...

    def executemany(self, port: object | None, sql: object | None, batch: object) -> object: ...

    def executebatch(self, port: object | None, statements: object) -> object: ...

    def close(self, port: object | None) -> object: ...

    def cancel(self, future: object) -> bool: ...

    def stats(self) -> list: ...

    @property
    def size(self) -> int: ...

    @property
    def reader_count(self) -> int: ...

    @property
    def closed(self) -> bool: ...

class NativeTransaction:
    """
    An explicit transaction on a pool's writer; rolls back if dropped unended.
    """

    def __init__(self, pool: NativePool) -> None: ...

    def begin(self, port: object | None) -> object: ...

    def execute(self, port: object | None, sql: object | None, parameters: object | None) -> object: ...

    def executemany(self, port: object | None, sql: object | None, batch: object) -> object: ...

    def end(self, port: object | None, commit: bool) -> object: ...

class NativeSnapshot:
    """A read transaction pinned to one of a pool's readers."""

    def __init__(self, pool: NativePool) -> None: ...

    def begin(self, port: object | None) -> object: ...

    def execute(self, port: object | None, sql: object | None, parameters: object | None) -> object: ...

    def end(self, port: object | None) -> object: ...
