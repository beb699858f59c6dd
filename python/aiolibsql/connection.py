"""``connect`` and ``Connection``: an asynchronous libSQL connection."""

from __future__ import annotations

import asyncio
import math
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from . import _native
from ._chunks import parameter_chunks
from ._opening import Opening
from ._replica import SyncResult, open_replica, replica_settings
from ._runner import Runner, inline_reads_default
from .cursor import Cursor, Parameters
from .exceptions import NotSupportedError, ProgrammingError

__all__ = ["LEGACY_TRANSACTION_CONTROL", "Connection", "connect"]

#: ``autocommit`` value for transaction control by ``isolation_level`` (the default).
LEGACY_TRANSACTION_CONTROL = -1

_ISOLATION_LEVELS = ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE")
_REMOTE_SCHEMES = (b"libsql://", b"http://", b"https://", b"ws://", b"wss://")
#: What connect() and the blocking module take as a database: a path or a ``file:`` URI.
DatabasePath = str | bytes | os.PathLike[str] | os.PathLike[bytes]


class Connection(_native.ConnectionBase):
    """An open connection. Every database call is a coroutine; the work runs
    on a native thread of the connection's own, in the order it was submitted,
    and completes on the event loop that awaited it. ``execute`` is native
    (``ConnectionBase``): a short read on an idle connection costs no Python
    frame."""

    def __init__(
        self,
        native: _native.NativeConnection,
        isolation_level: str | None,
        autocommit: int,
    ) -> None:
        super().__init__(native, Runner(native, "Cannot operate on a closed database."), Cursor)
        self._isolation_level = isolation_level
        self._autocommit = autocommit
        self._closing: Awaitable[None] | None = None

    if TYPE_CHECKING:

        async def execute(self, sql: str, parameters: Parameters = ()) -> Cursor:
            """Run one statement; returns a cursor holding its result."""

    def _check_open(self) -> None:
        self._runner.check_open()

    async def _executemany(self, sql: str, seq_of_parameters: Iterable[Parameters]) -> int:
        if isinstance(seq_of_parameters, (str, bytes)):
            raise ProgrammingError("executemany() needs an iterable of parameter sets")
        try:
            iterator = iter(seq_of_parameters)
        except TypeError:
            raise ProgrammingError("executemany() needs an iterable of parameter sets") from None
        changed = 0
        for batch in parameter_chunks(iterator, self.is_remote):
            changed += await self._runner.submit(self._native.executemany, sql, batch)
        if changed == 0:
            # Even with no parameter sets the statement must be valid DML.
            changed = await self._runner.submit(self._native.executemany, sql, [])
        return changed

    # -- DB-API -------------------------------------------------------------

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        self._check_open()
        return Cursor(self)

    async def _execute_queued(self, sql: str, parameters: Parameters) -> Cursor:
        """execute() of a statement that cannot run inline: queued on the
        connection's thread and awaited."""
        cursor = Cursor(self)
        rows = await self._runner.submit(self._native.execute, sql, parameters)
        cursor._take(rows)
        return cursor

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Parameters]) -> Cursor:
        """Run one DML statement once per parameter set (any iterable)."""
        return await Cursor(self).executemany(sql, seq_of_parameters)

    async def executescript(self, sql_script: str) -> Cursor:
        """Run several semicolon-separated statements."""
        return await Cursor(self).executescript(sql_script)

    async def execute_fetchall(self, sql: str, parameters: Parameters = ()) -> list[Any]:
        """Run one statement and return all its rows. Rows that arrived with
        the statement are returned even if the connection closes meanwhile."""
        cursor = await self.execute(sql, parameters)
        return await cursor._fetch_remaining()

    async def commit(self) -> None:
        """Commit the current transaction (no-op with autocommit=True)."""
        await self._runner.submit(self._native.commit)

    async def rollback(self) -> None:
        """Roll back the current transaction (no-op with autocommit=True)."""
        await self._runner.submit(self._native.rollback)

    async def close(self) -> None:
        """Close the connection. An uncommitted transaction is rolled back;
        operations still queued fail with ProgrammingError. Closing twice is fine."""
        closing = self._closing
        if closing is None:
            if self._native.closed:
                return
            closing = self._closing = self._native.close(self._runner.port())
        # Closing finishes even if the closing task is cancelled, and a
        # second close() returns only once the first has finished.
        await asyncio.shield(closing)

    async def sync(self) -> SyncResult:
        """Bring an embedded replica in step with its primary: offline, push the
        local writes first; then pull what the primary has that this replica
        lacks. Raises NotSupportedError for a connection that is not a replica."""
        rows = await self._runner.submit(self._native.sync)
        return SyncResult(*rows.fetchone())

    async def backup(self, target: Connection, *, pages: int = -1, name: str = "main") -> None:
        """Copy database ``name`` of this connection into ``target``, ``pages``
        pages per step (-1 or 0: all at once)."""
        if not isinstance(target, Connection):
            raise TypeError("target must be an aiolibsql Connection")
        target._check_open()
        await self._runner.submit(self._native.backup, target._native, name, pages)

    async def create_function(
        self, name: str, narg: int, func: Callable[..., Any] | None, *, deterministic: bool = False
    ) -> None:
        """Register a scalar SQL function implemented by ``func`` (which runs
        on the database thread, holding the GIL while it runs)."""
        if func is None:
            raise NotSupportedError("removing a function is not supported; register a new one instead")
        await self._runner.submit(self._native.create_function, name, narg, func, deterministic)

    async def rekey(self, key: str | bytes | None) -> None:
        """Change the encryption key of the database (with the same cipher);
        ``None`` decrypts it for good. Other connections must reopen with the new key."""
        if key is not None and not isinstance(key, (str, bytes)):
            raise TypeError("the new key must be str or bytes, or None to remove encryption")
        if key is not None and len(key) == 0:
            raise ValueError("the new key must not be empty; pass None to remove encryption")
        await self._runner.submit(self._native.rekey, key)

    def interrupt(self) -> None:
        """Make the statement running now fail with OperationalError('interrupted')."""
        self._native.interrupt()

    @property
    def isolation_level(self) -> str | None:
        """The BEGIN flavour of implicit transactions (legacy control); None means autocommit."""
        return self._isolation_level

    @property
    def is_replica(self) -> bool:
        """Whether this is an embedded replica (connected with ``sync_url``)."""
        return self._native.is_replica

    @property
    def is_remote(self) -> bool:
        """Whether this is a remote database (libsql://, https://, http://)."""
        return self._native.is_remote

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open."""
        return self._native.in_transaction

    @property
    def total_changes(self) -> int:
        """Rows changed since the connection opened."""
        return self._native.total_changes

    @property
    def autocommit(self) -> int | bool:
        """True, False, or LEGACY_TRANSACTION_CONTROL, with Python 3.12
        sqlite3's meaning. Setting True commits a pending transaction; setting
        False opens one. The change runs in order with queued operations; if
        it fails, the next operation raises the error."""
        return {1: True, 0: False}.get(self._autocommit, LEGACY_TRANSACTION_CONTROL)

    @autocommit.setter
    def autocommit(self, value: int | bool) -> None:
        mode = _autocommit_mode(value)
        self._check_open()
        self._runner.pending_setting = self._native.set_autocommit(self._runner.port(), mode)
        self._autocommit = mode

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        """Commit if the block succeeded, roll back if it raised, then close."""
        try:
            if not self._native.closed:
                if exc_type is None:
                    await self.commit()
                else:
                    await self.rollback()
        finally:
            await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._native.closed else "open"
        return f"<aiolibsql.Connection {state}>"


#: libSQL's own encryption scheme, used unless ``cipher=`` names another.
DEFAULT_CIPHER = "aes256cbc"
#: The SQLite3 Multiple Ciphers schemes this build includes.
CIPHERS = ("aes128cbc", "aes256cbc", "chacha20", "sqlcipher", "rc4", "ascon128")


def _check_encryption(encryption_key: str | bytes | None, cipher: str) -> None:
    if encryption_key is not None and not isinstance(encryption_key, (str, bytes)):
        raise TypeError("encryption_key must be str or bytes")
    if encryption_key is not None and len(encryption_key) == 0:
        raise ValueError("encryption_key must not be empty; pass None for an unencrypted database")
    if cipher not in CIPHERS:
        raise NotSupportedError(f"unknown cipher {cipher!r}; this build has {', '.join(CIPHERS)}")
    if encryption_key is None and cipher != DEFAULT_CIPHER:
        raise ValueError("cipher= needs an encryption_key: without one the database is not encrypted")


def _check_timeout(timeout: object) -> None:
    # Infinity is refused rather than read as "wait forever": the engine's
    # wait is bounded, and a silent cap would be a surprise.
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 <= timeout < math.inf:
        raise ValueError("timeout must be a finite number of seconds, zero or more")
    if timeout > sys.float_info.max:
        raise ValueError("timeout must be a finite number of seconds, zero or more: this int is too large")


def _autocommit_mode(value: int | bool) -> int:
    # Only ints: 1.0 == 1, but a float here is a mistake, not a mode.
    if isinstance(value, int) and value in (True, False, LEGACY_TRANSACTION_CONTROL):
        return int(value)
    raise ValueError("autocommit must be True, False or LEGACY_TRANSACTION_CONTROL")


# The statement cache's size is an int in the engine, as in sqlite3.
_MAX_CACHED_STATEMENTS = 2**31 - 1


def _database_path(database: object) -> bytes:
    """The path as the engine takes it: bytes, so that a bytes path which is
    not UTF-8 opens as it does with sqlite3."""
    try:
        path = os.fsencode(database)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError("database must be a str, bytes or os.PathLike path") from None
    if b"\0" in path:
        raise ValueError("the database path contains a null character")
    return path


def _check_open_options(uri: object, cached_statements: object) -> None:
    if not isinstance(uri, bool):
        raise TypeError(f"uri must be True or False, not {uri!r}")
    if (
        isinstance(cached_statements, bool)
        or not isinstance(cached_statements, int)
        or not 0 <= cached_statements <= _MAX_CACHED_STATEMENTS
    ):
        raise ValueError(f"cached_statements must be an int from 0 to {_MAX_CACHED_STATEMENTS}")


def _isolation_level(isolation_level: object) -> str | None:
    if isolation_level is None:
        return None
    if not isinstance(isolation_level, str) or isolation_level.upper() not in _ISOLATION_LEVELS:
        raise ValueError("isolation_level must be None, '', 'DEFERRED', 'IMMEDIATE' or 'EXCLUSIVE'")
    return isolation_level.upper()


def _remote_url_text(url: bytes) -> str:
    try:
        return url.decode()
    except UnicodeDecodeError:
        raise ValueError("a remote database URL must be valid UTF-8") from None


def _connect_remote(
    url: bytes,
    auth_token: str | None,
    timeout: float,
    isolation_level: str | None,
    mode: int,
    encryption_key: str | bytes | None,
) -> Opening[Connection]:
    if auth_token is not None and not isinstance(auth_token, str):
        raise TypeError("auth_token must be a str")
    if encryption_key is not None:
        raise NotSupportedError("encryption_key is for local files: a remote database is encrypted by its server")
    native = _native.NativeConnection.remote(_remote_url_text(url), auth_token, float(timeout), isolation_level, mode)

    async def open_connection() -> Connection:
        connection = Connection(native, isolation_level, mode)
        await native.open(connection._runner.port())
        return connection

    return Opening(open_connection)


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
    sync_protocol: str = "auto",
) -> Opening[Connection]:
    """Open a connection to a local file or ``:memory:``.

    ``timeout`` is how long to wait for a locked database before raising
    OperationalError. ``isolation_level`` and ``autocommit`` control
    transactions as Python 3.12's sqlite3 does. ``uri=True`` reads
    ``database`` as a ``file:`` URI. ``cached_statements`` sizes the
    prepared-statement cache. ``inline_reads`` (default on, or the
    ``AIOLIBSQL_INLINE_READS`` environment variable) lets short read-only
    statements run on the event loop's thread when the connection is idle, so
    an async read costs what a blocking one does. ``encryption_key`` (str
    or bytes) opens or creates an encrypted database in libSQL's own format
    (SQLite3 Multiple Ciphers, ``cipher="aes256cbc"``); ``cipher`` picks
    another scheme, such as ``"sqlcipher"`` for SQLCipher 4 files.

    A ``libsql://``, ``https://`` or ``http://`` URL opens a remote database
    over Hrana (libsql:// means https:// unless the URL ends in ``?tls=0``),
    with ``auth_token`` sent as a Bearer token (or the URL's ``authToken``).
    There ``timeout`` bounds connecting and each request, in seconds (0: no
    bound).

    With ``sync_url``, ``database`` is an embedded replica of that remote
    database: a local file read at local speed and brought in step by
    ``await conn.sync()``. By default writes go to the primary and the next
    read sees them; with ``offline=True`` they go to the local file and
    ``sync()`` pushes them. ``sync_interval`` (seconds) syncs in the
    background as well, from the moment the replica opens; a background sync
    that fails is tried again later and reported by the next ``sync()``.
    ``sync_protocol`` is ``"auto"`` (ask the primary, as libSQL's client
    does), ``"v2"`` (libSQL's HTTP sync protocol, what Turso serves) or
    ``"v1"`` (sqld's replication log, what a self-hosted sqld serves; it has
    no offline mode).
    """
    path = _database_path(database)
    _check_encryption(encryption_key, cipher)
    _check_timeout(timeout)
    isolation_level = _isolation_level(isolation_level)
    mode = _autocommit_mode(autocommit)
    _check_open_options(uri, cached_statements)
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
        settings = replica  # narrowed, for the closure

        async def open_replica_connection() -> Connection:
            native = open_replica(
                path,
                settings,
                timeout,
                isolation_level,
                mode,
                cached_statements,
                inline_reads_default() if inline_reads is None else bool(inline_reads),
            )
            connection = Connection(native, isolation_level, mode)
            await native.open(connection._runner.port())
            return connection

        return Opening(open_replica_connection)
    if path.startswith(_REMOTE_SCHEMES):
        return _connect_remote(path, auth_token, timeout, isolation_level, mode, encryption_key)

    async def open_connection() -> Connection:
        native = _native.NativeConnection.local(
            inline_reads_default() if inline_reads is None else bool(inline_reads),
            path,
            uri,
            float(timeout),
            isolation_level,
            mode,
            cached_statements,
            encryption_key,
            cipher,
        )
        connection = Connection(native, isolation_level, mode)
        await native.open(connection._runner.port())
        return connection

    return Opening(open_connection)
