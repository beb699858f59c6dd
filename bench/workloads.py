"""The workloads, written once against the adapter interface (bench/drivers/base.py).

Each workload runs inside a fresh child process (see :mod:`bench.child`): a
warm-up, then ``reps`` measured repetitions; it returns the median and every
repetition. Every operation's result is checked, and rows that inserts claim
to have written are counted afterwards from a separate connection.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import resource
import statistics
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.drivers.base import Conn, Driver, Params

COLUMNS = "(id INTEGER PRIMARY KEY, name TEXT NOT NULL, value REAL NOT NULL, data BLOB)"
SCHEMA = {table: f"CREATE TABLE {table} {COLUMNS}" for table in ("items", "big")}
POINT_SQL = "SELECT id, name, value, data FROM items WHERE id = ?"
INSERT_SQL = "INSERT INTO items (name, value, data) VALUES (?, ?, ?)"
FETCHALL_SQL = "SELECT id, name, value, data FROM big"
STALL_SQL = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c"
BLOB = bytes(range(32))
HEARTBEAT_S = 0.001


class BenchError(Exception):
    """A driver returned something wrong: the figure is not recorded."""


@dataclass
class Settings:
    reps: int = 3
    rep_seconds: float = 1.0
    warmup_seconds: float = 0.3
    tasks: int = 100
    pool_size: int = 4
    items_rows: int = 100_000
    many_rows: int = 1_000_000
    fetch_rows: int = 1_000_000
    stall_seconds: float = 2.0
    stall_n: int = 0  # recursion depth that takes stall_seconds with sqlite3; set by bench.data

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Ctx:
    data: Path  # the shared read-only data file
    scratch: Path  # an empty folder for this child's fresh files
    s: Settings
    _fresh: itertools.count[int] = field(default_factory=itertools.count)

    def fresh_file(self) -> Path:
        return self.scratch / f"fresh-{next(self._fresh)}.db"


Result = dict[str, Any]
Workload = Callable[[Driver, Ctx], Coroutine[Any, Any, Result]]


def median_result(reps: list[float], **extra: Any) -> Result:
    return {"value": statistics.median(reps), "reps": reps, **extra}


def item_row(i: int) -> tuple[str, float, bytes]:
    return (f"name-{i}", i * 0.5, BLOB)


def point_id(i: int, rows: int) -> int:
    return (i * 7919) % rows + 1  # a fixed scatter over all ids (7919 is prime)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def count_rows(path: Path) -> int:
    """Count committed rows with a separate stdlib connection, driver closed."""
    import sqlite3  # imported here so that read workloads' RSS does not include it

    with sqlite3.connect(path) as check:
        return int(check.execute("SELECT count(*) FROM items").fetchone()[0])


async def open_conn(driver: Driver, path: Path) -> Conn:
    """Connect, set synchronous=NORMAL and journal_mode=WAL; fail if they don't hold."""
    conn = await driver.connect(str(path))
    mode = await conn.fetchone("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    sync = await conn.fetchone("PRAGMA synchronous")
    if mode is None or str(mode[0]).lower() != "wal" or sync is None or sync[0] != 1:
        raise BenchError(f"pragmas not applied: journal_mode={mode}, synchronous={sync}")
    return conn


async def open_target(driver: Driver, ctx: Ctx, path: Path, pool: bool) -> Conn:
    if not pool:
        return await open_conn(driver, path)
    if driver.create_pool is None:
        raise BenchError(f"{driver.name} has no pool")
    return await driver.create_pool(str(path), ctx.s.pool_size)


async def throughput(op: Callable[[int], Awaitable[None]], tasks: int, seconds: float) -> tuple[float, int]:
    """Run ``op(i)`` in ``tasks`` concurrent loops for ``seconds``; (ops/s, ops)."""
    deadline = perf_counter() + seconds
    done = [0] * tasks

    async def loop(worker: int) -> None:
        n = 0
        while perf_counter() < deadline:
            await op(worker + n * tasks)
            n += 1
        done[worker] = n

    start = perf_counter()
    await asyncio.gather(*(loop(w) for w in range(tasks)))
    total = sum(done)
    return total / (perf_counter() - start), total


def select_workload(concurrent: bool, pool: bool) -> Workload:
    async def run(driver: Driver, ctx: Ctx) -> Result:
        tasks = ctx.s.tasks if concurrent else 1
        conn = await open_target(driver, ctx, ctx.data, pool)
        rows = ctx.s.items_rows

        async def op(i: int) -> None:
            key = point_id(i, rows)
            row = await conn.fetchone(POINT_SQL, (key,))
            if row is None or row[0] != key:
                raise BenchError(f"point select of id {key} returned {row!r}")

        await throughput(op, tasks, ctx.s.warmup_seconds)
        reps = [(await throughput(op, tasks, ctx.s.rep_seconds))[0] for _ in range(ctx.s.reps)]
        await conn.close()
        return median_result(reps)

    return run


def insert_workload(concurrent: bool, pool: bool) -> Workload:
    async def rep(driver: Driver, ctx: Ctx, seconds: float) -> float:
        tasks = ctx.s.tasks if concurrent else 1
        path = ctx.fresh_file()
        setup = await open_conn(driver, path)
        await setup.execute(SCHEMA["items"])
        if pool:
            await setup.close()
        conn = await open_target(driver, ctx, path, pool) if pool else setup

        async def op(i: int) -> None:
            await conn.execute(INSERT_SQL, item_row(i))

        rate, written = await throughput(op, tasks, seconds)
        await conn.close()
        found = count_rows(path)
        remove_db(path)
        if found != written:
            raise BenchError(f"{written} single-row inserts returned but {found} rows were committed")
        return rate

    async def run(driver: Driver, ctx: Ctx) -> Result:
        await rep(driver, ctx, ctx.s.warmup_seconds)
        return median_result([await rep(driver, ctx, ctx.s.rep_seconds) for _ in range(ctx.s.reps)])

    return run


async def executemany_workload(driver: Driver, ctx: Ctx) -> Result:
    rows: list[Params] = [item_row(i) for i in range(ctx.s.many_rows)]

    async def rep(batch: list[Params]) -> float:
        path = ctx.fresh_file()
        conn = await open_conn(driver, path)
        await conn.execute(SCHEMA["items"])
        start = perf_counter()
        await conn.executemany(INSERT_SQL, batch)
        elapsed = perf_counter() - start
        await conn.close()
        found = count_rows(path)
        remove_db(path)
        if found != len(batch):
            raise BenchError(f"executemany of {len(batch)} rows committed {found}")
        return elapsed

    await rep(rows[: max(1, len(rows) // 100)])
    return median_result([await rep(rows) for _ in range(ctx.s.reps)], rows=len(rows))


async def fetchall_workload(driver: Driver, ctx: Ctx) -> Result:
    conn = await open_conn(driver, ctx.data)
    sample = await conn.fetchall(FETCHALL_SQL + " LIMIT 1000")
    if len(sample) != 1000:
        raise BenchError(f"warm-up fetchall returned {len(sample)} rows")
    del sample
    gc.collect()
    before = maxrss_mb()
    reps = []
    for _ in range(ctx.s.reps):
        start = perf_counter()
        rows = await conn.fetchall(FETCHALL_SQL)
        reps.append(perf_counter() - start)
        if len(rows) != ctx.s.fetch_rows or len(rows[-1]) != 4 or rows[-1][0] != ctx.s.fetch_rows:
            last = rows[-1] if rows else None
            raise BenchError(f"fetchall returned {len(rows)} rows, last {last!r}")
        del rows
        gc.collect()
    peak = maxrss_mb()
    await conn.close()
    return median_result(reps, peak_rss_mb=peak, rss_growth_mb=peak - before, rows=ctx.s.fetch_rows)


async def stall_workload(driver: Driver, ctx: Ctx) -> Result:
    """Largest gap between wake-ups of a 1 ms heartbeat task while a long query runs."""
    conn = await open_conn(driver, ctx.data)
    n = ctx.s.stall_n

    async def measure(depth: int) -> tuple[float, float, float]:
        gaps: list[float] = []
        stop = False

        async def heartbeat() -> None:
            last = perf_counter()
            while not stop:
                await asyncio.sleep(HEARTBEAT_S)
                now = perf_counter()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        await asyncio.sleep(0.05)
        idle = max(gaps, default=0.0)
        gaps.clear()
        start = perf_counter()
        row = await conn.fetchone(STALL_SQL, (depth,))
        query = perf_counter() - start
        stop = True
        await beat
        if row is None or row[0] != depth:
            raise BenchError(f"recursive CTE to {depth} returned {row!r}")
        return max(gaps, default=query) * 1000, query, idle * 1000

    await measure(max(1, n // 100))
    runs = [await measure(n) for _ in range(ctx.s.reps)]
    await conn.close()
    return median_result(
        [r[0] for r in runs],
        query_s=statistics.median(r[1] for r in runs),
        idle_gap_ms=max(r[2] for r in runs),
        depth=n,
    )


async def open_close_workload(driver: Driver, ctx: Ctx) -> Result:
    """Open the data file, run one point select, close; median latency per rep."""

    async def rep(seconds: float) -> float:
        samples: list[float] = []
        deadline = perf_counter() + seconds
        while perf_counter() < deadline or not samples:
            start = perf_counter()
            conn = await driver.connect(str(ctx.data))
            row = await conn.fetchone(POINT_SQL, (1,))
            await conn.close()
            samples.append(perf_counter() - start)
            if row is None or row[0] != 1:
                raise BenchError(f"first query returned {row!r}")
        return statistics.median(samples) * 1000

    await rep(ctx.s.warmup_seconds)
    return median_result([await rep(ctx.s.rep_seconds) for _ in range(ctx.s.reps)])


@dataclass(frozen=True)
class Metric:
    """One figure in the report: ``key`` of workload ``workload``'s result."""

    id: str
    workload: str
    title: str
    unit: str
    better: str  # "higher" or "lower"
    key: str = "value"
    baseline: str | None = None  # metric whose sqlite3 figure the ratio uses (sqlite3 has no pool)


WORKLOADS: dict[str, Workload] = {
    "select_seq": select_workload(concurrent=False, pool=False),
    "select_100_conn": select_workload(concurrent=True, pool=False),
    "select_100_pool": select_workload(concurrent=True, pool=True),
    "insert_seq": insert_workload(concurrent=False, pool=False),
    "insert_100_conn": insert_workload(concurrent=True, pool=False),
    "insert_100_pool": insert_workload(concurrent=True, pool=True),
    "executemany_1m": executemany_workload,
    "fetchall_1m": fetchall_workload,
    "loop_stall": stall_workload,
    "open_close": open_close_workload,
}
POOL_WORKLOADS = {"select_100_pool", "insert_100_pool"}

METRICS = (
    Metric(
        "select_seq",
        "select_seq",
        "1. Point select + fetchone, sequential",
        "ops/s",
        "higher",
    ),
    Metric(
        "select_100_conn",
        "select_100_conn",
        "2. Point select, 100 tasks, one connection",
        "ops/s",
        "higher",
    ),
    Metric(
        "select_100_pool",
        "select_100_pool",
        "2. Point select, 100 tasks, pool",
        "ops/s",
        "higher",
        baseline="select_100_conn",
    ),
    Metric(
        "insert_seq",
        "insert_seq",
        "3. Autocommit insert, sequential",
        "rows/s",
        "higher",
    ),
    Metric(
        "insert_100_conn",
        "insert_100_conn",
        "3. Autocommit insert, 100 tasks, one connection",
        "rows/s",
        "higher",
    ),
    Metric(
        "insert_100_pool",
        "insert_100_pool",
        "3. Autocommit insert, 100 tasks, pool",
        "rows/s",
        "higher",
        baseline="insert_100_conn",
    ),
    Metric(
        "executemany_1m",
        "executemany_1m",
        "4. executemany, 1M rows, one transaction",
        "s",
        "lower",
    ),
    Metric("fetchall_1m", "fetchall_1m", "5. fetchall, 1M rows x 4 columns", "s", "lower"),
    Metric(
        "fetchall_1m_rss",
        "fetchall_1m",
        "5. fetchall 1M rows: peak RSS",
        "MB",
        "lower",
        key="peak_rss_mb",
    ),
    Metric(
        "fetchall_1m_growth",
        "fetchall_1m",
        "5. fetchall 1M rows: RSS growth",
        "MB",
        "lower",
        key="rss_growth_mb",
    ),
    Metric(
        "loop_stall",
        "loop_stall",
        "6. Event-loop stall during a ~2 s query",
        "ms",
        "lower",
    ),
    Metric("open_close", "open_close", "7. Open + first query + close", "ms", "lower"),
)
