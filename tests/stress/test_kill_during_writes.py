"""A process killed with SIGKILL in the middle of writing loses no write it
was told had committed.

The child reports each acknowledged id on a pipe the moment its ``await``
returns; the parent kills it once enough acknowledgements arrived, so the kill
lands while writes are in flight. A process crash leaves the operating
system's page cache intact, so this holds in every ``synchronous`` mode
(power loss is another matter, see the README).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import aiolibsql.dbapi

# Acknowledgements to wait for before the kill.
ACKNOWLEDGED_BEFORE_KILL = 300
# Only a hang guard: a healthy child acknowledges the writes in well under a second.
HANG_GUARD_SECONDS = 60.0
CONCURRENT_WRITERS = 8

CHILD = """
import asyncio, os, sys
import aiolibsql

MODE, PATH = sys.argv[1], sys.argv[2]
WRITERS = int(sys.argv[3])
INSERT = "INSERT INTO acknowledged (id, payload) VALUES (?, randomblob(700))"


def acknowledge(row_id):
    os.write(1, b"%d\\n" % row_id)


async def write_through_pool():
    pool = await aiolibsql.create_pool(PATH, size=4)

    async def writer(first):
        row_id = first
        while True:
            await pool.execute(INSERT, (row_id,))
            acknowledge(row_id)
            row_id += WRITERS

    await asyncio.gather(*(writer(first) for first in range(WRITERS)))


async def write_through_connection(pragmas):
    conn = await aiolibsql.connect(PATH)
    for pragma in pragmas:
        await conn.execute(pragma)
    row_id = 0
    while True:
        await conn.execute(INSERT, (row_id,))
        await conn.commit()
        acknowledge(row_id)
        row_id += 1


if MODE == "pool":
    asyncio.run(write_through_pool())
elif MODE == "connection":
    asyncio.run(write_through_connection([]))
else:
    journal_mode, synchronous = MODE.split(":")
    asyncio.run(write_through_connection(
        [f"PRAGMA journal_mode={journal_mode}", f"PRAGMA synchronous={synchronous}"]))
"""


def acknowledged_ids_until_killed(mode: str, path: Path) -> set[int]:
    """Runs the writing child, kills it mid-write and returns every id it
    acknowledged, including those still in the pipe when it died."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(path), str(CONCURRENT_WRITERS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    received = b""
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(child.stdout, selectors.EVENT_READ)
            while received.count(b"\n") < ACKNOWLEDGED_BEFORE_KILL:
                assert selector.select(HANG_GUARD_SECONDS), "the child stopped acknowledging writes"
                chunk = os.read(child.stdout.fileno(), 65536)
                assert chunk, f"the child exited early: {child.stderr.read().decode()}"
                received += chunk
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    received += child.stdout.read()
    child.stdout.close()
    child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    complete_lines = received.split(b"\n")[:-1]
    return {int(line) for line in complete_lines}


@pytest.mark.parametrize(
    "mode",
    ["connection", "wal:normal", "wal:full", "delete:off", "pool"],
)
def test_every_acknowledged_write_survives_kill_9(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "killed.db"
    setup = aiolibsql.dbapi.connect(str(path))
    setup.execute("CREATE TABLE acknowledged (id INTEGER PRIMARY KEY, payload BLOB NOT NULL)")
    setup.commit()
    setup.close()

    acknowledged = acknowledged_ids_until_killed(mode, path)

    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL
    # A fresh connection recovers the journal or WAL the dead process left.
    survivor = aiolibsql.dbapi.connect(str(path))
    try:
        assert survivor.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {row_id for (row_id,) in survivor.execute("SELECT id FROM acknowledged")}
    finally:
        survivor.close()
    assert acknowledged - stored == set()
