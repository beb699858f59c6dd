"""A disk that fills up: the write that does not fit raises OperationalError
(SQLITE_FULL), nothing acknowledged is lost or changed, reads go on, and
writes work again once there is room. The disk is a 1 MiB tmpfs mounted in a
mount namespace of the test's own (as an unprivileged user, in a user
namespace too), so nothing outside the test sees it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from servers.launch import sync_primary

SCENARIO = textwrap.dedent(
    """
    import asyncio, os, sys
    import aiolibsql

    async def open_database(kind, path):
        if kind == "pool":
            return aiolibsql.create_pool(path, size=2)
        return aiolibsql.connect(path, autocommit=True)

    async def main(kind, disk):
        # Room to give back once the disk is full.
        with open(os.path.join(disk, "reserve"), "wb") as reserve:
            reserve.write(b"r" * 200_000)
        async with await open_database(kind, os.path.join(disk, "full.db")) as db:
            await db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB)")
            acknowledged = 0
            try:
                while True:
                    await db.execute("INSERT INTO t VALUES (?, randomblob(3000))", (acknowledged,))
                    acknowledged += 1
            except aiolibsql.OperationalError as error:
                assert error.sqlite_errorname == "SQLITE_FULL", (error, error.sqlite_errorname)
            assert acknowledged > 10, acknowledged
            rows = await (await db.execute("SELECT count(*), max(id) FROM t")).fetchall()
            assert rows == [(acknowledged, acknowledged - 1)], (rows, acknowledged)
            # Still full: the next write fails the same way, and changes nothing.
            try:
                await db.execute("INSERT INTO t VALUES (-1, randomblob(3000))")
            except aiolibsql.OperationalError as error:
                assert error.sqlite_errorname == "SQLITE_FULL", error
            os.remove(os.path.join(disk, "reserve"))
            await db.execute("INSERT INTO t VALUES (?, randomblob(3000))", (acknowledged,))
            check = await (await db.execute("PRAGMA integrity_check")).fetchall()
            assert check == [("ok",)], check
            rows = await (await db.execute("SELECT count(*) FROM t WHERE id >= 0")).fetchall()
            assert rows == [(acknowledged + 1,)], rows
        print("survived", acknowledged)

    asyncio.run(main(sys.argv[2], sys.argv[1]))
    """
)


def run_on_a_small_disk(tmp_path: Path, scenario: str, argument: str) -> subprocess.CompletedProcess[str]:
    """Runs `scenario` with the 1 MiB disk's path and `argument`."""
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "scenario.py"
    script.write_text(scenario)
    namespace = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    mount_then_run = 'mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" "$3" "$1" "$4"'
    command = [*namespace, "sh", "-c", mount_then_run, "sh", str(disk), sys.executable, str(script), argument]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("kind", ["connection", "pool"])
def test_a_full_disk_raises_sqlite_full_and_keeps_every_acknowledged_write(tmp_path: Path, kind: str) -> None:
    result = run_on_a_small_disk(tmp_path, SCENARIO, kind)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("survived")


REPLICA_SCENARIO = textwrap.dedent(
    """
    import asyncio, os, sys
    import aiolibsql

    async def main(disk, url):
        path = os.path.join(disk, "replica.db")
        for attempt in range(2):
            try:
                await aiolibsql.connect(path, sync_url=url)
            except aiolibsql.OperationalError as error:
                assert "No space left" in str(error), error
            else:
                raise AssertionError("a 2 MB database fit on a 1 MiB disk")
            # Nothing half-made is left to be taken for a replica.
            assert os.listdir(disk) == [], os.listdir(disk)
        print("refused cleanly")

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def test_a_replica_that_does_not_fit_on_the_disk_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    primary = tmp_path / "primary.db"
    with sqlite3.connect(primary) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE t (payload BLOB)")
        db.executemany("INSERT INTO t VALUES (randomblob(4000))", [()] * 500)
    db.close()
    disk = tmp_path / "disk"
    disk.mkdir()
    script = tmp_path / "scenario.py"
    script.write_text(REPLICA_SCENARIO)
    namespace = ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--mount"]
    mount_then_run = 'mount -t tmpfs -o size=1m tmpfs "$1" && exec "$2" "$3" "$1" "$4"'
    with sync_primary("--database", str(primary)) as url:
        command = [*namespace, "sh", "-c", mount_then_run, "sh", str(disk), sys.executable, str(script), url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused cleanly")
