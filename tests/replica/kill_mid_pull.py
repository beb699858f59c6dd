"""kill -9 of a process while its replica waits on a pull, for either sync
protocol: the replica must reopen without the transaction it was pulling,
consistent, and the next sync must bring all of it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from servers import control
from servers.control import inject, release_stalled, wait_until_stalling

import aiolibsql

_SYNC_IN_A_CHILD = """
import asyncio, sys
import aiolibsql

async def main():
    conn = await aiolibsql.connect(sys.argv[1], sync_url=sys.argv[2], auth_token=sys.argv[3])
    await conn.sync()

asyncio.run(main())
"""


async def kill_mid_pull_then_resume(
    primary: str,
    token: str,
    path: Path,
    opening: Callable[[], Any],
    rows: int,
    requests_before_the_stall: int,
) -> None:
    """Commits one transaction of `rows` rows of about a page each on the
    primary, kills a child syncing `path` while the primary stalls the
    request after `requests_before_the_stall`, then checks the replica."""
    control.on_primary(primary, token, "CREATE TABLE t (x INTEGER, filler BLOB)", "INSERT INTO t VALUES (0, NULL)")
    async with opening() as conn:
        await conn.sync()
    control.on_primary(
        primary,
        token,
        f"WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < {rows}) "
        "INSERT INTO t SELECT v, randomblob(3000) FROM n",
    )
    inject(primary, "stall", skip=requests_before_the_stall)
    child = subprocess.Popen([sys.executable, "-c", _SYNC_IN_A_CHILD, str(path), primary, token])
    await asyncio.to_thread(wait_until_stalling, primary)
    child.kill()
    child.wait()
    release_stalled(primary)
    conn: aiolibsql.Connection
    async with opening() as conn:
        # Half a transaction never shows.
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(1,)]
        assert await conn.execute_fetchall("PRAGMA integrity_check") == [("ok",)]
        await conn.sync()
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(rows + 1,)]
