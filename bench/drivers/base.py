"""The uniform async interface every adapter exposes, and the two shapes that build it.

An adapter module (one per driver, in this package) defines ``DRIVER = ...``
with one of the two factories below, so adapters stay a few lines long:

* :func:`sync_driver` wraps a synchronous DB-API-style module (``sqlite3``,
  ``apsw``, ``libsql``); each operation runs either directly on the event-loop
  thread (blocking it, as a naive caller would) or in ``asyncio.to_thread``.
* :func:`async_driver` wraps an asyncio driver with the aiosqlite-style API
  (``await connect(path)``, ``cur = await conn.execute(sql, params)``,
  ``await cur.fetchone()``, ...), optionally with ``await create_pool(path, size=N)``.

Every connection is opened so that a single statement commits by itself
(autocommit); ``executemany`` wraps its rows in explicit ``BEGIN``/``COMMIT``.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

Row = Sequence[Any]
Params = Sequence[Any]


class DriverUnavailable(Exception):
    """The driver cannot be benchmarked here; the message says why."""


class Conn(Protocol):
    """A connection (or a pool) as the workloads see it."""

    async def execute(self, sql: str, params: Params = ()) -> None:
        """Run one statement and discard any result (inserts, DDL, pragmas)."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """``execute`` then ``fetchone``."""

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """``execute`` then ``fetchall``."""

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """All rows in one transaction, committed on return."""

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Driver:
    name: str
    version: str
    how: str  # how the harness calls it, for the report
    module_file: str
    connect: Callable[[str], Awaitable[Conn]]
    create_pool: Callable[[str, int], Awaitable[Conn]] | None = None


def dist_version(dist: str, module: ModuleType) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", getattr(module, "VERSION", "unknown")))


def require_origin(module: ModuleType, root: str) -> str:
    """Fail unless ``module`` comes from below ``root`` (two drivers share a name)."""
    origin = getattr(module, "__file__", None)
    if origin is None:
        where = ", ".join(getattr(module, "__path__", [])) or "?"
        raise DriverUnavailable(f"{module.__name__} at {where} is an empty namespace package (not built?)")
    if not Path(origin).resolve().is_relative_to(Path(root).resolve()):
        raise DriverUnavailable(f"{module.__name__} imported from {origin}, expected below {root}")
    return origin


def require_attrs(module: ModuleType, *names: str) -> None:
    missing = [n for n in names if not hasattr(module, n)]
    if missing:
        raise DriverUnavailable(f"{module.__name__} ({module.__file__}) lacks {', '.join(missing)}")


class SyncConn:
    """A synchronous connection; ``offload`` runs each call in ``asyncio.to_thread``."""

    def __init__(self, raw: Any, offload: bool) -> None:
        self.raw = raw
        self.offload = offload

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.offload:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    def _executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self.raw.execute("BEGIN")
        self.raw.executemany(sql, rows)
        self.raw.execute("COMMIT")

    async def execute(self, sql: str, params: Params = ()) -> None:
        await self._run(self.raw.execute, sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self._run(lambda: self.raw.execute(sql, params).fetchone())

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self._run(lambda: self.raw.execute(sql, params).fetchall())

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._run(self._executemany, sql, rows)

    async def close(self) -> None:
        await self._run(self.raw.close)


def sync_driver(
    module: ModuleType,
    name: str,
    version: str,
    open_: Callable[[str], Any],
    offload: bool,
) -> Driver:
    async def connect(path: str) -> Conn:
        raw = await asyncio.to_thread(open_, path) if offload else open_(path)
        return SyncConn(raw, offload)

    how = "synchronous, through asyncio.to_thread" if offload else "synchronous, blocking the event loop"
    return Driver(name, version, how, str(module.__file__), connect)


class AsyncConn:
    """An aiosqlite-style connection or pool: ``await execute`` returns a cursor."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    async def execute(self, sql: str, params: Params = ()) -> None:
        await self.raw.execute(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        cur = await self.raw.execute(sql, params)
        return await cur.fetchone()  # type: ignore[no-any-return]

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        cur = await self.raw.execute(sql, params)
        return await cur.fetchall()  # type: ignore[no-any-return]

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self.raw.execute("BEGIN")
        await self.raw.executemany(sql, rows)
        await self.raw.execute("COMMIT")

    async def close(self) -> None:
        await self.raw.close()


def async_driver(
    module: ModuleType,
    name: str,
    version: str,
    how: str,
    connect_kwargs: dict[str, Any],
    pool: bool,
) -> Driver:
    async def connect(path: str) -> Conn:
        return AsyncConn(await module.connect(path, **connect_kwargs))

    async def create_pool(path: str, size: int) -> Conn:
        return AsyncConn(await module.create_pool(path, size=size))

    has_pool = pool and hasattr(module, "create_pool")
    return Driver(
        name,
        version,
        how,
        str(module.__file__),
        connect,
        create_pool if has_pool else None,
    )
