"""Starts the servers remote tests talk to, on 127.0.0.1 and free ports, and
stops them afterwards."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

SERVERS = Path(__file__).resolve().parent
# A hang guard, not a timing assumption: a server is ready long before.
READY_WITHIN_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tursodb_binary() -> Path:
    """tursodb from the npm package ``turso`` (its platform package holds the binary)."""
    found = sorted((SERVERS / "node_modules" / "@tursodatabase").glob("cli-*/tursodb"))
    if not found:
        raise RuntimeError("tursodb is not installed: run `make setup` (npm ci in tests/servers)")
    return found[0]


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_until_listening(process: subprocess.Popen[bytes], port: int) -> bool:
    """True once `port` accepts connections; False if the process exits first
    (another process took the port meanwhile)."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if _accepts_connections(port):
            return True
        # tursodb says nothing when it listens: wait on its exit for a moment,
        # which also notices a server that failed to start.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.01)
            return False
    raise RuntimeError(f"the server on port {port} did not start listening")


@contextlib.contextmanager
def tursodb(database: str = ":memory:") -> Iterator[str]:
    """A tursodb sync server on `database`; yields its base URL."""
    for _ in range(5):
        port = free_port()
        process = subprocess.Popen(
            [str(tursodb_binary()), "-q", database, "--sync-server", f"127.0.0.1:{port}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if wait_until_listening(process, port):
            break
        process.wait()
    else:
        raise RuntimeError("tursodb could not start on a free port")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_python() -> str:
    """An interpreter for the test server: 3.11 or later, whose sqlite3 names
    each error's code as sqld does, whichever Python the tests run on. The
    project's own environment comes first: it has the servers' packages."""
    if sys.version_info >= (3, 11):
        return sys.executable
    project_python = SERVERS.parent.parent / ".venv" / "bin" / "python"
    for candidate in (str(project_python), "python3", "python3.13", "python3.12", "python3.11"):
        path = candidate if os.path.isabs(candidate) and os.access(candidate, os.X_OK) else shutil.which(candidate)
        if path is None:
            continue
        version = subprocess.run(
            [path, "-c", "import sys; print(sys.version_info >= (3, 11))"], capture_output=True, text=True
        ).stdout
        if version.strip() == "True":
            return path
    raise RuntimeError("the Hrana test server needs Python 3.11 or later on PATH")


@contextlib.contextmanager
def hrana_server(*options: str) -> Iterator[str]:
    """Our Hrana test server (hrana_server.py) with `options`; yields its base URL."""
    with hrana_server_process(*options) as (url, _):
        yield url


@contextlib.contextmanager
def sync_primary(*options: str) -> Iterator[str]:
    """Our embedded replicas' primary (sync_primary.py) with `options`; yields its base URL."""
    with hrana_server_process(*options, script="sync_primary.py") as (url, _):
        yield url


@contextlib.contextmanager
def replication_log_primary(*options: str) -> Iterator[str]:
    """The v1 replicas' primary (replication_log_primary.py) with `options`; yields its base URL."""
    with hrana_server_process(*options, script="replication_log_primary.py") as (url, _):
        yield url


def judge_v1() -> Path:
    """libSQL's own Rust replica client (tests/servers/judge_v1), built by
    cargo into the build directory as `make test` builds it, or $JUDGE_V1."""
    if "JUDGE_V1" in os.environ:
        return Path(os.environ["JUDGE_V1"])
    manifest = SERVERS / "judge_v1" / "Cargo.toml"
    target = SERVERS.parent.parent / "build" / "judge_v1"
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    subprocess.run(
        [cargo, "build", "--quiet", "--locked", "--manifest-path", str(manifest), "--target-dir", str(target)],
        check=True,
    )
    return target / "debug" / "judge_v1"


@contextlib.contextmanager
def hrana_server_process(*options: str, script: str = "hrana_server.py") -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """As `hrana_server`, also yielding the process, for tests that kill it."""
    process = subprocess.Popen(
        [server_python(), str(SERVERS / script), *options],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        ready = process.stdout.readline()
        if not ready.startswith("listening "):
            raise RuntimeError(f"the Hrana test server did not start: {ready!r}")
        yield "http://" + ready.split()[1], process
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=READY_WITHIN_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Server:
    """A kind of server the remote tests run against."""

    name: str
    start: Callable[[], contextlib.AbstractContextManager[str]]
    # What it does of what clients use (see the `needs` marker in tests/remote).
    supports: frozenset[str]


@dataclass(frozen=True)
class Remote:
    """One running server: its kind and its base URL."""

    server: Server
    url: str
