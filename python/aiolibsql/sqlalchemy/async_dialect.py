"""The asyncio dialect: ``create_async_engine("sqlite+aiolibsql://...")``.

SQLAlchemy runs a dialect's blocking code in a greenlet; each driver call
below hands a coroutine of the asyncio API to SQLAlchemy's ``await_``, which
switches to the event loop to await it and back with the result. This is
SQLAlchemy's own adaptation (``sqlalchemy.connectors.asyncio``), as its
aiosqlite dialect uses it: no nested event loop, no thread per call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import pool
from sqlalchemy.connectors.asyncio import (
    AsyncAdapt_dbapi_connection,
    AsyncAdapt_dbapi_cursor,
    AsyncAdapt_dbapi_module,
    AsyncAdapt_dbapi_ss_cursor,
)
from sqlalchemy.dialects.sqlite.base import SQLiteExecutionContext

import aiolibsql
from aiolibsql import dbapi

from .dialect import AiolibsqlDialect

try:  # SQLAlchemy 2.1 renamed await_only to await_
    from sqlalchemy.util.concurrency import await_
except ImportError:  # pragma: no cover - SQLAlchemy 2.0
    from sqlalchemy.util import await_only as await_

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
    from sqlalchemy.engine.url import URL

__all__ = ["AiolibsqlAsyncDialect"]


class AsyncAdapt_aiolibsql_cursor(AsyncAdapt_dbapi_cursor):
    """A buffered cursor: execute() awaits the statement and all its rows."""

    __slots__ = ()

    def _aenter_cursor(self, cursor: Any) -> Any:
        # aiolibsql's Cursor.__aenter__ only returns the cursor: skip the
        # trip to the event loop SQLAlchemy would make for it.
        return cursor


class AsyncAdapt_aiolibsql_ss_cursor(AsyncAdapt_dbapi_ss_cursor):
    """A server-side cursor (``stream_results``): rows are awaited as they are
    fetched, so a large result never sits in memory whole."""

    __slots__ = ()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor


class AsyncAdapt_aiolibsql_connection(AsyncAdapt_dbapi_connection):
    """A PEP 249 connection over an ``aiolibsql.Connection``."""

    __slots__ = ()

    @property
    def is_remote(self) -> bool:
        return bool(self._connection.is_remote)

    _cursor_cls = AsyncAdapt_aiolibsql_cursor
    _ss_cursor_cls = AsyncAdapt_aiolibsql_ss_cursor
    _connection: aiolibsql.Connection

    def _await(self, awaitable: Awaitable[Any]) -> Any:
        try:
            return await_(awaitable)
        except Exception as error:
            self._handle_exception(error)

    @property
    def autocommit(self) -> int | bool:
        return self._connection.autocommit

    @autocommit.setter
    def autocommit(self, value: int | bool) -> None:
        # The asyncio API queues the switch behind earlier operations; the
        # next operation waits for it and raises its error, if any.
        self._connection.autocommit = value

    @property
    def isolation_level(self) -> str | None:
        return self._connection.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._connection.in_transaction

    @property
    def total_changes(self) -> int:
        return self._connection.total_changes

    def create_function(
        self, name: str, narg: int, func: Callable[..., Any] | None, *, deterministic: bool = False
    ) -> None:
        self._await(self._connection.create_function(name, narg, func, deterministic=deterministic))

    def interrupt(self) -> None:
        self._connection.interrupt()

    def close(self) -> None:
        self._await(self._connection.close())


class AsyncAdapt_aiolibsql_dbapi(AsyncAdapt_dbapi_module):
    """The DB-API module SQLAlchemy sees: aiolibsql.dbapi's names, and a
    connect() that awaits ``aiolibsql.connect``."""

    def __init__(self, driver: ModuleType, dbapi_module: ModuleType) -> None:
        # Set by hand: AsyncAdapt_dbapi_module has no such __init__ before 2.1.
        self.driver = driver
        self.dbapi_module = dbapi_module
        self.aiolibsql = driver
        # The exceptions, constants, type objects and constructors.
        for name in set(dbapi.__all__) - {"Connection", "Cursor", "connect"}:
            setattr(self, name, getattr(dbapi_module, name))

    def connect(self, *args: Any, **kwargs: Any) -> AsyncAdapt_aiolibsql_connection:
        creator = kwargs.pop("async_creator_fn", None)
        # Accepted by the blocking module only; meaningless here.
        kwargs.pop("check_same_thread", None)

        async def open_connection() -> aiolibsql.Connection:
            if creator is not None:
                return cast(aiolibsql.Connection, await creator(*args, **kwargs))
            return await self.aiolibsql.connect(*args, **kwargs)

        return AsyncAdapt_aiolibsql_connection(self, await_(open_connection()))


class SQLiteExecutionContext_aiolibsql(SQLiteExecutionContext):
    def create_server_side_cursor(self) -> DBAPICursor:
        return cast("DBAPICursor", self._dbapi_connection.cursor(server_side=True))


class AiolibsqlAsyncDialect(AiolibsqlDialect):
    """SQLite through aiolibsql's asyncio API, for ``create_async_engine``."""

    driver = "aiolibsql"
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = True
    execution_ctx_cls = SQLiteExecutionContext_aiolibsql

    @classmethod
    def import_dbapi(cls) -> AsyncAdapt_aiolibsql_dbapi:  # type: ignore[override]
        return AsyncAdapt_aiolibsql_dbapi(aiolibsql, dbapi)

    @classmethod
    def get_async_dialect_cls(cls, url: URL) -> type[AiolibsqlDialect]:
        return cls

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        # As SQLAlchemy's aiosqlite dialect: one shared connection for a
        # :memory: database (each connection has its own), a queue for files.
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool

    def get_driver_connection(self, connection: DBAPIConnection) -> Any:
        return connection._connection


dialect = AiolibsqlAsyncDialect
