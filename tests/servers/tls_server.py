"""A TLS server whose certificate nobody vouches for (self-signed, made by
openssl for 127.0.0.1 at start): it completes a handshake only with a client
that does not verify, and records what such a client sent after it."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path


def _self_signed_context(directory: Path) -> ssl.SSLContext:
    certificate, key = directory / "certificate.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    command += ["-keyout", str(key), "-out", str(certificate), "-days", "1", "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(command, check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    return context


@contextlib.contextmanager
def untrusted_tls_server() -> Iterator[tuple[str, list[bytes]]]:
    """Yields the server's https:// URL and the bytes clients sent it after a handshake."""
    with tempfile.TemporaryDirectory() as directory:
        context = _self_signed_context(Path(directory))
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # the listener was shut down
            with connection, contextlib.suppress(OSError):
                with context.wrap_socket(connection, server_side=True) as tls:
                    received.append(tls.recv(65536))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join()
