"""``python -m bench.remote``: remote databases over Hrana, ours against the
official ``libsql`` package (each call in ``asyncio.to_thread``, as an
asyncio application would use it), on the same servers in one run.

Servers: tursodb from npm for the autocommit workloads (native and fast, so
the clients are what is measured) and the Hrana test server for the
transaction, which tursodb cannot run; the test server also counts the
round trips each operation costs. Results go to bench/results/remote.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import libsql  # noqa: E402
from servers.launch import hrana_server, tursodb  # noqa: E402

import aiolibsql  # noqa: E402

TASKS = 100
ROWS = 1000


class Ours:
    label = "aiolibsql (ours)"

    def __init__(self, url: str) -> None:
        self.url = url

    async def connect(self, autocommit: bool = True) -> Any:
        # A generous request timeout: under 100 tasks a server queues requests.
        return await aiolibsql.connect(self.url, autocommit=autocommit, timeout=120)

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
    label = "libsql (official, to_thread)"

    def __init__(self, url: str) -> None:
        self.url = url

    async def connect(self, autocommit: bool = True) -> Any:
        return await asyncio.to_thread(libsql.connect, self.url, isolation_level=None)

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


def pipelines_served(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url + "/_stats", timeout=30) as response:
            return int(json.loads(response.read()).get("pipelines", 0))
    except OSError:
        return None


async def prepare(url: str) -> None:
    async with aiolibsql.connect(url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS kv (k INTEGER PRIMARY KEY, v TEXT)")
        await conn.execute("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, k INTEGER)")
        await conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", [(k, f"value {k}") for k in range(ROWS)])


async def timed(operations: int, run: Callable[[], Awaitable[None]]) -> float:
    """Operations per second of one run."""
    started = time.perf_counter()
    await run()
    return operations / (time.perf_counter() - started)


async def point_selects_sequential(client: Any, conn: Any, count: int) -> None:
    for i in range(count):
        await client.select(conn, i % ROWS)


async def in_tasks(client: Any, each: Callable[[Any, int], Awaitable[None]]) -> None:
    connections = await asyncio.gather(*(client.connect() for _ in range(TASKS)))
    try:
        await asyncio.gather(*(each(conn, task) for task, conn in enumerate(connections)))
    finally:
        await asyncio.gather(*(client.close(conn) for conn in connections))


async def measure(client: Any, url: str, scale: int) -> dict[str, float]:
    conn = await client.connect()
    figures: dict[str, float] = {}
    try:
        sequential = 200 * scale
        figures["point selects, sequential (ops/s)"] = await timed(
            sequential, lambda: point_selects_sequential(client, conn, sequential)
        )
        per_task = 5 * scale

        async def selects(task_conn: Any, task: int) -> None:
            for i in range(per_task):
                await client.select(task_conn, (task * per_task + i) % ROWS)

        async def inserts(task_conn: Any, task: int) -> None:
            for i in range(per_task):
                await client.insert(task_conn, task * per_task + i)

        figures[f"point selects, {TASKS} tasks (ops/s)"] = await timed(
            TASKS * per_task, lambda: in_tasks(client, selects)
        )
        figures[f"single-row inserts, {TASKS} tasks (ops/s)"] = await timed(
            TASKS * per_task, lambda: in_tasks(client, inserts)
        )
        rows = [(k,) for k in range(10_000)]
        figures["executemany of 10,000 rows (rows/s)"] = await timed(10_000, lambda: client.executemany(conn, rows))
    finally:
        await client.close(conn)
    return figures


async def measure_transactions(client: Any, url: str, scale: int) -> dict[str, float]:
    conn = await client.connect(autocommit=True)
    count = 10 * scale
    try:
        before = pipelines_served(url)

        async def run() -> None:
            for i in range(count):
                await client.transaction(conn, i * 10)

        rate = await timed(count, run)
        after = pipelines_served(url)
    finally:
        await client.close(conn)
    figures = {"transactions of 10 statements (tx/s)": rate}
    if before is not None and after is not None:
        figures["round trips per transaction"] = (after - before) / count
    return figures


async def run_on(server: Any, client_type: Any, scale: int, transactions: bool) -> dict[str, float] | str:
    """Every workload on a fresh server; the reason instead when the client fails there."""
    with server() as url:
        await prepare(url)
        try:
            figures = await measure(client_type(url), url, scale)
            if transactions:
                figures.update(await measure_transactions(client_type(url), url, scale))
        except Exception as error:
            return f"fails: {str(error).splitlines()[0][:80]}"
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    options = parser.parse_args()
    scale = 1 if options.quick else 2
    reps = 1 if options.quick else 3
    lines = ["# Remote databases over Hrana (loopback)", "", f"Medians of {reps} runs.", ""]
    # tursodb keeps no stream between requests, so it cannot run a transaction.
    for server_name, server, transactions in (
        ("tursodb", tursodb, False),
        ("Hrana test server", hrana_server, True),
    ):
        results: dict[str, dict[str, list[float]] | str] = {}
        for client_type in (Ours, Official):
            collected: dict[str, list[float]] = {}
            for _ in range(reps):
                figures = await run_on(server, client_type, scale, transactions)
                if isinstance(figures, str):
                    results[client_type.label] = figures
                    break
                for name, value in figures.items():
                    collected.setdefault(name, []).append(value)
            else:
                results[client_type.label] = collected
        lines += [f"## {server_name}", "", "| Workload | " + " | ".join(results) + " | ours / official |"]
        lines.append("|---|" + "---|" * (len(results) + 1))
        ours = results[Ours.label]
        assert not isinstance(ours, str), ours
        for name in ours:
            cells = []
            medians = []
            for figures in results.values():
                if isinstance(figures, str):
                    cells.append(figures)
                    medians.append(float("nan"))
                else:
                    medians.append(statistics.median(figures.get(name, [float("nan")])))
                    cells.append(f"{medians[-1]:,.1f}")
            ratio = f"{medians[0] / medians[1]:.2f}x" if medians[1] == medians[1] and medians[1] else "-"
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")
        lines.append("")
    report = "\n".join(lines)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "remote.md").write_text(report)
    print(report)


if __name__ == "__main__":
    asyncio.run(main())
