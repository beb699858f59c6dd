"""Embedded replicas over sqld's replication log ("v1") against its test
primary (tests/servers/replication_log_primary.py), which libSQL's own Rust
client judged first: chosen as that client chooses, bootstrapped from the
log or a snapshot, in step after every sync, interchangeable with the Rust
client's replicas, and every fault leaving a replica that opens and goes on."""

from __future__ import annotations

import asyncio
import json
import struct
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from replica.kill_mid_pull import kill_mid_pull_then_resume
from servers import control
from servers.control import inject
from servers.launch import judge_v1, replication_log_primary

import aiolibsql
import aiolibsql.dbapi as dbapi

TOKEN = "v1-replica-token"


@pytest.fixture
def primary() -> Iterator[str]:
    with replication_log_primary("--auth-token", TOKEN) as url:
        yield url


def on_primary(url: str, *statements: str) -> None:
    control.on_primary(url, TOKEN, *statements)


def post(url: str, path: str) -> None:
    with urllib.request.urlopen(urllib.request.Request(url + path, data=b"{}"), timeout=30) as answer:
        answer.read()


def stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "/_sync_stats", timeout=30) as answer:
        return dict(json.loads(answer.read()))


def replica(url: str, path: Path, **options: Any) -> aiolibsql._opening.Opening[aiolibsql.Connection]:
    return aiolibsql.connect(str(path), sync_url=url, auth_token=TOKEN, isolation_level=None, **options)


async def rows(conn: aiolibsql.Connection) -> list[Any]:
    return list(await conn.execute_fetchall("SELECT x FROM t ORDER BY x"))


def judge(path: Path, url: str, *commands: str) -> list[Any]:
    """libSQL's Rust client on the replica at `path`: its JSON answers."""
    done = subprocess.run([str(judge_v1()), str(path), url, TOKEN, *commands], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


async def test_auto_finds_the_replication_log_where_get_info_is_not_served(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1), (2)")
    async with replica(primary, tmp_path / "r.db") as conn:
        assert await rows(conn) == [(1,), (2,)]
        first = await conn.sync()
        assert first.generation is None and first.frames_pulled == 0
        on_primary(primary, "INSERT INTO t VALUES (3)")
        assert await rows(conn) == [(1,), (2,)]
        second = await conn.sync()
        assert second.frames_pulled > 0 and second.frame_no > first.frame_no
        assert await rows(conn) == [(1,), (2,), (3,)]
    assert stats(primary)["info_probes"] == 1
    assert (tmp_path / "r.db-client_wal_index").stat().st_size == 32
    assert not (tmp_path / "r.db-info").exists()


async def test_an_existing_replica_opens_from_its_files_without_asking_the_primary(
    primary: str, tmp_path: Path
) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "r.db"):
        pass
    before = stats(primary)
    async with replica(primary, tmp_path / "r.db") as conn:
        assert await rows(conn) == [(1,)]
    after = stats(primary)
    assert after.get("info_probes") == before.get("info_probes") and after.get("Hello") == before.get("Hello")


async def test_a_write_goes_to_the_primary_over_hrana_and_the_next_read_sees_it(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "r.db", sync_protocol="v1") as conn:
        await conn.execute("INSERT INTO t VALUES (7)")
        assert await rows(conn) == [(7,)]
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (8)")
        # Inside a transaction, reads go to the primary too.
        assert await rows(conn) == [(7,), (8,)]
        await conn.execute("COMMIT")
        assert await rows(conn) == [(7,), (8,)]
    assert control.rows_on_primary(primary, TOKEN) == [(7,), (8,)]


async def test_a_replica_behind_a_compacted_log_catches_up_from_a_snapshot(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "behind.db") as behind:
        on_primary(primary, "INSERT INTO t VALUES (2)", "UPDATE t SET x = x * 10")
        post(primary, "/_compact")
        on_primary(primary, "INSERT INTO t VALUES (3)")
        await behind.sync()
        assert await rows(behind) == [(3,), (10,), (20,)]
        assert await behind.execute_fetchall("PRAGMA integrity_check") == [("ok",)]
    async with replica(primary, tmp_path / "new.db") as new:
        assert await rows(new) == [(3,), (10,), (20,)]
    assert stats(primary)["Snapshot"] >= 2


async def test_a_primary_that_restarted_its_session_is_greeted_again(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "r.db") as conn:
        post(primary, "/_new_session")
        on_primary(primary, "INSERT INTO t VALUES (1)")
        await conn.sync()
        assert await rows(conn) == [(1,)]
    assert stats(primary)["Hello"] >= 2


async def test_a_primary_with_a_new_log_is_refused_rather_than_followed(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "r.db") as conn:
        post(primary, "/_reset_log")
        on_primary(primary, "INSERT INTO t VALUES (2)")
        with pytest.raises(aiolibsql.OperationalError, match="not the one this replica follows"):
            await conn.sync()
        # Nothing changed locally, and the replica still reads.
        assert await rows(conn) == [(1,)]


async def test_replicas_are_interchangeable_with_libsqls_rust_client(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    theirs = tmp_path / "theirs.db"
    assert judge(theirs, primary, "sync", "query", "SELECT x FROM t")[-1]["rows"] == [[1]]
    on_primary(primary, "INSERT INTO t VALUES (2)")
    async with replica(primary, theirs) as conn:
        await conn.sync()
        assert await rows(conn) == [(1,), (2,)]
    async with replica(primary, tmp_path / "ours.db") as conn:
        await conn.sync()
    on_primary(primary, "INSERT INTO t VALUES (3)")
    answers = judge(tmp_path / "ours.db", primary, "sync", "query", "SELECT x FROM t ORDER BY x")
    assert answers[-1]["rows"] == [[1], [2], [3]]


async def test_local_reads_go_on_through_faults_and_sync_says_why(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, tmp_path / "r.db") as conn:
        on_primary(primary, "INSERT INTO t VALUES (2)")
        for fault, message in (
            ("status500", "HTTP 500"),
            ("status401", "authentication"),
            ("garbage", "not sqld's replication log|damaged"),
            ("reset", "failed"),
        ):
            # A reset is retried once, as every read of the log may be.
            inject(primary, fault, count=2 if fault == "reset" else 1)
            with pytest.raises(aiolibsql.OperationalError, match=message):
                await conn.sync()
            assert await rows(conn) == [(1,)]
        await conn.sync()
        assert await rows(conn) == [(1,), (2,)]


async def test_a_wrong_token_fails_the_first_connect_with_an_authentication_error(primary: str, tmp_path: Path) -> None:
    with pytest.raises(aiolibsql.OperationalError, match="authentication"):
        await aiolibsql.connect(str(tmp_path / "r.db"), sync_url=primary, auth_token="wrong", sync_protocol="v1")


async def test_a_v1_replica_opened_as_v2_is_told_which_protocol_it_was_made_with(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, tmp_path / "r.db"):
        pass
    with pytest.raises(aiolibsql.OperationalError, match="replica made over sqld's replication log"):
        await replica(primary, tmp_path / "r.db", sync_protocol="v2")
    async with replica(primary, tmp_path / "r.db", sync_protocol="v1") as conn:
        assert await rows(conn) == []


async def test_offline_mode_and_the_wrong_protocol_are_refused_clearly(primary: str, tmp_path: Path) -> None:
    with pytest.raises(aiolibsql.NotSupportedError, match="no push"):
        await replica(primary, tmp_path / "offline.db", offline=True)
    with pytest.raises(aiolibsql.OperationalError, match="GET /info"):
        await replica(primary, tmp_path / "v2.db", sync_protocol="v2")
    with pytest.raises(ValueError, match="sync_protocol"):
        await replica(primary, tmp_path / "v3.db", sync_protocol="v3")
    with pytest.raises(aiolibsql.ProgrammingError, match="sync_protocol"):
        aiolibsql.connect(str(tmp_path / "plain.db"), sync_protocol="v1")


async def test_a_replica_killed_mid_pull_opens_consistent_and_resumes(primary: str, tmp_path: Path) -> None:
    # Some 300 pages in one transaction (the test primary checksums each
    # frame in Python, slowly under the sanitizers); the child is killed
    # waiting for it, after its handshake.
    path = tmp_path / "r.db"
    await kill_mid_pull_then_resume(primary, TOKEN, path, lambda: replica(primary, path), 300, 1)


async def test_a_pool_reads_the_replica_and_writes_through_the_primary(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with aiolibsql.create_pool(str(tmp_path / "r.db"), sync_url=primary, auth_token=TOKEN, size=3) as pool:

        async def write_then_read(value: int) -> list[Any]:
            await pool.execute("INSERT INTO t VALUES (?)", (value,))
            return list(await (await pool.execute("SELECT x FROM t WHERE x = ?", (value,))).fetchall())

        assert await asyncio.gather(*(write_then_read(value) for value in range(10))) == [
            [(value,)] for value in range(10)
        ]
        result = await pool.sync()
        assert result.generation is None


def test_the_blocking_module_makes_and_syncs_v1_replicas(primary: str, tmp_path: Path) -> None:
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    conn = dbapi.connect(str(tmp_path / "r.db"), sync_url=primary, auth_token=TOKEN, sync_protocol="v1")
    try:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
        on_primary(primary, "INSERT INTO t VALUES (2)")
        assert conn.sync().frames_pulled > 0
        assert conn.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]
    finally:
        conn.close()


def wal_frames(path: Path) -> int:
    """Frames in the replica's WAL (its checkpoints are off: the file only grows)."""
    wal = Path(str(path) + "-wal")
    return (wal.stat().st_size - 32) // (24 + 4096) if wal.exists() else 0


def metadata(path: Path) -> bytes:
    return Path(str(path) + "-client_wal_index").read_bytes()


def forge_metadata(path: Path, original: bytes, committed: int, pending_wal: int = 0, pending_frames: int = 0) -> None:
    forged = original[:16] + struct.pack("<QII", committed, pending_wal, pending_frames)
    Path(str(path) + "-client_wal_index").write_bytes(forged)


def committed_frame(path: Path) -> int:
    return int(struct.unpack_from("<Q", metadata(path), 16)[0])


async def test_two_connections_syncing_one_replica_never_apply_a_frame_twice(primary: str, tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, path) as first, replica(primary, path) as second:
        on_primary(primary, "UPDATE t SET x = 2", "UPDATE t SET x = 3")
        await first.sync()
        grown = wal_frames(path)
        # The second connection last saw the replica before those updates.
        result = await second.sync()
        assert result.frames_pulled == 0 and wal_frames(path) == grown
        assert await rows(first) == [(3,)] and await rows(second) == [(3,)]
        on_primary(primary, "UPDATE t SET x = 4")
        await second.sync()
        assert await rows(first) == [(4,)]


async def test_a_commit_whose_metadata_write_was_lost_is_never_applied_again(primary: str, tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    on_primary(primary, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    async with replica(primary, path) as conn:
        before = metadata(path)
        on_primary(primary, "UPDATE t SET x = 2")
        await conn.sync()
    after_frame, after_wal = committed_frame(path), wal_frames(path)
    # As a crash between the WAL's commit and the metadata's final write
    # leaves it: the commit recorded as pending.
    old_frame = int(struct.unpack_from("<Q", before, 16)[0])
    forge_metadata(path, before, old_frame, pending_wal=after_wal, pending_frames=after_frame - old_frame)
    async with replica(primary, path) as conn:
        result = await conn.sync()
        assert result.frames_pulled == 0 and result.frame_no == after_frame
        assert wal_frames(path) == after_wal
        assert await rows(conn) == [(2,)]


async def test_a_replica_ahead_of_the_primarys_log_is_refused(primary: str, tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, path):
        pass
    forge_metadata(path, metadata(path), 1_000_000)
    async with replica(primary, path) as conn:
        with pytest.raises(aiolibsql.OperationalError, match="make a new replica"):
            await conn.sync()


async def test_a_sync_waits_for_another_connection_holding_the_wals_write_lock(primary: str, tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    on_primary(primary, "CREATE TABLE t (x INTEGER)")
    async with replica(primary, path, timeout=30) as conn:
        on_primary(primary, "INSERT INTO t VALUES (1)")
        # A plain connection's write transaction stands in for another
        # process's pull.
        holder = dbapi.connect(str(path), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        sync = asyncio.ensure_future(conn.sync())
        # Still waiting while the lock is held (it used to fail at once with
        # "database is locked"); the holder never lets go before this.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(sync), 0.2)
        holder.execute("ROLLBACK")
        holder.close()
        assert (await sync).frames_pulled > 0
        assert await rows(conn) == [(1,)]
