"""aiolibsql: a fast asyncio driver for libSQL and SQLite, on libSQL's own engine.

Every database call is a coroutine. The engine runs on native threads that
never hold the GIL, and results come back to the event loop that awaited them.

    async with aiolibsql.connect("app.db") as conn:
        cursor = await conn.execute("SELECT 1")
        print(await cursor.fetchone())
"""

from __future__ import annotations

import atexit
import sysconfig

# The binding relies on the GIL to guard its state; on a free-threaded build
# it would run unguarded, so it refuses to load there.
if sysconfig.get_config_var("Py_GIL_DISABLED"):
    raise ImportError(
        "aiolibsql does not support free-threaded Python builds (such as 3.13t): use the standard build of CPython"
    )

from . import _native
from ._replica import SyncResult
from .connection import LEGACY_TRANSACTION_CONTROL, Connection, connect
from .cursor import Cursor
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
from .pool import ConnectionPool, PoolCursor, Snapshot, Transaction, create_pool
from .row import Row

__all__ = [
    "LEGACY_TRANSACTION_CONTROL",
    "VERSION",
    "Connection",
    "ConnectionPool",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "PoolCursor",
    "ProgrammingError",
    "Row",
    "Snapshot",
    "SyncResult",
    "Transaction",
    "Warning",
    "__version__",
    "apilevel",
    "connect",
    "create_pool",
    "libsql_version",
    "paramstyle",
    "sqlite_version",
    "sqlite_version_info",
    "threadsafety",
]

__version__ = "0.4.0"
#: The package version (the seed's name for ``__version__``).
VERSION = __version__
#: PEP 249: this module follows DB-API 2.0.
apilevel = "2.0"
#: PEP 249: threads may share the module and connections (each await
#: completes on the event loop that awaited it).
threadsafety = 2
#: PEP 249: ``?`` placeholders; ``:name``, ``@name`` and ``$name`` also work.
paramstyle = "qmark"
#: Version of the SQLite engine libSQL is built on, read from the linked engine.
sqlite_version: str = _native.sqlite_version
#: ``sqlite_version`` as a tuple of ints.
sqlite_version_info: tuple[int, int, int] = tuple(int(part) for part in sqlite_version.split("."))  # type: ignore[assignment]
#: Version of libSQL itself.
libsql_version: str = _native.libsql_version

_native.register_exception_classes(
    {
        cls.__name__: cls
        for cls in (
            InterfaceError,
            DatabaseError,
            DataError,
            OperationalError,
            IntegrityError,
            InternalError,
            ProgrammingError,
            NotSupportedError,
        )
    }
)
# Connections left open at exit are closed, so no worker thread outlives the interpreter.
atexit.register(_native.close_everything_still_open)
