"""Reaching the server at all: nothing listening, a server without TLS on an
https:// URL, and a certificate nobody vouches for each fail promptly with
an OperationalError, and the token never leaves the process unprotected."""

from __future__ import annotations

import pytest
from servers.launch import free_port, hrana_server
from servers.tls_server import untrusted_tls_server

import aiolibsql
import aiolibsql.dbapi as dbapi


async def test_nothing_listening_is_an_operational_error_when_connecting() -> None:
    with pytest.raises(aiolibsql.OperationalError, match="request to the remote database failed"):
        await aiolibsql.connect(f"http://127.0.0.1:{free_port()}")


async def test_a_server_without_tls_on_an_https_url_is_an_operational_error() -> None:
    with hrana_server() as url:
        with pytest.raises(aiolibsql.OperationalError, match="request to the remote database failed"):
            await aiolibsql.connect(url.replace("http://", "https://"), auth_token="secret-token")
        async with aiolibsql.connect(url) as conn:
            assert await conn.execute_fetchall("SELECT 1") == [(1,)]


async def test_a_certificate_nobody_vouches_for_is_refused_before_the_token_is_sent() -> None:
    with untrusted_tls_server() as (url, received):
        for target in (url, url.replace("https://", "libsql://")):
            with pytest.raises(aiolibsql.OperationalError, match="certificate") as raised:
                await aiolibsql.connect(target, auth_token="secret-token")
            assert "secret-token" not in str(raised.value)
        with pytest.raises(dbapi.OperationalError, match="certificate"):
            dbapi.connect(url, auth_token="secret-token")
    assert received == []
