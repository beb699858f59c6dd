"""Embedded replicas against the test primary (tests/servers/sync_primary.py),
which the official libsql package judged first: reads on the local file,
writes through the primary or pushed from offline, and every fault leaving a
replica that opens, is consistent and goes on."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiolibsql_sqlalchemy  # noqa: F401 - registers the sqlite+aiolibsql dialect
import libsql
import pytest
from replica.kill_mid_pull import kill_mid_pull_then_resume
from servers import control
from servers.control import inject, release_stalled, wait_until_stalling
from servers.launch import hrana_server_process
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

import aiolibsql
import aiolibsql.dbapi as dbapi

TOKEN = "replica-token"


@pytest.fixture
def primary() -> Iterator[str]:
    with hrana_server_process("--auth-token", TOKEN, script="sync_primary.py") as (url, _):
        yield url


def on_primary(url: str, *statements: str) -> None:
    control.on_primary(url, TOKEN, *statements)


def primary_rows(url: str, sql: str = "SELECT x FROM t ORDER BY x") -> list[tuple[Any, ...]]:
    return control.rows_on_primary(url, TOKEN, sql)


def replica(url: str, path: Path, **options: Any) -> aiolibsql._opening.Opening[aiolibsql.Connection]:
    return aiolibsql.connect(str(path), sync_url=url, auth_token=TOKEN, **options)


async def rows(conn: aiolibsql.Connection) -> list[Any]:
    return list(await conn.execute_fetchall("SELECT x FROM t ORDER BY x"))


async def test_a_replica_bootstraps_pulls_and_reads_the_local_file(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1), (2)")
    async with replica(primary, tmp_path / "r.db") as conn:
        assert conn.is_replica and not conn.is_remote
        # A new replica starts in step.
        assert await rows(conn) == [(1,), (2,)]
        first = await conn.sync()
        assert first.frames_pulled == 0 and first.frames_pushed == 0 and first.generation == 1
        on_primary(primary, "INSERT INTO t VALUES (3)")
        # Not pulled yet: reads are the local file's.
        assert await rows(conn) == [(1,), (2,)]
        second = await conn.sync()
        assert second.frame_no > first.frame_no
        assert await rows(conn) == [(1,), (2,), (3,)]
    assert (tmp_path / "r.db-info").exists()


@pytest.mark.parametrize("autocommit", [True, aiolibsql.LEGACY_TRANSACTION_CONTROL])
async def test_a_write_goes_to_the_primary_and_the_next_read_sees_it(
    primary: str, tmp_path: Path, autocommit: Any
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "r.db", autocommit=autocommit) as conn:
        await conn.execute("INSERT INTO t VALUES (7)")
        await conn.commit()
        assert await rows(conn) == [(7,)]
        # A write the text reads as a query still reaches the primary.
        await conn.execute("WITH v(x) AS (VALUES (8)) INSERT INTO t SELECT x FROM v")
        await conn.commit()
        assert await rows(conn) == [(7,), (8,)]
    assert primary_rows(primary) == [(7,), (8,)]


async def test_a_transaction_runs_on_the_primary_and_its_reads_see_its_writes(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "r.db", autocommit=False) as conn:
        await conn.execute("INSERT INTO t VALUES (1)")
        assert conn.in_transaction
        assert await rows(conn) == [(1,)]
        await conn.rollback()
        assert await rows(conn) == []
    assert primary_rows(primary) == []


async def test_offline_writes_stay_local_until_sync_pushes_them(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "w.db", offline=True) as conn:
        await conn.sync()
        await conn.execute("INSERT INTO t VALUES (1), (2)")
        await conn.commit()
        assert await rows(conn) == [(1,), (2,)]
        assert primary_rows(primary) == []
        pushed = await conn.sync()
        assert pushed.frames_pushed > 0
    assert primary_rows(primary) == [(1,), (2,)]
    async with replica(primary, tmp_path / "r.db") as reader:
        await reader.sync()
        assert await rows(reader) == [(1,), (2,)]


async def test_a_push_conflict_raises_and_keeps_the_local_changes(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with (
        replica(primary, tmp_path / "a.db", offline=True) as first,
        replica(primary, tmp_path / "b.db", offline=True) as second,
    ):
        await first.sync()
        await second.sync()
        await first.execute("INSERT INTO t VALUES (1)")
        await first.commit()
        await second.execute("INSERT INTO t VALUES (2)")
        await second.commit()
        await first.sync()
        with pytest.raises(aiolibsql.OperationalError, match="conflict"):
            await second.sync()
        assert await rows(second) == [(2,)]
    assert primary_rows(primary) == [(1,)]


async def test_a_replica_follows_the_primary_into_a_new_generation(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "r.db") as conn:
        await conn.sync()
        urllib.request.urlopen(urllib.request.Request(primary + "/_generation", data=b"", method="POST")).read()
        on_primary(primary, "INSERT INTO t VALUES (2)")
        result = await conn.sync()
        assert result.generation == 2
        assert await rows(conn) == [(1,), (2,)]
    info = json.loads((tmp_path / "r.db-info").read_text())
    assert info["generation"] == 2


async def test_replica_directories_are_interchangeable_with_the_official_clients(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    official = libsql.connect(str(tmp_path / "official.db"), sync_url=primary, auth_token=TOKEN)
    official.sync()
    official.close()
    on_primary(primary, "INSERT INTO t VALUES (2)")
    async with replica(primary, tmp_path / "official.db") as conn:
        await conn.sync()
        assert await rows(conn) == [(1,), (2,)]
    async with replica(primary, tmp_path / "ours.db") as conn:
        await conn.sync()
    on_primary(primary, "INSERT INTO t VALUES (3)")
    theirs = libsql.connect(str(tmp_path / "ours.db"), sync_url=primary, auth_token=TOKEN)
    theirs.sync()
    assert theirs.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,), (3,)]


async def test_local_reads_go_on_while_the_primary_is_down_and_sync_says_why(tmp_path: Path) -> None:
    with hrana_server_process("--auth-token", TOKEN, script="sync_primary.py") as (url, process):
        on_primary(url, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
        conn = await replica(url, tmp_path / "r.db", timeout=5)
        await conn.sync()
        process.kill()
        process.wait()
        assert await rows(conn) == [(1,)]
        with pytest.raises(aiolibsql.OperationalError):
            await conn.sync()
        assert await rows(conn) == [(1,)]
        await conn.close()
    # Reopened with the primary gone: the local files are enough.
    async with replica(url, tmp_path / "r.db") as conn:
        assert await rows(conn) == [(1,)]


async def test_a_replica_with_one_of_its_files_missing_or_corrupt_is_refused_clearly(
    primary: str, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.db"
    async with aiolibsql.connect(str(plain)) as conn:
        await conn.execute("CREATE TABLE t (x)")
    with pytest.raises(aiolibsql.OperationalError, match="is not a replica"):
        await replica(primary, plain)
    orphan = tmp_path / "orphan.db"
    (tmp_path / "orphan.db-info").write_text('{"hash":3278479626,"version":0,"durable_frame_num":0,"generation":1}')
    with pytest.raises(aiolibsql.OperationalError, match="does not"):
        await replica(primary, orphan)
    async with replica(primary, tmp_path / "r.db") as conn:
        await conn.sync()
    (tmp_path / "r.db-info").write_text('{"hash":1,"version":0,"durable_frame_num":0,"generation":1}')
    with pytest.raises(aiolibsql.DatabaseError, match="metadata file is not valid"):
        await replica(primary, tmp_path / "r.db")


@pytest.mark.parametrize("kind", ["garbage", "status500", "status401"])
async def test_a_bad_answer_to_a_pull_changes_nothing_and_the_next_sync_goes_on(
    primary: str, tmp_path: Path, kind: str
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "r.db") as conn:
        await conn.sync()
        on_primary(primary, "INSERT INTO t VALUES (2)")
        inject(primary, kind)
        with pytest.raises(aiolibsql.DatabaseError):
            await conn.sync()
        assert await rows(conn) == [(1,)]
        await conn.sync()
        assert await rows(conn) == [(1,), (2,)]


async def test_a_connection_reset_mid_pull_is_retried_once_then_reported(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "r.db") as conn:
        await conn.sync()
        on_primary(primary, "INSERT INTO t VALUES (2)")
        inject(primary, "reset")
        await conn.sync()
        assert await rows(conn) == [(1,), (2,)]
        on_primary(primary, "INSERT INTO t VALUES (3)")
        inject(primary, "reset", count=2)
        with pytest.raises(aiolibsql.OperationalError):
            await conn.sync()
        assert await rows(conn) == [(1,), (2,)]
        await conn.sync()
        assert await rows(conn) == [(1,), (2,), (3,)]


async def test_a_cancelled_sync_stops_waiting_and_the_replica_goes_on(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "r.db") as conn:
        await conn.sync()
        inject(primary, "stall")
        task = asyncio.ensure_future(conn.sync())
        await asyncio.to_thread(wait_until_stalling, primary)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release_stalled(primary)
        assert await rows(conn) == [(1,)]
        await conn.sync()


async def test_a_wrong_token_fails_the_first_connect_with_an_authentication_error(primary: str, tmp_path: Path) -> None:
    with pytest.raises(aiolibsql.OperationalError, match="authentication"):
        await aiolibsql.connect(str(tmp_path / "r.db"), sync_url=primary, auth_token="wrong")
    assert not (tmp_path / "r.db").exists()


async def test_arguments_a_replica_cannot_take_are_refused_before_anything_opens(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"
    for interval in (0, -1, 0.0001, 1e10, float("inf"), float("nan"), "1", True):
        with pytest.raises(ValueError, match="sync_interval"):
            aiolibsql.connect(str(tmp_path / "r.db"), sync_url=url, sync_interval=interval)  # type: ignore[arg-type]
    with pytest.raises(aiolibsql.ProgrammingError, match="sync_url"):
        aiolibsql.connect(str(tmp_path / "r.db"), offline=True)
    with pytest.raises(aiolibsql.NotSupportedError, match="encryption_key"):
        aiolibsql.connect(str(tmp_path / "r.db"), sync_url=url, encryption_key="k")
    with pytest.raises(aiolibsql.NotSupportedError, match="database file"):
        aiolibsql.connect(":memory:", sync_url=url)
    with pytest.raises(TypeError):
        aiolibsql.connect(str(tmp_path / "r.db"), sync_url=b"http://x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NUL"):
        aiolibsql.connect(str(tmp_path / "r.db"), sync_url="http://127.0.0.1:9\x00/x")
    async with aiolibsql.connect(str(tmp_path / "plain.db")) as conn:
        with pytest.raises(aiolibsql.NotSupportedError, match="embedded replicas"):
            await conn.sync()
    assert not os.path.exists(tmp_path / "r.db")


async def test_what_a_replica_cannot_do_raises_not_supported_naming_why(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "r.db") as conn:
        with pytest.raises(aiolibsql.NotSupportedError, match="embedded replica"):
            await conn.rekey("k")
        with pytest.raises(aiolibsql.NotSupportedError, match="primary runs the writes"):
            conn.total_changes  # noqa: B018 - the property raises
        # A function serves the local reads; the primary cannot call it.
        await conn.create_function("twice", 1, lambda x: 2 * x)
        assert await conn.execute_fetchall("SELECT twice(21)") == [(42,)]


def test_the_blocking_module_makes_and_syncs_replicas(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    conn = dbapi.connect(str(tmp_path / "r.db"), sync_url=primary, auth_token=TOKEN)
    try:
        assert conn.is_replica
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
        on_primary(primary, "INSERT INTO t VALUES (3)")
        assert conn.sync().frames_pulled > 0
        conn.execute("INSERT INTO t VALUES (2)")
        conn.commit()
        assert conn.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,), (3,)]
    finally:
        conn.close()
    assert primary_rows(primary) == [(1,), (2,), (3,)]


def test_sqlalchemys_engine_takes_the_replica_arguments_as_turso_documents_them(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    engine = create_engine(
        f"sqlite+aiolibsql:///{tmp_path / 'r.db'}", connect_args={"sync_url": primary, "auth_token": TOKEN}
    )
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (2)"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT x FROM t ORDER BY x")).all() == [(1,), (2,)]
    engine.dispose()
    assert primary_rows(primary) == [(1,), (2,)]


async def test_sqlalchemys_async_engine_takes_the_replica_arguments_too(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    engine = create_async_engine(
        f"sqlite+aiolibsql:///{tmp_path / 'r.db'}", connect_args={"sync_url": primary, "auth_token": TOKEN}
    )
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO t VALUES (2)"))
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT x FROM t ORDER BY x"))).all() == [(1,), (2,)]
    await engine.dispose()
    assert primary_rows(primary) == [(1,), (2,)]


async def test_a_replica_killed_mid_pull_opens_consistent_and_resumes(primary: str, tmp_path: Path) -> None:
    # Some 300 pages: more than one pull brings the transaction; the child
    # is killed waiting for the second.
    path = tmp_path / "r.db"
    await kill_mid_pull_then_resume(primary, TOKEN, path, lambda: replica(primary, path), 300, 1)


async def eventually(condition: Any) -> None:
    """Awaits `condition()` until it is true; a hang guard, not a timing assumption."""
    deadline = asyncio.get_running_loop().time() + 30
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


async def test_sync_interval_brings_the_replica_in_step_in_the_background(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "r.db", sync_interval=0.05) as conn:
        await eventually(lambda: _has_rows(conn, [(1,)]))
        on_primary(primary, "INSERT INTO t VALUES (2)")
        await eventually(lambda: _has_rows(conn, [(1,), (2,)]))


async def _has_rows(conn: aiolibsql.Connection, expected: list[Any]) -> bool:
    try:
        return await rows(conn) == expected
    except aiolibsql.OperationalError:
        # The table is not pulled yet.
        return False


async def test_a_failed_background_sync_is_reported_by_the_next_sync(tmp_path: Path) -> None:
    with hrana_server_process("--auth-token", TOKEN, script="sync_primary.py") as (url, process):
        on_primary(url, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
        async with replica(url, tmp_path / "r.db", sync_interval=0.05) as conn:
            await conn.sync()
            process.kill()
            process.wait()
            reported: list[str] = []

            async def background_failure_reported() -> bool:
                try:
                    await conn.sync()
                except aiolibsql.OperationalError as error:
                    reported.append(str(error))
                return any("background sync failed" in message for message in reported)

            await eventually(background_failure_reported)
            # Reads go on from the local file meanwhile.
            assert await rows(conn) == [(1,)]


async def test_sync_inside_an_offline_transaction_is_refused_and_the_transaction_goes_on(
    primary: str, tmp_path: Path
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "w.db", offline=True, autocommit=False) as conn:
        await conn.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(aiolibsql.ProgrammingError, match="inside a transaction that has written"):
            await conn.sync()
        await conn.commit()
        assert (await conn.sync()).frames_pushed > 0
    assert primary_rows(primary) == [(1,)]


async def test_close_stops_a_sync_stalled_at_the_primary_instead_of_waiting_for_it(
    primary: str, tmp_path: Path
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    conn = await replica(primary, tmp_path / "r.db", timeout=60)
    inject(primary, "stall")
    sync = asyncio.ensure_future(conn.sync())
    await asyncio.to_thread(wait_until_stalling, primary)
    queued = asyncio.ensure_future(conn.execute_fetchall("SELECT 1"))
    await asyncio.wait_for(conn.close(), 10)
    with pytest.raises(aiolibsql.OperationalError, match="interrupted"):
        await sync
    with pytest.raises(aiolibsql.ProgrammingError, match="closed"):
        await queued
    release_stalled(primary)
    # The replica reopens as it was.
    async with replica(primary, tmp_path / "r.db") as reopened:
        assert await reopened.execute_fetchall("SELECT count(*) FROM t") == [(0,)]


@pytest.mark.parametrize(
    "statement",
    [
        "PRAGMA wal_checkpoint(TRUNCATE)",
        "pragma main.WAL_CHECKPOINT",
        "PRAGMA wal_autocheckpoint = 1",
        "PRAGMA journal_mode = DELETE",
    ],
)
async def test_statements_that_would_empty_the_wal_are_refused_so_offline_writes_still_push(
    primary: str, tmp_path: Path, statement: str
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "w.db", offline=True) as conn:
        await conn.execute("INSERT INTO t VALUES (1)")
        await conn.commit()
        with pytest.raises(aiolibsql.DatabaseError, match="not authorized"):
            await conn.execute(statement)
        assert (await conn.sync()).frames_pushed > 0
    assert primary_rows(primary) == [(1,)]
    async with replica(primary, tmp_path / "w.db", offline=True) as reopened:
        assert await rows(reopened) == [(1,)]


async def test_local_reads_go_on_after_a_write_failed_because_the_primary_is_down(tmp_path: Path) -> None:
    with hrana_server_process("--auth-token", TOKEN, script="sync_primary.py") as (url, process):
        on_primary(url, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
        async with replica(url, tmp_path / "r.db", timeout=5) as conn:
            process.kill()
            process.wait()
            with pytest.raises(aiolibsql.OperationalError):
                await conn.execute("INSERT INTO t VALUES (2)")
            assert await rows(conn) == [(1,)]


async def test_a_push_that_failed_mid_transaction_is_sent_again_whole_by_the_next_sync(
    primary: str, tmp_path: Path
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER, filler BLOB)")
    async with replica(primary, tmp_path / "w.db", offline=True) as conn:
        await conn.execute(
            "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 300) "
            "INSERT INTO t SELECT v, randomblob(3000) FROM n"
        )
        await conn.commit()
        # The second of the push's requests fails: its transaction is not whole on the primary.
        inject(primary, "status500", skip=1)
        with pytest.raises(aiolibsql.OperationalError):
            await conn.sync()
        assert (await conn.sync()).frames_pushed > 0
    assert primary_rows(primary, "SELECT count(*) FROM t") == [(300,)]


_BOOTSTRAP_IN_A_CHILD = """
import asyncio, resource, sys
import aiolibsql

async def main():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    async with aiolibsql.connect(sys.argv[1], sync_url=sys.argv[2]) as conn:
        assert (await conn.execute_fetchall("SELECT count(*) FROM t"))[0][0] == 2000
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)

asyncio.run(main())
"""


@pytest.mark.resident_memory
def test_a_new_replica_streams_the_export_to_disk_instead_of_holding_it(tmp_path: Path) -> None:
    database = tmp_path / "primary.db"
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE t (payload BLOB)")
        db.executemany("INSERT INTO t VALUES (randomblob(32000))", [()] * 2000)
    db.close()
    with hrana_server_process("--database", str(database), script="sync_primary.py") as (url, _):
        child = subprocess.run(
            [sys.executable, "-c", _BOOTSTRAP_IN_A_CHILD, str(tmp_path / "r.db"), url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert child.returncode == 0, child.stderr
    # The export is some 64 MiB; the replica's peak grows by a fraction of it.
    assert int(child.stdout) < 16, f"peak resident memory grew by {child.stdout.strip()} MiB"
