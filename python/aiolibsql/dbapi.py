"""A blocking PEP 249 (DB-API 2.0) module on aiolibsql's native core.

Every call blocks the calling thread while the engine works, with the GIL
released, so other Python threads keep running. Where it overlaps with the
stdlib ``sqlite3`` module it behaves the same, so ``import aiolibsql.dbapi as
sqlite3`` is a fair swap for typical code::

    import aiolibsql.dbapi as sqlite3

    with sqlite3.connect("app.db") as conn:          # commits, does not close
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
        conn.execute("INSERT INTO t VALUES (?)", (1,))
    print(conn.execute("SELECT x FROM t").fetchall())
    conn.close()

The engine, the parameter and result types, the error classes and the
transaction rules are those of the asyncio API (see the README); the
differences from ``sqlite3`` are listed in ``connect``'s docstring.
"""

from __future__ import annotations

import datetime
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn

import aiolibsql

from . import _native
from ._chunks import parameter_chunks
from ._replica import SyncResult, open_replica, replica_settings
from .connection import _REMOTE_SCHEMES, DEFAULT_CIPHER, DatabasePath, _autocommit_mode, _database_path
from .cursor import shape_rows
from .exceptions import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,  # noqa: A004 - the name PEP 249 requires
)
from .row import Row

__all__ = [
    "BINARY",
    "DATETIME",
    "LEGACY_TRANSACTION_CONTROL",
    "NUMBER",
    "PARSE_COLNAMES",
    "PARSE_DECLTYPES",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Row",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "connect",
    "libsql_version",
    "paramstyle",
    "sqlite_version",
    "sqlite_version_info",
    "threadsafety",
]

#: PEP 249: this module follows DB-API 2.0.
apilevel = "2.0"
#: PEP 249: threads may share the module and connections. A connection runs
#: its operations one at a time, in the order the threads submitted them.
threadsafety = 2
#: PEP 249: ``?`` placeholders; ``:name``, ``@name`` and ``$name`` also work.
paramstyle = "qmark"
#: Version of the SQLite engine libSQL is built on.
sqlite_version: str = aiolibsql.sqlite_version
#: ``sqlite_version`` as a tuple of ints.
sqlite_version_info: tuple[int, int, int] = aiolibsql.sqlite_version_info
#: Version of libSQL itself.
libsql_version: str = aiolibsql.libsql_version
#: ``autocommit`` value for transaction control by ``isolation_level`` (the default).
LEGACY_TRANSACTION_CONTROL: int = aiolibsql.LEGACY_TRANSACTION_CONTROL
#: ``sqlite3``'s ``detect_types`` flags; converters are not supported, so
#: passing either to ``connect`` raises NotSupportedError.
PARSE_DECLTYPES = 1
PARSE_COLNAMES = 2

Parameters = Sequence[Any] | Mapping[str, Any]
RowFactory = Callable[[Any, tuple[Any, ...]], Any]

# -- PEP 249 type objects and constructors ----------------------------------


class DBAPITypeObject:
    """A PEP 249 type object: equal to each type code of its group.

    SQLite has no column types of its own, so ``description`` carries no type
    codes (``None``, as in ``sqlite3``); these objects match the declared type
    names SQLite gives each affinity, for code that compares them.
    """

    __slots__ = ("_names",)

    def __init__(self, *names: str) -> None:
        self._names = frozenset(name.upper() for name in names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self._names == other._names
        return isinstance(other, str) and other.upper() in self._names

    def __hash__(self) -> int:
        return hash(self._names)

    def __repr__(self) -> str:
        return f"DBAPITypeObject({', '.join(sorted(self._names))})"


STRING = DBAPITypeObject("TEXT", "VARCHAR", "CHAR", "CLOB", "NCHAR", "NVARCHAR", "STRING")
BINARY = DBAPITypeObject("BLOB", "BINARY", "VARBINARY")
NUMBER = DBAPITypeObject("INTEGER", "INT", "REAL", "FLOAT", "DOUBLE", "NUMERIC", "DECIMAL", "BOOLEAN")
DATETIME = DBAPITypeObject("DATE", "TIME", "DATETIME", "TIMESTAMP")
ROWID = DBAPITypeObject("ROWID", "INTEGER PRIMARY KEY")

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime
#: BLOB values: the engine takes any C-contiguous buffer, as ``sqlite3`` does.
Binary = memoryview


def DateFromTicks(ticks: float) -> datetime.date:
    """The local date of a POSIX timestamp."""
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:
    """The local time of day of a POSIX timestamp."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:
    """The local date and time of a POSIX timestamp."""
    return Timestamp(*time.localtime(ticks)[:6])


def _adapt(value: Any) -> Any:
    """The stored form of a value the engine does not bind itself: the ISO
    8601 text ``sqlite3``'s default adapters produce (datetime first: it is a date)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


_ADAPTED_TYPES = (datetime.date, datetime.time)


def _adapted(parameters: Any) -> Any | None:
    """``parameters`` with date and time values as text, or None if none is
    there (so the caller re-raises the original binding error)."""
    if isinstance(parameters, Mapping):
        if not any(isinstance(value, _ADAPTED_TYPES) for value in parameters.values()):
            return None
        return {key: _adapt(value) for key, value in parameters.items()}
    if isinstance(parameters, Sequence) and not isinstance(parameters, (str, bytes)):
        if not any(isinstance(value, _ADAPTED_TYPES) for value in parameters):
            return None
        return tuple(_adapt(value) for value in parameters)
    return None


# -- transactions -----------------------------------------------------------

_ISOLATION_LEVELS = ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE")
# The statements before which sqlite3's legacy mode opens a transaction: its
# own rule, the first keyword after whitespace and comments.
_DML_START = re.compile(r"(?:[ \t\f\n\r]+|--[^\n]*\n|/\*.*?\*/)*(?:INSERT|UPDATE|DELETE|REPLACE)", re.I | re.S)
_CLOSED_DATABASE = "Cannot operate on a closed database."
_CLOSED_CURSOR = "Cannot operate on a closed cursor."


def _begin_flavour(level: str) -> str:
    # BEGIN and BEGIN DEFERRED are the same statement to SQLite.
    return level or "DEFERRED"


def _checked_isolation_level(level: object) -> str | None:
    if level is None:
        return None
    if not isinstance(level, str):
        raise TypeError("isolation_level must be str or None")
    if level.upper() not in _ISOLATION_LEVELS:
        raise ValueError("isolation_level string must be '', 'DEFERRED', 'IMMEDIATE', or 'EXCLUSIVE'")
    return level.upper()


# -- Connection -------------------------------------------------------------


class Connection:
    """An open connection; ``connect()`` makes one. Each method blocks until
    the engine is done, with the GIL released meanwhile."""

    def __init__(
        self,
        database: DatabasePath,
        timeout: float = 5.0,
        isolation_level: str | None = "DEFERRED",
        sync_url: str | None = None,
        sync_interval: float | None = None,
        offline: bool = False,
        auth_token: str | None = None,
        encryption_key: str | bytes | None = None,
        autocommit: int | bool = LEGACY_TRANSACTION_CONTROL,
        *,
        uri: bool = False,
        cached_statements: int = 128,
        inline_reads: bool | None = None,
        cipher: str = DEFAULT_CIPHER,
        detect_types: int = 0,
        check_same_thread: bool = True,
        sync_protocol: str = "auto",
    ) -> None:
        # The asyncio connect() checks its arguments when called, without
        # opening anything: both modules accept and refuse the same values.
        aiolibsql.connect(
            database,
            timeout,
            isolation_level,
            sync_url,
            sync_interval,
            offline,
            auth_token,
            encryption_key,
            autocommit,
            uri=uri,
            cached_statements=cached_statements,
            inline_reads=inline_reads,
            cipher=cipher,
            sync_protocol=sync_protocol,
        )
        if detect_types:
            raise NotSupportedError("detect_types (converters) is not supported; convert values yourself")
        level = _checked_isolation_level(isolation_level)
        mode = _autocommit_mode(autocommit)
        # inline_reads only speeds up the asyncio API: a blocking call has no
        # event loop to spare. check_same_thread is accepted for sqlite3's
        # callers and not enforced: threads may share a connection here.
        path = _database_path(database)
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
            native = open_replica(path, replica, timeout, level, mode, cached_statements, False)
        elif path.startswith(_REMOTE_SCHEMES):
            native = _native.NativeConnection.remote(path.decode(), auth_token, float(timeout), level, mode)
        else:
            native = _native.NativeConnection.local(
                inline_reads=False,
                database=path,
                uri=uri,
                timeout=float(timeout),
                isolation_level=level,
                autocommit=mode,
                cached_statements=cached_statements,
                encryption_key=encryption_key,
                cipher=cipher,
            )
        native.open(None)
        self._native = native
        #: The BEGIN flavour the engine opens implicit transactions with.
        self._engine_isolation_level = level
        self._isolation_level = level
        self._autocommit = mode
        self._engine_mode = mode
        # Set while isolation_level differs from what the engine was opened
        # with (see _apply_transaction_control): the BEGIN to run before DML,
        # and whether COMMIT/ROLLBACK are this module's job.
        self._begin_statement: str | None = None
        self._ends_transactions_itself = False
        self._transaction_lock = threading.Lock()
        #: Called as ``row_factory(cursor, row_tuple)`` for each row of new cursors.
        self.row_factory: RowFactory | None = None

    # -- state --------------------------------------------------------------

    def _check_open(self) -> None:
        if self._native.closed:
            raise ProgrammingError(_CLOSED_DATABASE)

    def _apply_transaction_control(self) -> None:
        """Bring the engine in line with ``autocommit`` and ``isolation_level``.

        The engine's implicit BEGIN has the flavour it was opened with. When
        ``isolation_level`` names another one, this module issues the BEGIN
        itself, by sqlite3's own rule; when it is None, the engine runs in
        autocommit and this module ends explicit transactions on commit()."""
        begin_statement = None
        ends_itself = False
        engine_mode = self._autocommit
        if self._autocommit == LEGACY_TRANSACTION_CONTROL:
            wanted, opened = self._isolation_level, self._engine_isolation_level
            if wanted is None and opened is not None:
                engine_mode = 1
                ends_itself = True
            elif wanted is not None and (opened is None or _begin_flavour(wanted) != _begin_flavour(opened)):
                begin_statement = f"BEGIN {_begin_flavour(wanted)}"
        if engine_mode != self._engine_mode:
            # Leaving legacy control commits a pending transaction, which is
            # what sqlite3 does when isolation_level becomes None.
            self._native.set_autocommit(None, engine_mode)
            self._engine_mode = engine_mode
        self._begin_statement = begin_statement
        self._ends_transactions_itself = ends_itself

    def _begin_if_needed(self, sql: object) -> None:
        """Open the implicit transaction the engine would not open itself."""
        begin = self._begin_statement
        if begin is None or self._native.in_transaction or not isinstance(sql, str) or not _DML_START.match(sql):
            return
        with self._transaction_lock:
            if not self._native.in_transaction:
                self._native.execute(None, begin, ())

    def _end_transaction(self, statement: str) -> None:
        with self._transaction_lock:
            if self._native.in_transaction:
                self._native.execute(None, statement, ())

    @property
    def isolation_level(self) -> str | None:
        """The BEGIN flavour of implicit transactions under legacy control
        (``""``, ``"DEFERRED"``, ``"IMMEDIATE"``, ``"EXCLUSIVE"``), or None for
        none. Setting None commits a pending transaction, as in sqlite3."""
        return self._isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        level = _checked_isolation_level(value)
        self._check_open()
        if level is None:
            self.commit()
        self._isolation_level = level
        self._apply_transaction_control()

    @property
    def autocommit(self) -> int | bool:
        """True, False, or LEGACY_TRANSACTION_CONTROL, with Python 3.12
        sqlite3's meaning: True commits a pending transaction, False opens one.

        One case differs: going from False back to LEGACY_TRANSACTION_CONTROL
        while ``isolation_level`` is None, on a connection opened with a BEGIN
        flavour, commits the open transaction (sqlite3 leaves it open): the
        engine cannot drop its implicit BEGIN without leaving its legacy mode."""
        return {1: True, 0: False}.get(self._autocommit, LEGACY_TRANSACTION_CONTROL)

    @autocommit.setter
    def autocommit(self, value: int | bool) -> None:
        mode = _autocommit_mode(value)
        self._check_open()
        self._autocommit = mode
        self._apply_transaction_control()

    @property
    def is_remote(self) -> bool:
        """Whether this is a remote database (libsql://, https://, http://)."""
        return self._native.is_remote

    @property
    def is_replica(self) -> bool:
        """Whether this is an embedded replica (connected with ``sync_url``)."""
        return self._native.is_replica

    def sync(self) -> SyncResult:
        """Bring an embedded replica in step with its primary (see aiolibsql.Connection.sync)."""
        self._check_open()
        return SyncResult(*self._native.sync(None).fetchone())

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open."""
        self._check_open()
        return self._native.in_transaction

    @property
    def total_changes(self) -> int:
        """Rows inserted, updated or deleted since the connection opened."""
        self._check_open()
        return self._native.total_changes

    @property
    def text_factory(self) -> type[str]:
        """Always ``str``: TEXT values come back as str (store other data as BLOB)."""
        return str

    @text_factory.setter
    def text_factory(self, factory: object) -> None:
        if factory is not str:
            raise NotSupportedError("text_factory other than str is not supported; store such data as BLOB")

    # -- DB-API -------------------------------------------------------------

    def cursor(self, factory: Callable[[Connection], Cursor] | None = None) -> Cursor:
        """A new cursor; ``factory`` (a Cursor subclass) makes it instead."""
        self._check_open()
        if factory is None:
            return Cursor(self)
        cursor = factory(self)
        if not isinstance(cursor, Cursor):
            raise TypeError("factory must return an aiolibsql.dbapi.Cursor")
        return cursor

    def execute(self, sql: str, parameters: Parameters = ()) -> Cursor:
        """Run one statement on a new cursor and return that cursor."""
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Iterable[Parameters]) -> Cursor:
        """Run one DML statement per parameter set on a new cursor."""
        return self.cursor().executemany(sql, seq_of_parameters)

    def executescript(self, sql_script: str) -> Cursor:
        """Run ``;``-separated statements without parameters on a new cursor."""
        return self.cursor().executescript(sql_script)

    def commit(self) -> None:
        """Commit the open transaction (nothing to do with autocommit=True)."""
        self._check_open()
        if self._ends_transactions_itself:
            self._end_transaction("COMMIT")
        else:
            self._native.commit(None)

    def rollback(self) -> None:
        """Roll back the open transaction (nothing to do with autocommit=True)."""
        self._check_open()
        if self._ends_transactions_itself:
            self._end_transaction("ROLLBACK")
        else:
            self._native.rollback(None)

    def close(self) -> None:
        """Close the connection; an uncommitted transaction is rolled back,
        as in sqlite3. Closing twice is fine."""
        if not self._native.closed:
            self._native.close(None)

    def create_function(
        self, name: str, narg: int, func: Callable[..., Any] | None, *, deterministic: bool = False
    ) -> None:
        """Register a scalar SQL function implemented by ``func``."""
        self._check_open()
        if func is None:
            raise NotSupportedError("removing a function is not supported; register a new one instead")
        if not callable(func):
            raise TypeError("func must be callable")
        self._native.create_function(None, name, narg, func, deterministic)

    def backup(
        self,
        target: Connection,
        *,
        pages: int = -1,
        progress: Callable[[int, int, int], object] | None = None,
        name: str = "main",
        sleep: float = 0.250,
    ) -> None:
        """Copy database ``name`` into ``target``'s main database, ``pages``
        pages per step (-1 or 0: all at once). ``sleep`` is accepted for
        sqlite3's callers; a busy step waits up to the connection's timeout."""
        if not isinstance(target, Connection):
            raise TypeError("target must be an aiolibsql.dbapi Connection")
        if progress is not None:
            raise NotSupportedError("backup progress callbacks are not supported")
        self._check_open()
        target._check_open()
        if target is self:
            raise ValueError("target cannot be the same connection instance")
        self._native.backup(None, target._native, name, pages)

    def rekey(self, key: str | bytes | None) -> None:
        """Change the encryption key of the database (same cipher); None
        decrypts it for good. Other connections must reopen with the new key."""
        if key is not None and (not isinstance(key, (str, bytes)) or len(key) == 0):
            raise ValueError("the new key must be a non-empty str or bytes, or None to remove encryption")
        self._check_open()
        self._native.rekey(None, key)

    def interrupt(self) -> None:
        """Make the statement running now (in another thread) fail with
        OperationalError('interrupted'). Safe from any thread."""
        self._check_open()
        self._native.interrupt()

    def _not_supported(self, feature: str) -> NoReturn:
        raise NotSupportedError(f"{feature} is not supported by aiolibsql")

    def create_aggregate(self, name: str, n_arg: int, aggregate_class: object) -> NoReturn:
        self._not_supported("create_aggregate")

    def create_window_function(self, name: str, num_params: int, aggregate_class: object) -> NoReturn:
        self._not_supported("create_window_function")

    def create_collation(self, name: str, callable: object) -> NoReturn:  # noqa: A002 - sqlite3's name
        self._not_supported("create_collation")

    def set_authorizer(self, authorizer_callback: object) -> NoReturn:
        self._not_supported("set_authorizer")

    def set_progress_handler(self, progress_handler: object, n: int) -> NoReturn:
        self._not_supported("set_progress_handler")

    def set_trace_callback(self, trace_callback: object) -> NoReturn:
        self._not_supported("set_trace_callback")

    def enable_load_extension(self, enabled: bool) -> NoReturn:
        self._not_supported("enable_load_extension")

    def iterdump(self) -> NoReturn:
        self._not_supported("iterdump")

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Commit if the block succeeded, roll back if it raised; the
        connection stays open (as in sqlite3)."""
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.rollback()
                raise
        else:
            self.rollback()

    def __repr__(self) -> str:
        state = "closed" if self._native.closed else "open"
        return f"<aiolibsql.dbapi.Connection {state}>"


# -- Cursor -----------------------------------------------------------------


class Cursor:
    """Runs statements on its connection and fetches their rows.

    Results stream: the first rows arrive with the execution, and later
    chunks are fetched as they are read, so memory stays bounded however many
    rows a result has."""

    def __init__(self, connection: Connection) -> None:
        if not isinstance(connection, Connection):
            raise TypeError("connection must be an aiolibsql.dbapi Connection")
        self._connection = connection
        self._rows: _native.ResultRows | None = None
        self._description: tuple[tuple[Any, ...], ...] | None = None
        self._description_pending = False
        self._closed = False
        #: Rows ``fetchmany`` returns by default.
        self.arraysize = 1
        #: Rows changed by the last INSERT/UPDATE/DELETE/REPLACE (summed over
        #: executemany); -1 for other statements.
        self.rowcount = -1
        #: Row id of the last inserted row after execute; None on a new cursor.
        self.lastrowid: int | None = None
        #: Called as ``row_factory(cursor, row_tuple)`` for each row when set.
        self.row_factory: RowFactory | None = connection.row_factory

    @property
    def connection(self) -> Connection:
        """The connection this cursor runs on."""
        return self._connection

    @property
    def description(self) -> tuple[tuple[Any, ...], ...] | None:
        """A 7-tuple ``(name, None, None, None, None, None, None)`` per result
        column of the last statement, or None if it returned no columns."""
        if self._description_pending:
            # Built on first use: most callers never look at it.
            self._description_pending = False
            rows = self._rows
            self._description = None if rows is None else rows.description
        return self._description

    def _check_open(self) -> None:
        if self._closed:
            raise ProgrammingError(_CLOSED_CURSOR)
        self._connection._check_open()

    def _check_readable(self) -> None:
        # As in sqlite3, rows already fetched from the engine are not handed
        # out once the connection is closed.
        if self._closed or self._connection._native.closed:
            self._check_open()

    def _forget_result(self) -> None:
        self._rows = None
        self._description = None
        self._description_pending = False

    # -- running statements -------------------------------------------------

    def execute(self, sql: str, parameters: Parameters = ()) -> Cursor:
        """Run one statement with ``?`` parameters from a sequence or
        ``:name``/``@name``/``$name`` parameters from a mapping; returns the cursor."""
        self._check_open()
        self._forget_result()
        connection = self._connection
        native = connection._native
        if connection._begin_statement is not None:
            connection._begin_if_needed(sql)
        try:
            rows = native.execute(None, sql, parameters)
        except ProgrammingError:
            # Values the engine does not bind (dates, times) fail before
            # anything runs, so running again with them as text is safe.
            adapted = _adapted(parameters)
            if adapted is None:
                raise
            rows = native.execute(None, sql, adapted)
        self._rows = rows
        self._description_pending = True
        self.rowcount = rows.rowcount
        self.lastrowid = rows.lastrowid
        return self

    def executemany(self, sql: str, seq_of_parameters: Iterable[Parameters]) -> Cursor:
        """Run one DML statement once per parameter set. Any iterable works,
        generators included; it is consumed in batches, never held whole."""
        self._check_open()
        self._forget_result()
        if isinstance(seq_of_parameters, (str, bytes)):
            raise ProgrammingError("executemany() needs an iterable of parameter sets")
        try:
            iterator = iter(seq_of_parameters)
        except TypeError:
            raise ProgrammingError("executemany() needs an iterable of parameter sets") from None
        connection = self._connection
        self.rowcount = -1
        changed = 0
        ran = False
        for batch in parameter_chunks(iterator, connection.is_remote):
            if connection._begin_statement is not None:
                connection._begin_if_needed(sql)
            changed += self._executemany_batch(sql, batch)
            ran = True
        if not ran:
            # Even with no parameter sets the statement must be valid DML.
            changed = self._executemany_batch(sql, [])
        self.rowcount = changed
        return self

    def _executemany_batch(self, sql: str, batch: list[Parameters]) -> int:
        native = self._connection._native
        try:
            return native.executemany(None, sql, batch)
        except ProgrammingError:
            # A batch is converted whole before it runs: retrying is safe.
            adapted = [_adapted(parameters) for parameters in batch]
            if all(parameters is None for parameters in adapted):
                raise
            retry = [original if new is None else new for original, new in zip(batch, adapted, strict=True)]
            return native.executemany(None, sql, retry)

    def executescript(self, sql_script: str) -> Cursor:
        """Run ``;``-separated statements without parameters. Under legacy
        transaction control a pending transaction is committed first."""
        self._check_open()
        self._forget_result()
        self.rowcount = -1
        if not isinstance(sql_script, str):
            raise ProgrammingError(f"the script must be a str, not {type(sql_script).__name__}")
        connection = self._connection
        if connection._ends_transactions_itself:
            connection._end_transaction("COMMIT")
        connection._native.executescript(None, sql_script)
        return self

    # -- fetching -----------------------------------------------------------

    def _next_chunk(self) -> _native.ResultRows | None:
        """The next chunk of rows from the engine, if any remain."""
        current = self._rows
        if current is None or not current.has_more:
            return None
        self._connection._check_open()
        if self._description_pending:
            self._description_pending = False
            self._description = current.description
        rows = _native.fetch_more(None, current)
        self._rows = rows
        if rows.rowcount != -1:
            self.rowcount = rows.rowcount
        return rows

    def fetchone(self) -> Any:
        """The next row, or None when no rows are left."""
        self._check_readable()
        rows = self._rows
        if rows is None:
            return None
        row = rows.fetchone()
        while row is None and rows is not None and rows.has_more:
            rows = self._next_chunk()
            row = None if rows is None else rows.fetchone()
        if row is None or self.row_factory is None:
            return row
        return self.row_factory(self, row)

    def fetchmany(self, size: int | None = None) -> list[Any]:
        """Up to ``size`` rows (default ``arraysize``); a negative size means
        every remaining row, as in sqlite3."""
        self._check_readable()
        wanted = self.arraysize if size is None else size
        if not isinstance(wanted, int) or isinstance(wanted, bool):
            raise TypeError("fetchmany() size must be an int")
        if wanted < 0:
            return self.fetchall()
        rows = self._rows
        result: list[Any] = []
        while rows is not None and len(result) < wanted:
            result.extend(rows.fetchmany(wanted - len(result)))
            if len(result) < wanted:
                rows = self._next_chunk()
        return shape_rows(self, self.row_factory, result)

    def fetchall(self) -> list[Any]:
        """Every remaining row."""
        self._check_readable()
        rows = self._rows
        result: list[Any] = []
        while rows is not None:
            result.extend(rows.fetchall())
            rows = self._next_chunk()
        return shape_rows(self, self.row_factory, result)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    def close(self) -> None:
        """Close the cursor; the rest of its result is released. Using it
        afterwards raises ProgrammingError."""
        self._closed = True
        self._rows = None

    def setinputsizes(self, sizes: object) -> None:
        """PEP 249: a no-op here, as in sqlite3."""

    def setoutputsize(self, size: object, column: object = None) -> None:
        """PEP 249: a no-op here, as in sqlite3."""


def connect(
    database: DatabasePath,
    timeout: float = 5.0,
    isolation_level: str | None = "DEFERRED",
    sync_url: str | None = None,
    sync_interval: float | None = None,
    offline: bool = False,
    auth_token: str | None = None,
    encryption_key: str | bytes | None = None,
    autocommit: int | bool = LEGACY_TRANSACTION_CONTROL,
    *,
    uri: bool = False,
    cached_statements: int = 128,
    inline_reads: bool | None = None,
    cipher: str = DEFAULT_CIPHER,
    detect_types: int = 0,
    check_same_thread: bool = True,
    factory: type[Connection] = Connection,
    sync_protocol: str = "auto",
) -> Connection:
    """Open a connection to a local file, ``:memory:`` or a remote database
    (``libsql://``, ``https://``, ``http://``), blocking until it is open.

    The parameters are those of ``aiolibsql.connect``, checked the same way:
    ``encryption_key`` and ``cipher`` open an encrypted database; ``sync_url``,
    ``sync_interval``, ``offline`` and ``sync_protocol`` make an embedded
    replica; bad values raise ValueError or TypeError. ``detect_types``, ``check_same_thread`` and
    ``factory`` are sqlite3's: ``detect_types`` other than 0 raises
    NotSupportedError, ``check_same_thread`` is accepted and not enforced
    (threads may share a connection), and ``factory`` is a Connection subclass
    to instantiate. ``inline_reads`` has no effect on blocking calls.

    Differences from sqlite3: no adapters or converters (dates and times are
    stored as ISO 8601 text, as sqlite3's default adapters store them), no
    ``text_factory`` but str, ``create_function(name, narg, None)`` raises
    NotSupportedError, ``backup`` has no ``progress``, and the engine enforces
    foreign keys and refuses double-quoted string literals.
    """
    if not (isinstance(factory, type) and issubclass(factory, Connection)):
        raise TypeError("factory must be a subclass of aiolibsql.dbapi.Connection")
    return factory(
        database,
        timeout,
        isolation_level,
        sync_url,
        sync_interval,
        offline,
        auth_token,
        encryption_key,
        autocommit,
        uri=uri,
        cached_statements=cached_statements,
        inline_reads=inline_reads,
        cipher=cipher,
        detect_types=detect_types,
        check_same_thread=check_same_thread,
        sync_protocol=sync_protocol,
    )
