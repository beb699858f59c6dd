"""The remote clients the remote benchmark compares, each behind the same
small interface. Each runs in the environment of its own package (see
bench/remote.py), so only the standard library is imported here at the top."""

from __future__ import annotations

import asyncio
from typing import Any


class Ours:
    label = "aiolibsql (ours)"

    def __init__(self, url: str) -> None:
        import aiolibsql

        self.driver = aiolibsql
        self.url = url

    async def connect(self) -> Any:
        # A generous request timeout: under 100 tasks a server queues requests.
        return await self.driver.connect(self.url, autocommit=True, timeout=120)

    async def select(self, conn: Any, key: int) -> Any:
        return await conn.execute_fetchall("SELECT v FROM kv WHERE k = ?", (key,))

    async def insert(self, conn: Any, key: int) -> None:
        await conn.execute("INSERT INTO log (k) VALUES (?)", (key,))

    async def executemany(self, conn: Any, rows: list[tuple[int]]) -> None:
        await conn.executemany("INSERT INTO log (k) VALUES (?)", rows)

    async def transaction(self, conn: Any, start: int) -> None:
        await conn.execute("BEGIN")
        for key in range(start, start + 9):
            await conn.execute("INSERT INTO log (k) VALUES (?)", (key,))
        await conn.execute("COMMIT")

    async def close(self, conn: Any) -> None:
        await conn.close()


class Official:
    """The official ``libsql`` package; blocking, so each call goes through
    ``asyncio.to_thread``, as an asyncio application would use it."""

    label = "libsql (official, to_thread)"

    def __init__(self, url: str) -> None:
        import libsql

        self.driver = libsql
        self.url = url

    async def connect(self) -> Any:
        return await asyncio.to_thread(self.driver.connect, self.url, isolation_level=None)

    async def select(self, conn: Any, key: int) -> Any:
        return await asyncio.to_thread(lambda: conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchall())

    async def insert(self, conn: Any, key: int) -> None:
        await asyncio.to_thread(conn.execute, "INSERT INTO log (k) VALUES (?)", (key,))

    async def executemany(self, conn: Any, rows: list[tuple[int]]) -> None:
        await asyncio.to_thread(conn.executemany, "INSERT INTO log (k) VALUES (?)", rows)

    async def transaction(self, conn: Any, start: int) -> None:
        def run() -> None:
            conn.execute("BEGIN")
            for key in range(start, start + 9):
                conn.execute("INSERT INTO log (k) VALUES (?)", (key,))
            conn.execute("COMMIT")

        await asyncio.to_thread(run)

    async def close(self, conn: Any) -> None:
        await asyncio.to_thread(conn.close)


class Pypi030(Ours):
    """``aiolibsql`` 0.3.0 from the package index (Rust/PyO3, the libsql crate):
    the API ours keeps, in an environment of its own."""

    label = "aiolibsql 0.3.0"

    async def connect(self) -> Any:
        return await self.driver.connect(self.url, auth_token="", isolation_level=None)

    async def select(self, conn: Any, key: int) -> Any:
        cursor = await conn.execute("SELECT v FROM kv WHERE k = ?", (key,))
        return await cursor.fetchall()


class LibsqlClient:
    """``libsql-client``, the older asyncio client: over http:// it speaks
    sqld's stream-less v1 API, which has no interactive transactions."""

    label = "libsql-client"

    def __init__(self, url: str) -> None:
        import libsql_client

        self.driver = libsql_client
        self.url = url

    async def connect(self) -> Any:
        return self.driver.create_client(self.url)

    async def select(self, conn: Any, key: int) -> Any:
        return (await conn.execute("SELECT v FROM kv WHERE k = ?", [key])).rows

    async def insert(self, conn: Any, key: int) -> None:
        await conn.execute("INSERT INTO log (k) VALUES (?)", [key])

    async def executemany(self, conn: Any, rows: list[tuple[int]]) -> None:
        await conn.batch([("INSERT INTO log (k) VALUES (?)", list(row)) for row in rows])

    async def transaction(self, conn: Any, start: int) -> None:
        raise NotImplementedError("its HTTP client has no interactive transactions (WebSocket only)")

    async def close(self, conn: Any) -> None:
        await conn.close()


CLIENTS: dict[str, type[Any]] = {
    "ours": Ours,
    "official": Official,
    "aiolibsql-0.3.0": Pypi030,
    "libsql-client": LibsqlClient,
}
