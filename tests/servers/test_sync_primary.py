"""The embedded replicas' test primary speaks libSQL's HTTP sync protocol:
the official ``libsql`` package's replicas bootstrap from it, pull what is
written there, push what they wrote offline, cross a generation and are told
of a conflict, before any replica of ours is tested against it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libsql
import pytest

from servers.launch import sync_primary

TOKEN = "sync-token"


@pytest.fixture
def url() -> Iterator[str]:
    with sync_primary("--auth-token", TOKEN) as base:
        yield base


def request(url: str, path: str, method: str = "GET", token: str | None = TOKEN) -> tuple[int, Any]:
    sent = urllib.request.Request(url + path, data=b"" if method == "POST" else None, method=method)
    if token is not None:
        sent.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def on_primary(url: str, *statements: str) -> None:
    connection = libsql.connect(url, auth_token=TOKEN)
    for statement in statements:
        connection.execute(statement)
    connection.commit()


def rows(connection: Any, sql: str = "SELECT x FROM t ORDER BY x") -> list[tuple[Any, ...]]:
    return list(connection.execute(sql).fetchall())


def replica(url: str, path: Path, offline: bool = False) -> Any:
    return libsql.connect(str(path), sync_url=url, auth_token=TOKEN, offline=offline)


def test_an_official_replica_bootstraps_and_pulls_what_the_primary_commits(url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1), (2)")
    local = replica(url, tmp_path / "replica.db")
    local.sync()
    assert rows(local) == [(1,), (2,)]
    on_primary(url, "INSERT INTO t VALUES (3)")
    local.sync()
    assert rows(local) == [(1,), (2,), (3,)]
    assert (tmp_path / "replica.db-info").exists()


def test_an_official_replica_writes_through_the_primary_and_reads_its_own_write(url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    local = replica(url, tmp_path / "replica.db")
    local.sync()
    local.execute("INSERT INTO t VALUES (7)")
    local.commit()
    assert rows(local) == [(7,)]
    assert rows(libsql.connect(url, auth_token=TOKEN)) == [(7,)]


def test_an_offline_replicas_push_reaches_the_primary_and_other_replicas(url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    writer = replica(url, tmp_path / "writer.db", offline=True)
    writer.sync()
    writer.execute("INSERT INTO t VALUES (1), (2)")
    writer.commit()
    writer.sync()
    assert rows(libsql.connect(url, auth_token=TOKEN)) == [(1,), (2,)]
    reader = replica(url, tmp_path / "reader.db")
    reader.sync()
    assert rows(reader) == [(1,), (2,)]
    _, stats = request(url, "/_sync_stats")
    assert stats["frames_pushed"] >= 1


def test_a_push_that_another_replica_got_in_before_is_a_conflict(url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    first = replica(url, tmp_path / "first.db", offline=True)
    second = replica(url, tmp_path / "second.db", offline=True)
    first.sync()
    second.sync()
    first.execute("INSERT INTO t VALUES (1)")
    first.commit()
    second.execute("INSERT INTO t VALUES (2)")
    second.commit()
    first.sync()
    with pytest.raises(ValueError, match="conflict"):
        second.sync()
    assert rows(libsql.connect(url, auth_token=TOKEN)) == [(1,)]


def test_replicas_cross_into_a_new_generation_and_new_ones_bootstrap_from_its_export(url: str, tmp_path: Path) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)", "INSERT INTO t VALUES (1)")
    old = replica(url, tmp_path / "old.db")
    old.sync()
    assert request(url, "/_generation", "POST") == (200, {"generation": 2})
    on_primary(url, "INSERT INTO t VALUES (2)")
    old.sync()
    assert rows(old) == [(1,), (2,)]
    new = replica(url, tmp_path / "new.db")
    new.sync()
    assert rows(new) == [(1,), (2,)]
    assert request(url, "/info") == (200, {"current_generation": 2})


def test_sync_requests_need_the_token(url: str) -> None:
    assert request(url, "/info", token=None)[0] == 401
    assert request(url, "/sync/1/1/129", token="wrong")[0] == 401


def test_a_pull_past_the_last_frame_says_which_generation_is_current(url: str) -> None:
    on_primary(url, "CREATE TABLE t (x INTEGER)")
    status, answer = request(url, "/sync/1/1000/1128")
    assert status == 400
    assert answer["generation"] == 1 and answer["status"] == "checkpoint_needed"
