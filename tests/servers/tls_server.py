"""A TLS server whose certificate nobody vouches for (self-signed, made by
openssl for 127.0.0.1 at start): it completes a handshake only with a client
that does not verify, and records what such a client sent after it."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from servers.launch import free_port, wait_until_listening


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that vouches for itself, and its key, in `directory`."""
    certificate, key = directory / "certificate.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    command += ["-keyout", str(key), "-out", str(certificate), "-days", "1", "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(command, check=True, capture_output=True)
    return certificate, key


def _self_signed_context(directory: Path) -> ssl.SSLContext:
    certificate, key = self_signed_certificate(directory)
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


@contextlib.contextmanager
def http2_tls_proxy(upstream_port: int) -> Iterator[tuple[str, Path, Path]]:
    """nghttpx (Debian's nghttp2-proxy) serving HTTP/2 and HTTP/1.1 over TLS
    in front of a plain HTTP server on `upstream_port`, with a self-signed
    certificate. Yields its https:// URL, the certificate (to trust through
    SSL_CERT_FILE) and its access log: per request, the client's port and the
    protocol TLS agreed on."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        certificate, key = self_signed_certificate(directory)
        access_log = directory / "access.log"
        port = free_port()
        command = [shutil.which("nghttpx") or "/usr/sbin/nghttpx", "--conf=/dev/null", "--no-ocsp", "--workers=1"]
        command += [f"--frontend=127.0.0.1,{port}"]
        command += [f"--backend=127.0.0.1,{upstream_port}", f"--accesslog-file={access_log}"]
        command += ["--accesslog-format=$remote_port $alpn", f"--errorlog-file={directory / 'error.log'}"]
        process = subprocess.Popen([*command, str(key), str(certificate)], stdin=subprocess.DEVNULL)
        try:
            if not wait_until_listening(process, port):
                raise RuntimeError(f"nghttpx did not start: {(directory / 'error.log').read_text()}")
            yield f"https://127.0.0.1:{port}", certificate, access_log
        finally:
            process.terminate()
            process.wait()
