"""One remote client measured in its own environment:
``python -m bench.remote_measure '<json spec>'`` prints one JSON line of
figures (or ``{"error": reason}``) after :data:`MARKER`.

The spec names a client of :mod:`bench.remote_clients`, the server's URL,
the workloads' sizes and whether to run transactions. The workloads are
the same for every client; the parent (bench/remote.py) counts round trips.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

from bench.remote_clients import CLIENTS

MARKER = "REMOTE-RESULT "
TASKS = 100
KEYS = 1000


def round_trips_served(stats_url: str | None) -> int | None:
    """Hrana requests the test server has answered so far; None for servers that do not count."""
    if stats_url is None:
        return None
    with urllib.request.urlopen(stats_url, timeout=30) as response:
        return int(json.loads(response.read()).get("round_trips", 0))


class Figures(dict[str, "float | str"]):
    def __init__(self, stats_url: str | None) -> None:
        super().__init__()
        self.stats_url = stats_url

    async def timed(
        self, name: str, unit: str, operations: int, run: Callable[[], Awaitable[None]], whole_call: bool = False
    ) -> None:
        """Operations per second of one run, and the round trips each (or
        the whole call) cost where the server counts them."""
        before = round_trips_served(self.stats_url)
        started = time.perf_counter()
        cpu_started = time.process_time()
        await run()
        self[f"{name} ({unit}/s)"] = operations / (time.perf_counter() - started)
        # All of the client process's threads: its own cost, whatever the server's speed.
        self[f"{name}: client CPU µs per {unit[:-1]}"] = (time.process_time() - cpu_started) * 1e6 / operations
        after = round_trips_served(self.stats_url)
        if before is not None and after is not None:
            per = "call" if whole_call else unit[:-1]
            self[f"{name}: round trips per {per}"] = (after - before) / (1 if whole_call else operations)


async def in_tasks(client: Any, each: Callable[[Any, int], Awaitable[None]]) -> None:
    """`each` in TASKS tasks, each on a connection of its own."""
    connections = await asyncio.gather(*(client.connect() for _ in range(TASKS)))
    try:
        await asyncio.gather(*(each(conn, task) for task, conn in enumerate(connections)))
    finally:
        await asyncio.gather(*(client.close(conn) for conn in connections))


async def measure(client: Any, spec: dict[str, Any], figures: Figures) -> None:
    conn = await client.connect()
    try:
        sequential = spec["sequential"]

        async def selects_in_order() -> None:
            for i in range(sequential):
                await client.select(conn, i % KEYS)

        await figures.timed("point selects, sequential", "ops", sequential, selects_in_order)
        per_task = spec["per_task"]

        async def selects(task_conn: Any, task: int) -> None:
            for i in range(per_task):
                await client.select(task_conn, (task * per_task + i) % KEYS)

        async def inserts(task_conn: Any, task: int) -> None:
            for i in range(per_task):
                await client.insert(task_conn, task * per_task + i)

        # Opening and closing the task's connections counts too: a task that
        # needs a connection pays for it.
        await figures.timed(f"point selects, {TASKS} tasks", "ops", TASKS * per_task, lambda: in_tasks(client, selects))
        await figures.timed(
            f"single-row inserts, {TASKS} tasks", "ops", TASKS * per_task, lambda: in_tasks(client, inserts)
        )
        rows = [(k,) for k in range(spec["many_rows"])]
        await figures.timed(
            f"executemany of {len(rows):,} rows",
            "rows",
            len(rows),
            lambda: client.executemany(conn, rows),
            whole_call=True,
        )
        if spec["transactions"]:
            count = spec["transactions"]

            async def transactions() -> None:
                for i in range(count):
                    await client.transaction(conn, i * 10)

            try:
                await figures.timed("transactions of 10 statements", "txs", count, transactions)
            except NotImplementedError as missing:
                figures["transactions of 10 statements (txs/s)"] = f"not supported: {missing}"
    finally:
        await client.close(conn)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    figures = Figures(spec.get("stats_url"))
    outcome: dict[str, Any] = figures
    try:
        asyncio.run(measure(CLIENTS[spec["client"]](spec["url"]), spec, figures))
    except Exception as error:  # reported beside the figures measured before it, never as one
        first_line = str(error).splitlines()[0][:100] if str(error) else ""
        outcome = {**figures, "error": f"{type(error).__name__}: {first_line}"}
    print(MARKER + json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
