"""What a test asks the running Hrana test server (hrana_server.py) or
replicas' primary (sync_primary.py): faults for its next requests, whether a
request is stalling there, and counts. Each takes the server or its URL."""

from __future__ import annotations

import json
import urllib.request

from servers.launch import Remote


def _url(server: Remote | str) -> str:
    return server if isinstance(server, str) else server.url


def inject(server: Remote | str, kind: str, count: int = 1, delay: float = 0, skip: int = 0) -> None:
    """`count` Hrana (or sync) requests to the server, after the next `skip`, fail as `kind` says."""
    body = json.dumps({"kind": kind, "count": count, "delay": delay, "skip": skip}).encode()
    with urllib.request.urlopen(urllib.request.Request(_url(server) + "/_fault", data=body), timeout=30):
        pass


def wait_until_stalling(server: Remote | str, count: int = 1) -> None:
    """Returns once `count` requests reached the server and stall there."""
    with urllib.request.urlopen(_url(server) + f"/_stalled?count={count}", timeout=60) as response:
        assert response.status == 200


def release_stalled(server: Remote | str) -> None:
    """Requests stalling on the server answer now."""
    with urllib.request.urlopen(urllib.request.Request(_url(server) + "/_release", data=b"{}"), timeout=30):
        pass


def served(url: str, what: str = "pipelines") -> int:
    """How many of `what` the server at `url` has served (its GET /_stats)."""
    with urllib.request.urlopen(url + "/_stats", timeout=30) as response:
        return int(json.loads(response.read()).get(what, 0))


def round_trips_served(remote: Remote) -> int:
    """Every Hrana request the server answered: pipelines, cursors and v1 requests."""
    return served(remote.url, "round_trips")


def on_primary(url: str, token: str | None, *statements: str) -> None:
    """Runs `statements` on the database at `url` through the official libsql client, then commits."""
    import libsql

    connection = libsql.connect(url, auth_token=token or "")
    for statement in statements:
        connection.execute(statement)
    connection.commit()


def rows_on_primary(url: str, token: str | None, sql: str = "SELECT x FROM t ORDER BY x") -> list[tuple[object, ...]]:
    """What `sql` returns on the database at `url`, through the official libsql client."""
    import libsql

    return list(libsql.connect(url, auth_token=token or "").execute(sql).fetchall())
