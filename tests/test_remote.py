"""Remote databases over Hrana: what needs no server (URLs, arguments, a
server that is not there). The behaviour against servers is in tests/servers."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

import aiolibsql
import aiolibsql.dbapi as dbapi


@pytest.fixture(params=["connect", "create_pool"])
def open_remote(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Each way to open a remote database: one connection, or a pool of streams."""
    return getattr(aiolibsql, request.param)  # type: ignore[no-any-return]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("libsql://db.example?frobnicate=1", 'unsupported option "frobnicate"'),
        ("https://db.example?tls=0", "tls= is only for libsql://"),
        ("libsql://user@db.example", "user names"),
        ("libsql://", "cannot be parsed"),
    ],
)
def test_a_remote_url_the_driver_cannot_use_raises_interface_error_at_call_time(
    open_remote: Callable[..., Any], url: str, message: str
) -> None:
    with pytest.raises(aiolibsql.InterfaceError, match=message):
        open_remote(url)


@pytest.mark.parametrize("url", ["wss://db.example", "ws://db.example"])
def test_a_websocket_url_is_not_supported(open_remote: Callable[..., Any], url: str) -> None:
    with pytest.raises(aiolibsql.NotSupportedError, match="WebSocket"):
        open_remote(url)


@pytest.mark.parametrize(
    ("url", "token"),
    [("http://db.example", "good\r\nX-Injected: 1"), ("http://db.example?authToken=a%0d%0aX-Injected:%201", None)],
    ids=["argument", "url"],
)
def test_an_auth_token_with_a_line_break_is_refused_before_it_reaches_a_header(
    open_remote: Callable[..., Any], url: str, token: str | None
) -> None:
    with pytest.raises(aiolibsql.InterfaceError, match="control character") as raised:
        open_remote(url, auth_token=token)
    assert "Injected" not in str(raised.value)


def test_an_auth_token_that_is_not_a_str_is_a_type_error(open_remote: Callable[..., Any]) -> None:
    with pytest.raises(TypeError, match="auth_token"):
        open_remote("libsql://db.example", auth_token=b"token")  # type: ignore[arg-type]


def test_an_encryption_key_for_a_remote_database_is_not_supported(open_remote: Callable[..., Any]) -> None:
    with pytest.raises(aiolibsql.NotSupportedError, match="encryption_key"):
        open_remote("libsql://db.example", encryption_key="key")


async def test_a_server_that_is_not_there_is_an_operational_error_at_connect(open_remote: Callable[..., Any]) -> None:
    with pytest.raises(aiolibsql.OperationalError, match="request to the remote database failed") as raised:
        await open_remote(f"http://127.0.0.1:{closed_port()}", auth_token="secret-token-1234")
    assert "secret-token-1234" not in str(raised.value)
    # The driver still opens local databases afterwards.
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]


def test_pragmas_for_a_remote_pool_are_not_supported() -> None:
    with pytest.raises(aiolibsql.NotSupportedError, match="pragmas"):
        aiolibsql.create_pool("libsql://db.example", pragmas={"cache_size": 10})


def test_the_blocking_module_reports_a_server_that_is_not_there_as_operational_error() -> None:
    with pytest.raises(aiolibsql.OperationalError, match="request to the remote database failed"):
        dbapi.connect(f"http://127.0.0.1:{closed_port()}")


def test_executemany_chunks_are_counted_locally_and_sized_remotely() -> None:
    from aiolibsql._chunks import LOCAL_CHUNK_SETS, REMOTE_CHUNK_BYTES, parameter_chunks

    assert [len(chunk) for chunk in parameter_chunks(iter([(1,)] * 10_000), remote=False)] == [
        LOCAL_CHUNK_SETS,
        LOCAL_CHUNK_SETS,
        10_000 - 2 * LOCAL_CHUNK_SETS,
    ]
    assert [len(chunk) for chunk in parameter_chunks(iter([(1,)] * 10_000), remote=True)] == [10_000]
    blob = bytes(REMOTE_CHUNK_BYTES // 3)
    sizes = [len(chunk) for chunk in parameter_chunks(iter([{"b": blob}] * 5), remote=True)]
    assert sizes == [3, 2]
    # Something that is not a parameter set is passed on for the engine to refuse.
    assert list(parameter_chunks(iter([None, 5]), remote=True)) == [[None, 5]]
    assert list(parameter_chunks(iter([]), remote=True)) == []
