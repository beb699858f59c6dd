"""``sqlite+aiolibsql``: the blocking SQLAlchemy dialect, on ``aiolibsql.dbapi``.

It is SQLAlchemy's pysqlite dialect with aiolibsql underneath, and one
difference in how transactions start: the dialect, not the driver, emits
``BEGIN`` when SQLAlchemy begins a transaction. SQLite then sees the same
transaction SQLAlchemy does, so SAVEPOINT (``begin_nested()``), transactional
DDL and repeatable reads work without the event recipe SQLAlchemy's SQLite
documentation gives for sqlite3. ``isolation_level="AUTOCOMMIT"`` switches
the connection to the engine's autocommit, where no BEGIN is emitted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import exc, util
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import ConnectArgsType, DBAPIConnection, IsolationLevel
    from sqlalchemy.engine.url import URL

__all__ = ["AiolibsqlDialect"]

# URL query parameters passed on to connect(), and the type each is read as.
URL_CONNECT_ARGUMENTS: Mapping[str, type] = {
    "timeout": float,
    "isolation_level": str,
    "uri": bool,
    "cached_statements": int,
    "inline_reads": bool,
    # For a remote database (a URL with a host); authToken is the official
    # sqlalchemy-libsql dialect's spelling of the same.
    "auth_token": str,
    "authToken": str,
    # An embedded replica of the database at sync_url.
    "sync_url": str,
    "sync_interval": float,
    "offline": bool,
    "sync_protocol": str,
    "encryption_key": str,
}
_BEGIN_FLAVOURS = ("", "DEFERRED", "IMMEDIATE", "EXCLUSIVE")
_LEGACY_TRANSACTION_CONTROL = -1


class AiolibsqlDialect(SQLiteDialect_pysqlite):
    """SQLite through aiolibsql's blocking DB-API module."""

    driver = "aiolibsql"
    supports_statement_cache = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: What do_begin emits; set from the connect arguments (the URL's
        #: ``isolation_level`` names the flavour), None for no BEGIN at all.
        self._begin_statement: str | None = "BEGIN"
        #: The connections' ``autocommit`` mode outside AUTOCOMMIT isolation.
        self._driver_autocommit: int | bool = _LEGACY_TRANSACTION_CONTROL

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        from aiolibsql import dbapi

        return dbapi

    @classmethod
    def get_async_dialect_cls(cls, url: URL) -> type[AiolibsqlDialect]:
        """``create_async_engine`` with the same URL gets the asyncio dialect."""
        from .async_dialect import AiolibsqlAsyncDialect

        return AiolibsqlAsyncDialect

    def retrieve_dbapi_version(self, dbapi: Any) -> util.VersionInfo:
        import aiolibsql

        return util.parse_version_string(aiolibsql.__version__)

    def create_connect_args(self, url: URL) -> ConnectArgsType:
        """``[database], {connect arguments}`` from a URL: the path (absolute,
        or ``:memory:`` when empty) and the query parameters connect() takes.
        A URL with a host names a remote database, as the official
        sqlalchemy-libsql dialect spells it: ``sqlite+aiolibsql://host:port/``,
        over HTTPS with ``?secure=true``, the token in ``authToken``."""
        if url.username or url.password or (url.port and not url.host):
            raise exc.ArgumentError(
                f"Invalid SQLite URL: {url}\nValid forms: sqlite+aiolibsql:///relative/path.db, "
                "sqlite+aiolibsql:////absolute/path.db, sqlite+aiolibsql:// (in memory), "
                "sqlite+aiolibsql://host:port/?secure=true&authToken=... (remote)"
            )
        query = dict(url.query)
        remote = None
        if url.host:
            secure = str(query.pop("secure", "false")).lower()
            if secure not in ("true", "false", "1", "0"):
                raise exc.ArgumentError(f"URL query parameter secure={secure!r} must be true or false")
            scheme = "https" if secure in ("true", "1") else "http"
            port = f":{url.port}" if url.port else ""
            path = f"/{url.database}" if url.database else ""
            remote = f"{scheme}://{url.host}{port}{path}"
        arguments: dict[str, Any] = {}
        for key, type_ in URL_CONNECT_ARGUMENTS.items():
            if key not in query:
                continue
            # coerce_kw_type copies to a dest only what it converts: convert in place.
            arguments[key] = query.pop(key)
            try:
                util.coerce_kw_type(arguments, key, type_)
            except ValueError:
                raise exc.ArgumentError(
                    f"URL query parameter {key}={arguments[key]!r} is not a valid {type_.__name__}"
                ) from None
        if "authToken" in arguments:
            arguments.setdefault("auth_token", arguments.pop("authToken"))
        if remote is not None:
            if query:
                raise exc.ArgumentError(
                    f"URL query parameter(s) {', '.join(sorted(query))} are not accepted by aiolibsql"
                )
            return ([remote], arguments)
        filename = url.database or ":memory:"
        if arguments.get("uri"):
            # The rest of the query belongs to the SQLite URI itself (mode=ro, cache=shared...).
            if query:
                filename += "?" + "&".join(f"{key}={query[key]}" for key in sorted(query))
        else:
            if query:
                accepted = ", ".join(URL_CONNECT_ARGUMENTS)
                raise exc.ArgumentError(
                    f"URL query parameter(s) {', '.join(sorted(query))} are not accepted by aiolibsql "
                    f"(accepted: {accepted}; SQLite URI parameters need uri=true)"
                )
            if filename != ":memory:":
                filename = os.path.abspath(filename)
        return ([filename], arguments)

    def on_connect(self) -> Callable[[DBAPIConnection], None] | None:
        # SQLAlchemy registers Python functions (regexp, floor) on each new
        # connection; a remote database runs SQL on its server, which cannot
        # call them, so there the server's own functions serve.
        register_functions = super().on_connect()

        def prepare(dbapi_connection: DBAPIConnection) -> None:
            if register_functions is not None and not getattr(dbapi_connection, "is_remote", False):
                register_functions(dbapi_connection)

        return prepare

    def connect(self, *cargs: Any, **cparams: Any) -> DBAPIConnection:
        # The driver never opens a transaction itself: do_begin does, with
        # the flavour the URL or connect_args name as isolation_level.
        flavour = cparams.pop("isolation_level", "DEFERRED")
        if flavour is not None and (not isinstance(flavour, str) or flavour.upper() not in _BEGIN_FLAVOURS):
            raise exc.ArgumentError(
                f"isolation_level={flavour!r} in the URL or connect_args must be one of the BEGIN flavours "
                "'', DEFERRED, IMMEDIATE or EXCLUSIVE (for SQLAlchemy's own levels, such as AUTOCOMMIT, "
                "pass isolation_level to create_engine or execution_options)"
            )
        self._begin_statement = None if flavour is None else f"BEGIN {flavour.upper()}".rstrip()
        self._driver_autocommit = cparams.get("autocommit", _LEGACY_TRANSACTION_CONTROL)
        cparams["isolation_level"] = None
        return cast("DBAPIConnection", self.loaded_dbapi.connect(*cargs, **cparams))

    def do_begin(self, dbapi_connection: DBAPIConnection) -> None:
        # Nothing to do in AUTOCOMMIT, or when a transaction is already open:
        # autocommit=False keeps one open, and applications that copied the
        # sqlite3 recipe emit their own BEGIN from a "begin" event first.
        if self._begin_statement is None or dbapi_connection.autocommit is True or dbapi_connection.in_transaction:
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(self._begin_statement)
        finally:
            cursor.close()

    def set_isolation_level(self, dbapi_connection: DBAPIConnection, level: IsolationLevel) -> None:
        if level == "AUTOCOMMIT":
            dbapi_connection.autocommit = True
            return
        if dbapi_connection.autocommit != self._driver_autocommit:
            dbapi_connection.autocommit = self._driver_autocommit
        # SERIALIZABLE / READ UNCOMMITTED: SQLite's read_uncommitted pragma.
        SQLiteDialect.set_isolation_level(self, dbapi_connection, level)

    def detect_autocommit_setting(self, dbapi_conn: DBAPIConnection) -> bool:
        return dbapi_conn.autocommit is True


dialect = AiolibsqlDialect
