"""Every write the driver acknowledged survives the process being killed
(kill -9) in the middle of writing: through the pool and through a
connection, with the default settings."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Writes acknowledged before the kill; more are in flight when it lands.
ACKNOWLEDGED_BEFORE_KILL = 3000

WRITERS = {
    "pool": """
        async def main(path):
            async with aiolibsql.create_pool(path, size=3) as pool:
                await pool.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, payload TEXT)")
                print("ready", flush=True)

                async def writer(first):
                    for id in itertools.count(first, 50):
                        await pool.execute("INSERT INTO t VALUES (?, ?)", (id, "x" * 100))
                        print(id, flush=True)

                await asyncio.gather(*(writer(n) for n in range(50)))
    """,
    "connection": """
        async def main(path):
            async with aiolibsql.connect(path, autocommit=True) as conn:
                await conn.execute("PRAGMA journal_mode=WAL")
                await conn.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, payload TEXT)")
                print("ready", flush=True)

                async def writer(first):
                    for id in itertools.count(first, 50):
                        await conn.execute("INSERT INTO t VALUES (?, ?)", (id, "x" * 100))
                        print(id, flush=True)

                await asyncio.gather(*(writer(n) for n in range(50)))
    """,
    "transactions": """
        async def main(path):
            async with aiolibsql.connect(path) as conn:
                await conn.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, payload TEXT)")
                await conn.commit()
                print("ready", flush=True)
                for first in itertools.count(0, 10):
                    ids = range(first, first + 10)
                    await conn.executemany("INSERT INTO t VALUES (?, 'x')", [(id,) for id in ids])
                    await conn.commit()
                    for id in ids:
                        print(id, flush=True)
    """,
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_every_acknowledged_write_survives_kill_9(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "durable.db"
    script = "import asyncio, itertools, sys\nimport aiolibsql\n" + textwrap.dedent(WRITERS[kind])
    script += "\nasyncio.run(main(sys.argv[1]))\n"
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    acknowledged: set[int] = set()
    try:
        assert child.stdout.readline() == "ready\n"
        for line in child.stdout:
            acknowledged.add(int(line))
            if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.communicate(timeout=60)
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL, "the writer stopped before the kill"
    with sqlite3.connect(path) as survivor:
        assert survivor.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = {row_id for (row_id,) in survivor.execute("SELECT id FROM t")}
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged writes were lost"
