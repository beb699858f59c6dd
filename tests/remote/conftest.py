"""Every remote test runs against each server that supports what it needs.

A test names what it needs with ``@pytest.mark.needs("batons", ...)``; a
server without it does not run that test, and the run ends with the counts
of tests run per server and the names of those a server cannot run, so
nothing is skipped silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from servers.launch import Remote, Server, hrana_server, tursodb

ALL_FEATURES = frozenset(
    {
        "batons",  # interactive transactions: a stream kept between requests
        "hrana3",  # /v3 pipelines: get_autocommit, close, sequence
        "cursors",  # /v3/cursor: rows streamed as they are fetched
        "sequence",  # executescript
        "row_counts",  # affected_row_count and last_insert_rowid
        "pragmas",  # SQLite's pragmas (SQLAlchemy reads some on connect)
        "named_args",  # statement arguments by name
        "faults",  # fault injection through POST /_fault (our test server)
    }
)

SERVERS = [
    # A real server nobody here wrote, but partial: /v2/pipeline with execute
    # and batch only, no batons, affected_row_count 0, last_insert_rowid null,
    # and named arguments bound as NULL.
    Server("tursodb", tursodb, frozenset()),
    # Ours, proved against the official clients in tests/servers: everything.
    Server("hrana", hrana_server, ALL_FEATURES),
]

_ran: dict[str, int] = {server.name: 0 for server in SERVERS}
_unsupported: dict[str, list[str]] = {server.name: [] for server in SERVERS}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*features): server features the test needs (see tests/remote)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "remote" not in metafunc.fixturenames:
        return
    needs: set[str] = set()
    for marker in metafunc.definition.iter_markers("needs"):
        needs.update(marker.args)
    unknown = needs - ALL_FEATURES
    assert not unknown, f"unknown features {unknown} in {metafunc.definition.nodeid}"
    servers = []
    # A test no server here can run would be skipped: refuse to collect it.
    assert any(needs <= server.supports for server in SERVERS), (
        f"{metafunc.definition.nodeid} needs {sorted(needs)}, which no test server supports"
    )
    for server in SERVERS:
        if needs <= server.supports:
            servers.append(server)
        else:
            _unsupported[server.name].append(
                f"{metafunc.definition.name} (needs {', '.join(sorted(needs - server.supports))})"
            )
    metafunc.parametrize("remote_server", servers, ids=[server.name for server in servers], indirect=True)


@pytest.fixture
def remote_server(request: pytest.FixtureRequest) -> Server:
    server: Server = request.param
    return server


@pytest.fixture
def remote(remote_server: Server) -> Iterator[Remote]:
    """A fresh server of the kind the test is parametrized with."""
    with remote_server.start() as url:
        yield Remote(remote_server, url)
    _ran[remote_server.name] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not any(_ran.values()) and not any(_unsupported.values()):
        return
    terminalreporter.section("remote servers")
    for server in SERVERS:
        terminalreporter.write_line(f"{server.name}: {_ran[server.name]} tests run")
        for name in _unsupported[server.name]:
            terminalreporter.write_line(f"  not supported by {server.name}: {name}")
