"""The "v1" embedded replicas' test primary speaks sqld's replication log
(gRPC-web): libSQL's own Rust crate (judge_v1, ``Builder::new_remote_replica``)
bootstraps a replica from it, pulls what is written there over Hrana, writes
through it, recovers from a compaction with a snapshot and is refused with a
bad token, before any replica of ours is tested against it. The rest checks
the wire facts a replica relies on, call by call."""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# isort: split
from servers.control import inject
from servers.launch import judge_v1, replication_log_primary

HERE = Path(__file__).resolve().parent
TOKEN = "v1-token"


def _load_proto(path: Path) -> dict[str, Any]:
    spec = importlib.util.spec_from_file_location("proto_runtime", HERE / "proto_runtime.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.load_messages(path))


def _replication_proto() -> Path:
    if "REPLICATION_LOG_PROTO" in os.environ:
        return Path(os.environ["REPLICATION_LOG_PROTO"])
    return next(d / "src/core/replica/proto/replication_log.proto" for d in HERE.parents if (d / "src").is_dir())


WAL = _load_proto(_replication_proto())


@pytest.fixture(scope="session")
def judge() -> Path:
    return judge_v1()


@pytest.fixture
def url() -> Iterator[str]:
    with replication_log_primary("--auth-token", TOKEN) as base:
        yield base


def run_judge(judge: Path, db: Path, url: str, *commands: str, token: str = TOKEN) -> list[Any]:
    """The judge's JSON answers, one per command (an error ends them)."""
    done = subprocess.run([str(judge), str(db), url, token, *commands], capture_output=True, text=True, timeout=60)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode in (0, 2), done.stderr
    return answers


def rows_of(answers: list[Any]) -> list[list[Any]]:
    assert "rows" in answers[-1], answers
    return list(answers[-1]["rows"])


def on_primary(url: str, *statements: str) -> list[Any]:
    """Runs `statements` on the primary over Hrana (one pipeline); the rows of the last."""
    requests = [{"type": "execute", "stmt": {"sql": sql}} for sql in statements] + [{"type": "close"}]
    body = json.dumps({"baton": None, "requests": requests}).encode()
    sent = urllib.request.Request(url + "/v3/pipeline", data=body, headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(sent, timeout=30) as response:
        results = json.loads(response.read())["results"]
    assert all(result["type"] == "ok" for result in results), results
    rows = results[-2]["response"]["result"]["rows"]
    return [[int(cell["value"]) if cell["type"] == "integer" else cell.get("value") for cell in row] for row in rows]


def control(url: str, path: str) -> Any:
    data = b"{}" if path != "/_sync_stats" else None
    with urllib.request.urlopen(urllib.request.Request(url + path, data=data), timeout=30) as response:
        return json.loads(response.read())


def grpc(url: str, method: str, message: bytes, **headers: str) -> tuple[dict[str, str], list[tuple[int, bytes]]]:
    """One gRPC-web call: the answer's headers and its frames (flag, payload)."""
    body = struct.pack(">BI", 0, len(message)) + message
    sent = urllib.request.Request(url + method, data=body, headers={"Content-Type": "application/grpc-web", **headers})
    with urllib.request.urlopen(sent, timeout=30) as response:
        assert response.status == 200
        answer = response.read()
        found = {name.lower(): value for name, value in response.headers.items()}
    frames = []
    while answer:
        flag, length = struct.unpack_from(">BI", answer)
        frames.append((flag, answer[5 : 5 + length]))
        answer = answer[5 + length :]
    return found, frames


def hello(url: str) -> Any:
    headers, frames = grpc(url, "/wal_log.ReplicationLog/Hello", b"\x08\x01", authorization=f"Bearer {TOKEN}")
    assert headers["content-type"] == "application/grpc-web+proto" and frames[-1] == (0x80, b"grpc-status:0\r\n")
    return WAL["HelloResponse"].FromString(frames[0][1])


def log_call(url: str, method: str, offset: int, session: str | None) -> tuple[dict[str, str], list[tuple[int, bytes]]]:
    headers = {"x-authorization": f"Bearer {TOKEN}"}
    if session is not None:
        headers["x-session-token"] = session
    offset_message = WAL["LogOffset"](next_offset=offset).SerializeToString()
    return grpc(url, f"/wal_log.ReplicationLog/{method}", offset_message, **headers)


def frame_header(data: bytes) -> tuple[int, int, int, int]:
    assert len(data) == 24 + 4096
    return struct.unpack_from("<QQII", data)


# -- libSQL's replica against the primary -----------------------------------


def test_a_libsql_replica_bootstraps_and_pulls_what_the_primary_commits(judge: Path, url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1), (2)")
    replica = tmp_path / "replica.db"
    first = run_judge(judge, replica, url, "sync", "query", "SELECT x FROM t ORDER BY x")
    assert rows_of(first) == [[1], [2]]
    on_primary(url, "INSERT INTO t VALUES (3)")
    on_primary(url, "INSERT INTO t VALUES (4)")
    second = run_judge(judge, replica, url, "sync", "query", "SELECT x FROM t ORDER BY x")
    assert rows_of(second) == [[1], [2], [3], [4]]
    # The log went on (how many frames two commits make depends on the
    # server's SQLite and on whether a pull came between them).
    assert second[0]["frame_no"] > first[0]["frame_no"]
    assert (tmp_path / "replica.db-client_wal_index").exists()
    stats = control(url, "/_sync_stats")
    # The crate asked GET /info first, and chose v1 for its 404.
    assert stats["info_probes"] == 2 and stats["Hello"] >= 2 and stats["BatchLogEntries"] >= 2


def test_a_libsql_replica_writes_through_the_primary_and_reads_its_own_write(
    judge: Path, url: str, tmp_path: Path
) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER, y TEXT)")
    replica = tmp_path / "replica.db"
    answers = run_judge(
        judge,
        replica,
        url,
        "sync",
        "execute",
        "INSERT INTO t VALUES (1, 'one')",
        "execute-with",
        "INSERT INTO t VALUES (?, ?)",
        '[2, "two"]',
        "prepare-execute",
        "INSERT INTO t VALUES (?, ?)",
        "[3, null]",
        "query",
        "SELECT x, y FROM t ORDER BY x",
    )
    assert answers[1:4] == [{"changes": 1}] * 3
    written = [[1, "one"], [2, "two"], [3, None]]
    assert rows_of(answers) == written
    assert on_primary(url, "SELECT x, y FROM t ORDER BY x") == written
    other = run_judge(judge, tmp_path / "other.db", url, "sync", "query", "SELECT count(*) FROM t")
    assert rows_of(other) == [[3]]
    stats = control(url, "/_sync_stats")
    assert stats["Execute"] == 3 and stats["Describe"] == 1


def test_a_libsql_replica_sends_programs_of_several_statements(judge: Path, url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER PRIMARY KEY)")
    replica = tmp_path / "replica.db"
    answers = run_judge(
        judge,
        replica,
        url,
        "batch",
        "BEGIN; INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); COMMIT;",
        "transactional-batch",
        "INSERT INTO t VALUES (3); INSERT INTO t VALUES (4);",
        "query",
        "SELECT x FROM t ORDER BY x",
    )
    assert rows_of(answers) == [[1], [2], [3], [4]]
    # A failing statement rolls its transactional batch back (the crate's conditions).
    statements = "INSERT INTO t VALUES (5); INSERT INTO t VALUES (1);"
    failed = run_judge(judge, replica, url, "transactional-batch", statements)
    assert "UNIQUE" in failed[-1]["error"]
    assert on_primary(url, "SELECT count(*) FROM t") == [[4]]


def test_a_libsql_replica_pulls_a_transaction_bigger_than_a_batch(judge: Path, url: str, tmp_path: Path) -> None:
    # About 1100 pages in one transaction: a batch of 1024 frames ends at its commit.
    on_primary(url, "CREATE TABLE t (b BLOB)", "INSERT INTO t VALUES (zeroblob(4500000))")
    on_primary(url, "INSERT INTO t VALUES (x'01')")
    answers = run_judge(judge, tmp_path / "replica.db", url, "sync", "query", "SELECT length(b) FROM t ORDER BY rowid")
    assert rows_of(answers) == [[4500000], [1]]
    assert answers[0]["frame_no"] > 1024


def test_a_libsql_replica_recovers_from_a_compaction_with_a_snapshot(judge: Path, url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    old = tmp_path / "old.db"
    assert rows_of(run_judge(judge, old, url, "sync", "query", "SELECT x FROM t")) == [[1]]
    on_primary(url, "INSERT INTO t VALUES (2)")
    compacted = control(url, "/_compact")
    on_primary(url, "INSERT INTO t VALUES (3)")
    # The old replica's next frame was compacted away; a new one starts before it.
    assert rows_of(run_judge(judge, old, url, "sync", "query", "SELECT x FROM t ORDER BY x")) == [[1], [2], [3]]
    new = run_judge(judge, tmp_path / "new.db", url, "sync", "query", "SELECT x FROM t ORDER BY x")
    assert rows_of(new) == [[1], [2], [3]]
    assert new[0]["frame_no"] == compacted["log_start"]
    stats = control(url, "/_sync_stats")
    assert stats["Snapshot"] == 2 and stats["need_snapshot"] >= 2 and stats["compactions"] == 1


def test_a_libsql_replica_survives_a_failed_call(judge: Path, url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    inject(url, "status500")
    assert rows_of(run_judge(judge, tmp_path / "replica.db", url, "sync", "query", "SELECT x FROM t")) == [[1]]


def test_a_libsql_replica_with_a_wrong_token_is_refused(judge: Path, url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    answers = run_judge(judge, tmp_path / "replica.db", url, "sync", token="wrong")
    assert "error" in answers[-1] and "handshake" in answers[-1]["error"]
    assert control(url, "/_sync_stats")["unauthenticated"] >= 1


# -- the wire, call by call ----------------------------------------------------


def test_hello_names_the_log_and_its_last_frame(url: str) -> None:
    # A new primary's log holds one frame: the page SQLite writes for a new
    # database in WAL mode, a transaction of its own (the database's size: 1).
    first = hello(url)
    assert first.current_replication_index == 0 and first.generation_start_index == 0
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    answer = hello(url)
    for text in (answer.log_id, answer.generation_id, answer.session_token.decode()):
        uuid.UUID(text)
    assert answer.log_id == first.log_id and answer.current_replication_index == 2
    _, frames = log_call(url, "BatchLogEntries", 0, answer.session_token.decode())
    got = [frame_header(frame.data) for frame in WAL["Frames"].FromString(frames[0][1]).frames]
    assert [(no, page, size) for no, _, page, size in got] == [(0, 1, 1), (1, 1, 0), (2, 2, 2)]


def test_log_calls_need_the_session_token_of_a_hello(url: str) -> None:
    for session in (None, str(uuid.uuid4())):
        headers, frames = log_call(url, "BatchLogEntries", 0, session)
        assert (headers["grpc-status"], headers["grpc-message"], frames) == ("9", "NO_HELLO", [])
    token = hello(url).session_token.decode()
    control(url, "/_new_session")
    assert log_call(url, "BatchLogEntries", 0, token)[0]["grpc-status"] == "9"


def test_a_pull_past_the_last_frame_answers_no_frames(url: str) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    session = hello(url).session_token.decode()
    for offset in (3, 1000):
        headers, frames = log_call(url, "BatchLogEntries", offset, session)
        assert "grpc-status" not in headers and len(WAL["Frames"].FromString(frames[0][1]).frames) == 0
        assert frames[1] == (0x80, b"grpc-status:0\r\n")


def test_log_entries_streams_one_message_per_frame_with_chained_checksums(url: str) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    on_primary(url, "INSERT INTO t VALUES (1)")
    session = hello(url).session_token.decode()
    _, frames = log_call(url, "LogEntries", 0, session)
    # How many frames the two commits make depends on the server's SQLite.
    assert len(frames) >= 3 and [flag for flag, _ in frames] == [0] * (len(frames) - 1) + [0x80]
    assert frames[-1][1] == b"grpc-status:0\r\n"
    decoded = [WAL["Frame"].FromString(payload) for _, payload in frames[:-1]]
    headers = [frame_header(frame.data) for frame in decoded]
    assert [no for no, *_ in headers] == list(range(len(headers)))
    # A commit frame carries the commit's time; the others none.
    assert [frame.HasField("timestamp") for frame in decoded] == [size != 0 for *_, size in headers]
    # CRC-64/GO-ISO, each register starting from the previous checksum bit-reversed.
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xD800000000000000 if crc & 1 else crc >> 1
        table.append(crc)
    previous = 0
    for frame, (_, checksum, _, _) in zip(decoded, headers, strict=True):
        register = int(f"{previous:064b}"[::-1], 2)
        for byte in frame.data[24:]:
            register = table[(register ^ byte) & 0xFF] ^ (register >> 8)
        assert checksum == register ^ 0xFFFFFFFFFFFFFFFF
        previous = checksum


def test_after_a_compaction_old_offsets_need_the_snapshot_newest_frame_first(url: str) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    on_primary(url, "INSERT INTO t VALUES (1)")
    session = hello(url).session_token.decode()
    assert log_call(url, "Snapshot", 0, session)[0]["grpc-status"] == "14"
    compacted = control(url, "/_compact")
    end = compacted["snapshot_end"]
    assert compacted["log_start"] == end + 1
    headers, _ = log_call(url, "BatchLogEntries", 0, session)
    assert (headers["grpc-status"], headers["grpc-message"]) == ("9", "NEED_SNAPSHOT")
    _, streamed = log_call(url, "LogEntries", 1, session)
    assert streamed == [(0x80, b"grpc-status:9\r\ngrpc-message:NEED_SNAPSHOT\r\n")]
    _, frames = log_call(url, "Snapshot", 0, session)
    snapshot = [frame_header(WAL["Frame"].FromString(payload).data) for flag, payload in frames if flag == 0]
    # Each page once, in its newest frame, newest first; the database's size
    # (its page count) on the last frame only.
    numbers = [no for no, _, _, _ in snapshot]
    pages = [page for _, _, page, _ in snapshot]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] == end
    assert sorted(pages) == list(range(1, len(pages) + 1))
    assert [size for _, _, _, size in snapshot] == [0] * (len(snapshot) - 1) + [len(pages)]
    # From a later offset: only the frames from there on.
    _, later = log_call(url, "Snapshot", end, session)
    assert [frame_header(WAL["Frame"].FromString(p).data)[0] for f, p in later if f == 0] == [end]
    assert log_call(url, "BatchLogEntries", end + 1, session)[0].get("grpc-status") is None


def test_calls_need_the_token(url: str) -> None:
    missing = grpc(url, "/wal_log.ReplicationLog/Hello", b"")[0]
    wrong = grpc(url, "/wal_log.ReplicationLog/Hello", b"", authorization="Bearer wrong")[0]
    assert missing["grpc-status"] == "13" and wrong["grpc-status"] == "16"
    unknown = grpc(url, "/proxy.Proxy/StreamExec", b"", authorization=f"Bearer {TOKEN}")[0]
    assert unknown["grpc-status"] == "12"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url + "/info", timeout=30)
    assert info.value.code == 404


def test_a_reset_log_has_a_new_id_and_starts_with_the_whole_database(url: str) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    before = hello(url)
    reset = control(url, "/_reset_log")
    after = hello(url)
    assert after.log_id == reset["log_id"] != before.log_id
    assert after.current_replication_index == reset["frames"] - 1
