"""Reaching the server at all: nothing listening, a server without TLS on an
https:// URL, and a certificate nobody vouches for each fail promptly with
an OperationalError, and the token never leaves the process unprotected.
Over TLS, a server offering HTTP/2 carries concurrent statements on one
connection."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from urllib.parse import urlsplit

import pytest
from servers.launch import free_port, hrana_server
from servers.tls_server import http2_tls_proxy, untrusted_tls_server

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


CONCURRENT_SELECTS = """
import asyncio, sys
import aiolibsql

async def main():
    connections = await asyncio.gather(*(aiolibsql.connect(sys.argv[1], autocommit=True) for _ in range(30)))
    results = await asyncio.gather(*(c.execute_fetchall("SELECT ?", (i,)) for i, c in enumerate(connections)))
    assert results == [[(i,)] for i in range(30)], results
    await asyncio.gather(*(c.close() for c in connections))

asyncio.run(main())
"""


def test_over_http2_concurrent_statements_share_one_connection_once_ssl_cert_file_trusts_the_server() -> None:
    # In processes of their own: the transport reads SSL_CERT_FILE when it starts.
    def run(extra_environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        command = [sys.executable, "-c", textwrap.dedent(CONCURRENT_SELECTS), url]
        return subprocess.run(command, env=environment | extra_environment, capture_output=True, text=True, timeout=120)

    with hrana_server() as upstream, http2_tls_proxy(urlsplit(upstream).port or 80) as (url, certificate, access_log):
        refused = run({})
        assert refused.returncode != 0
        assert "certificate" in refused.stderr, refused.stderr
        trusted = run({"SSL_CERT_FILE": str(certificate)})
        assert trusted.returncode == 0, trusted.stderr
        requests = [line.split() for line in access_log.read_text().splitlines()]
    # Each connect's version check and each select, all multiplexed.
    assert len(requests) >= 60
    assert {protocol for _, protocol in requests} == {"h2"}
    assert len({client_port for client_port, _ in requests}) == 1
