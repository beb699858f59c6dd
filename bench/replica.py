"""``python -m bench.replica`` (part of ``make bench``): embedded replicas,
ours against the official ``libsql`` package, on the same test primary
(tests/servers/sync_primary.py, libSQL's HTTP sync protocol) in one run.

* Local reads: point selects on a replica against the same rows in a plain
  file, both through our driver (the replica's reads must cost what a plain
  file's do).
* Bootstrap: a new replica of a 100 MB database, from nothing to readable
  (ours: ``connect()``; the official package: ``connect()`` then ``sync()``).
* Pull: 10,000 small transactions committed on the primary, each its own
  transaction of frames (the primary runs with --frames-per-commit), pulled
  by one ``sync()``.

Round trips are the sync requests the primary counts. Results go to
bench/results/replica.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import libsql  # noqa: E402
from servers.launch import sync_primary  # noqa: E402

import aiolibsql  # noqa: E402

PAGE_SIZE = 4096
KEYS = 10_000
BLOB_BYTES = 2000


def sync_requests(url: str) -> int:
    with urllib.request.urlopen(url + "/_sync_stats", timeout=30) as response:
        return int(json.loads(response.read()).get("requests", 0))


def make_database(path: str, megabytes: int) -> None:
    """`KEYS` small rows to read, and `megabytes` of blobs to copy."""
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE kv (id INTEGER PRIMARY KEY, v TEXT)")
        db.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
        db.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, note TEXT)")
        db.execute("BEGIN")
        db.executemany("INSERT INTO kv VALUES (?, ?)", ((key, f"value {key}") for key in range(KEYS)))
        rows = megabytes * 1024 * 1024 // BLOB_BYTES
        db.executemany("INSERT INTO blobs VALUES (?, randomblob(?))", ((row, BLOB_BYTES) for row in range(rows)))
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


async def timed(run: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await run()
    return time.perf_counter() - started


async def point_selects(conn: Any, reads: int) -> None:
    for index in range(reads):
        cursor = await conn.execute("SELECT v FROM kv WHERE id = ?", (index * 7919 % KEYS,))
        await cursor.fetchone()


async def local_reads(directory: str, url: str, reads: int, reps: int) -> dict[str, list[float]]:
    replica_path = os.path.join(directory, "reads-replica.db")
    await (await aiolibsql.connect(replica_path, sync_url=url)).close()
    plain_path = os.path.join(directory, "reads-plain.db")
    make_database(plain_path, 0)
    rates: dict[str, list[float]] = {"replica": [], "plain file": []}
    for _ in range(reps):
        for name, connecting in (
            ("replica", lambda: aiolibsql.connect(replica_path, sync_url=url)),
            ("plain file", lambda: aiolibsql.connect(plain_path)),
        ):
            conn = await connecting()
            await point_selects(conn, reads // 10)  # warm the page cache
            seconds = await timed(lambda conn=conn: point_selects(conn, reads))
            await conn.close()
            rates[name].append(reads / seconds)
    return rates


async def ours_bootstrap(path: str, url: str) -> None:
    conn = await aiolibsql.connect(path, sync_url=url)
    cursor = await conn.execute("SELECT count(*) FROM kv")
    assert (await cursor.fetchone())[0] == KEYS
    await conn.close()


def official_bootstrap(path: str, url: str) -> None:
    conn = libsql.connect(path, sync_url=url)
    conn.sync()
    assert conn.execute("SELECT count(*) FROM kv").fetchone()[0] == KEYS
    conn.close()


async def bootstraps(directory: str, url: str, reps: int) -> dict[str, dict[str, list[float]]]:
    figures: dict[str, dict[str, list[float]]] = {"ours": {}, "official": {}}
    for rep in range(reps):
        for client in ("ours", "official") if rep % 2 == 0 else ("official", "ours"):
            path = os.path.join(directory, f"bootstrap-{client}-{rep}.db")
            before = sync_requests(url)
            if client == "ours":
                seconds = await timed(lambda path=path: ours_bootstrap(path, url))
            else:
                seconds = await timed(lambda path=path: asyncio.to_thread(official_bootstrap, path, url))
            figures[client].setdefault("seconds", []).append(seconds)
            figures[client].setdefault("round trips", []).append(sync_requests(url) - before)
    return figures


async def commit_on_primary(url: str, transactions: int, first: int) -> None:
    conn = await aiolibsql.connect(url, isolation_level=None)
    for index in range(first, first + transactions):
        await conn.execute("INSERT INTO log VALUES (?, ?)", (index, f"note {index}"))
    await conn.close()


async def pulls(directory: str, url: str, transactions: int, reps: int) -> dict[str, dict[str, list[float]]]:
    ours_path = os.path.join(directory, "pull-ours.db")
    official_path = os.path.join(directory, "pull-official.db")
    ours = await aiolibsql.connect(ours_path, sync_url=url)
    official = libsql.connect(official_path, sync_url=url)
    official.sync()
    figures: dict[str, dict[str, list[float]]] = {"ours": {}, "official": {}}
    for rep in range(reps):
        await commit_on_primary(url, transactions, rep * transactions)
        for client in ("ours", "official") if rep % 2 == 0 else ("official", "ours"):
            before = sync_requests(url)
            if client == "ours":
                seconds = await timed(ours.sync)
                cursor = await ours.execute("SELECT count(*) FROM log")
                pulled = (await cursor.fetchone())[0]
            else:
                seconds = await timed(lambda: asyncio.to_thread(official.sync))
                pulled = official.execute("SELECT count(*) FROM log").fetchone()[0]
            assert pulled == (rep + 1) * transactions, (client, pulled)
            figures[client].setdefault("seconds", []).append(seconds)
            figures[client].setdefault("round trips", []).append(sync_requests(url) - before)
    await ours.close()
    official.close()
    return figures


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(
    reads: int,
    megabytes: int,
    transactions: int,
    reps: int,
    rates: dict[str, list[float]],
    bootstrap: dict[str, dict[str, list[float]]],
    pull: dict[str, dict[str, list[float]]],
) -> str:
    replica, plain = median(rates["replica"]), median(rates["plain file"])
    lines = [
        "# Embedded replicas",
        "",
        f"Medians of {reps} runs, on the HTTP sync test primary on loopback; ours against the official "
        f"`libsql` package ({libsql.__name__} {getattr(libsql, '__version__', '0.1.11')}) where both apply.",
        "",
        f"## Local reads ({reads:,} point selects, one connection, our driver)",
        "",
        "| file | selects/s | ratio to the plain file |",
        "|---|---:|---:|",
        f"| replica | {replica:,.0f} | {replica / plain:.3f} |",
        f"| plain file | {plain:,.0f} | 1.000 |",
        "",
    ]
    for title, figures in (
        (f"## Bootstrap a {megabytes} MB database", bootstrap),
        (f"## Pull {transactions:,} small transactions in one sync()", pull),
    ):
        ours_s, official_s = median(figures["ours"]["seconds"]), median(figures["official"]["seconds"])
        lines += [
            title,
            "",
            "| client | seconds | round trips | time ratio to official |",
            "|---|---:|---:|---:|",
            f"| aiolibsql (ours) | {ours_s:.3f} | {median(figures['ours']['round trips']):.0f} "
            f"| {ours_s / official_s:.2f} |",
            f"| libsql (official) | {official_s:.3f} | {median(figures['official']['round trips']):.0f} | 1.00 |",
            "",
        ]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    options = parser.parse_args()
    reads, megabytes, transactions, reps = (20_000, 10, 500, 1) if options.quick else (200_000, 100, 10_000, 3)
    with tempfile.TemporaryDirectory() as directory:
        small = os.path.join(directory, "primary-small.db")
        make_database(small, 0)
        with sync_primary("--database", small, "--frames-per-commit") as url:
            rates = await local_reads(directory, url, reads, reps)
            print(f"local reads: {rates}", flush=True)
            pull = await pulls(directory, url, transactions, reps)
            print(f"pulls: {pull}", flush=True)
        large = os.path.join(directory, "primary-large.db")
        make_database(large, megabytes)
        with sync_primary("--database", large) as url:
            bootstrap = await bootstraps(directory, url, reps)
            print(f"bootstraps: {bootstrap}", flush=True)
    text = report(reads, megabytes, transactions, reps, rates, bootstrap, pull)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "replica.md").write_text(text)
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
