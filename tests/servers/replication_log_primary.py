"""A primary for "v1" embedded-replica tests: the Hrana test server, plus
sqld's replication log service and the part of its write proxy that replicas
use, as gRPC-web over HTTP/1.1 on the same port.

gRPC-web: a call is ``POST /<package>.<Service>/<Method>`` with
``content-type: application/grpc-web`` (or ``+proto``) and a body of frames,
each a flag byte (0 data, 0x80 trailers), a big-endian u32 length and a
protobuf message (libSQL's crate sends it with chunked transfer encoding).
An answer is HTTP 200 with data frames and then a trailers frame
(``grpc-status:0\\r\\n``), chunked; a call refused before any answer carries
``grpc-status``/``grpc-message`` as HTTP headers and has an empty body.
Messages are encoded by the ``protobuf`` package, its classes made at start-up
from the .proto files (proto_runtime.py).

The log: frame numbers start at 0; a frame is a 24-byte little-endian header
(frame number, rolling CRC-64 checksum, page number, database size in pages on
a transaction's commit frame and 0 on the others) and one 4096-byte page. The
frames are made by the v2 sync primary (sync_primary.py: checkpoint, then the
pages that changed), after every Hrana or proxied request that wrote and
before every pull, and get their v1 header here. The log has a UUID (log id)
and a generation UUID, both fixed for the server's life. It begins with the
database as the server found it (a new file: the one page SQLite writes for
WAL mode), as one transaction.

* ``wal_log.ReplicationLog/Hello`` -> log id, generation id (its first frame
  is 0), the session token (a UUID) and the last frame number (absent while
  the log is empty). Every other call carries the token back as
  ``x-session-token``; a missing or stale one gets FAILED_PRECONDITION (9)
  ``NO_HELLO``, and the replica says hello again.
* ``BatchLogEntries(next_offset)`` -> frames from next_offset on, at most 1024
  (then up to the end of that transaction). Past the last frame: no frames,
  which is how a replica learns it is up to date. Before the log's first
  frame (the log was compacted): FAILED_PRECONDITION ``NEED_SNAPSHOT``.
* ``LogEntries(next_offset)`` -> the same frames as a stream, one message
  each; NEED_SNAPSHOT comes as the stream's trailers. sqld keeps the stream
  open for new frames; this server ends it once it has sent what it has.
* ``Snapshot(next_offset)`` -> the newest version of every page written by
  the frames the compaction took from the log, those numbered next_offset or
  later, newest frame first; only the last frame sent carries the database's
  size. No snapshot covers next_offset: UNAVAILABLE ``snapshot not found``.
* ``proxy.Proxy/Execute`` runs a program of statements on the connection of
  its client_id (values are bincode-encoded, see proxy.proto) and answers with
  each step's result, the connection's transaction state and the last frame
  number; ``Describe`` describes one statement; ``Disconnect`` drops the
  connection.

With --auth-token every call needs ``x-authorization`` (what libSQL's crate
sends) or ``authorization`` as ``Bearer TOKEN``: a wrong one gets
UNAUTHENTICATED (16), a missing one INTERNAL (13), as sqld answers. GET /info
answers 404, as sqld does, which makes libSQL's crate choose this protocol.

Controls for tests: POST /_compact moves the log into a snapshot (the next
pull from before its end needs Snapshot); POST /_new_session changes the
session token; POST /_reset_log starts a new log (new log id, the whole
database as its first transaction); GET /_sync_stats counts calls and frames;
POST /_fault as in the Hrana test server also applies to gRPC calls.

    python replication_log_primary.py [--database PATH] [--auth-token TOKEN] [--port PORT]

It prints ``listening 127.0.0.1:PORT`` once ready and serves until its
standard input closes. The project's replication_log.proto is found above this
file (src/core/replica/proto) or at $REPLICATION_LOG_PROTO; proxy.proto sits
next to this file.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import struct
import tempfile
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrana_server import HranaError, Stream, serve_until_stdin_closes, value_from_json, value_to_json
from sync_primary import FRAME_HEADER_SIZE, PAGE_SIZE, SyncHandler, SyncPrimary, frame_commit_size, frame_page

# isort: split
from proto_runtime import load_messages

HERE = Path(__file__).resolve().parent
MAX_FRAMES_PER_BATCH = 1024
# gRPC status codes.
OK, INVALID_ARGUMENT, PERMISSION_DENIED, FAILED_PRECONDITION = 0, 3, 7, 9
UNIMPLEMENTED, INTERNAL, UNAVAILABLE, UNAUTHENTICATED = 12, 13, 14, 16


def replication_proto() -> Path:
    if "REPLICATION_LOG_PROTO" in os.environ:
        return Path(os.environ["REPLICATION_LOG_PROTO"])
    for directory in HERE.parents:
        candidate = directory / "src/core/replica/proto/replication_log.proto"
        if candidate.exists():
            return candidate
    raise FileNotFoundError("replication_log.proto: set REPLICATION_LOG_PROTO")


WAL = load_messages(replication_proto())
PROXY = load_messages(HERE / "proxy.proto")


class GrpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- frames ----------------------------------------------------------------


def crc64_table() -> list[int]:
    """CRC-64/GO-ISO (polynomial 0x1B), bit-reflected, a byte at a time."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xD800000000000000 if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC64_TABLE = crc64_table()


def rolling_checksum(previous: int, page: bytes) -> int:
    """sqld's frame checksum: CRC-64/GO-ISO of the page, its register starting
    from the previous frame's checksum bit-reversed (0 for the first frame).
    Replicas do not check it."""
    register = int(f"{previous:064b}"[::-1], 2)
    for byte in page:
        register = CRC64_TABLE[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register ^ 0xFFFFFFFFFFFFFFFF


def v1_frame(frame_no: int, checksum: int, page_no: int, size_after: int, page: bytes) -> bytes:
    return struct.pack("<QQII", frame_no, checksum, page_no, size_after) + page


def frame_no_of(frame: bytes) -> int:
    return int(struct.unpack_from("<Q", frame)[0])


def size_after_of(frame: bytes) -> int:
    return int(struct.unpack_from("<I", frame, 20)[0])


def with_size_after(frame: bytes, size_after: int) -> bytes:
    return frame[:20] + struct.pack("<I", size_after) + frame[24:]


@dataclass
class Snapshot:
    """The log up to `end` (its last frame number), compacted."""

    end: int
    size_in_pages: int
    frames: list[bytes]  # newest frame first


# -- bincode values (libSQL's proxy) ---------------------------------------


def bincode_encode(value: Any) -> bytes:
    if value is None:
        return struct.pack("<I", 0)
    if isinstance(value, int):
        return struct.pack("<Iq", 1, value)
    if isinstance(value, float):
        return struct.pack("<Id", 2, value)
    data = value.encode() if isinstance(value, str) else bytes(value)
    return struct.pack("<IQ", 3 if isinstance(value, str) else 4, len(data)) + data


def bincode_decode(data: bytes) -> Any:
    (variant,) = struct.unpack_from("<I", data)
    if variant == 0:
        return None
    if variant == 1:
        return struct.unpack_from("<q", data, 4)[0]
    if variant == 2:
        return struct.unpack_from("<d", data, 4)[0]
    (length,) = struct.unpack_from("<Q", data, 4)
    raw = data[12 : 12 + length]
    return raw.decode() if variant == 3 else raw


def condition_json(cond: Any) -> dict[str, Any]:
    """A proxy condition as the Hrana server's JSON condition."""
    kind = cond.WhichOneof("cond")
    if kind in ("ok", "err"):
        return {"type": "ok" if kind == "ok" else "error", "step": getattr(cond, kind).step}
    if kind == "not":
        return {"type": "not", "cond": condition_json(getattr(cond, "not").cond)}
    if kind in ("and", "or"):
        return {"type": kind, "conds": [condition_json(inner) for inner in getattr(cond, kind).conds]}
    return {"type": "is_autocommit"}


# -- the server --------------------------------------------------------------


class ReplicationLogPrimary(SyncPrimary):
    def __init__(self, database: str, auth_token: str | None, port: int = 0) -> None:
        super().__init__(database, auth_token, port=port)
        # The log begins with the database as it is now: its first transaction
        # writes every page (a new file's is one page: SQLite's header, in WAL mode).
        self.pages = b""
        self.generation_id = str(uuid.uuid4())
        self.session_token = str(uuid.uuid4())
        self.start_log()
        with self.sync_lock:
            self.refresh()

    def count(self, what: str, amount: int = 1) -> None:
        with self.lock:
            self.sync_stats[what] += amount

    def start_log(self) -> None:
        """With sync_lock held, or before serving: a new, empty log."""
        self.log_id = str(uuid.uuid4())
        self.log: list[tuple[bytes, int | None]] = []  # frames and commit timestamps (ms)
        self.log_start = 0
        self.next_frame_no = 0
        self.checksum = 0
        self.newest: dict[int, bytes] = {}  # page number -> newest frame writing it
        self.size_in_pages = 0
        self.snapshot: Snapshot | None = None
        self.converted = (self.current, len(self.generations[self.current].frames))

    def open_keeper(self) -> sqlite3.Connection:
        keeper = super().open_keeper()
        # A checkpoint never waits for a transaction in progress: it copies the
        # commits before it, and the next one takes the rest.
        keeper.execute("PRAGMA busy_timeout = 0")
        self.data_version = keeper.execute("PRAGMA data_version").fetchone()[0]
        return keeper

    def refresh(self) -> None:
        """With sync_lock held: commits since the last call become log frames."""
        self.make_frames()
        generation, done = self.converted
        frames = self.generations[generation].frames
        for v2 in frames[done:]:
            page_no, size_after = frame_page(v2), frame_commit_size(v2)
            self.append(page_no, v2[FRAME_HEADER_SIZE:], size_after)
        self.converted = (generation, len(frames))

    def append(self, page_no: int, page: bytes, size_after: int) -> None:
        self.checksum = rolling_checksum(self.checksum, page)
        frame = v1_frame(self.next_frame_no, self.checksum, page_no, size_after, page)
        self.log.append((frame, int(time.time() * 1000) if size_after else None))
        self.newest[page_no] = frame
        self.next_frame_no += 1
        if size_after:
            self.size_in_pages = size_after
        self.count("log_frames")

    def refresh_after_write(self) -> None:
        with self.sync_lock:
            version = self.keeper.execute("PRAGMA data_version").fetchone()[0]
            if version != self.data_version:
                self.data_version = version
                self.refresh()

    def last_frame_no(self) -> int | None:
        return self.next_frame_no - 1 if self.next_frame_no else None

    # -- controls -------------------------------------------------------------

    def compact(self) -> dict[str, Any]:
        with self.sync_lock:
            self.refresh()
            if self.log:
                frames = [frame for page, frame in self.newest.items() if page <= self.size_in_pages]
                frames.sort(key=frame_no_of, reverse=True)
                self.snapshot = Snapshot(self.next_frame_no - 1, self.size_in_pages, frames)
                self.log, self.log_start = [], self.next_frame_no
                self.count("compactions")
            return {"log_start": self.log_start, "snapshot_end": self.snapshot and self.snapshot.end}

    def reset_log(self) -> dict[str, Any]:
        with self.sync_lock:
            self.refresh()
            pages, count = self.pages, len(self.pages) // PAGE_SIZE
            self.start_log()
            for number in range(count):
                page = pages[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
                self.append(number + 1, page, count if number == count - 1 else 0)
            return {"log_id": self.log_id, "frames": count}

    # -- replication log ------------------------------------------------------

    def check_session(self, headers: Any) -> None:
        if headers.get("x-session-token") != self.session_token:
            self.count("no_hello")
            raise GrpcError(FAILED_PRECONDITION, "NO_HELLO")

    def hello(self) -> Any:
        with self.sync_lock:
            self.refresh()
            answer = WAL["HelloResponse"](
                generation_id=self.generation_id,
                generation_start_index=0,
                log_id=self.log_id,
                session_token=self.session_token.encode(),
            )
            if (last := self.last_frame_no()) is not None:
                answer.current_replication_index = last
            return answer

    def log_frames(self, offset: int, limit: int | None) -> list[tuple[bytes, int | None]]:
        """Frames from `offset` on; with a limit, it ends at a commit frame."""
        with self.sync_lock:
            self.refresh()
            if offset < self.log_start:
                self.count("need_snapshot")
                raise GrpcError(FAILED_PRECONDITION, "NEED_SNAPSHOT")
            served = self.log[offset - self.log_start :]
            if limit is not None and len(served) > limit:
                end = limit
                while not size_after_of(served[end - 1][0]):
                    end += 1
                served = served[:end]
            self.count("frames_served", len(served))
            return served

    def snapshot_frames(self, offset: int) -> list[bytes]:
        with self.sync_lock:
            snapshot = self.snapshot
            if snapshot is None or offset > snapshot.end:
                raise GrpcError(UNAVAILABLE, "snapshot not found")
            frames = [with_size_after(frame, 0) for frame in snapshot.frames if frame_no_of(frame) >= offset]
            if not frames:
                raise GrpcError(UNAVAILABLE, "snapshot not found")
            frames[-1] = with_size_after(frames[-1], snapshot.size_in_pages)
            self.count("snapshot_frames_served", len(frames))
            return frames

    # -- write proxy -------------------------------------------------------------

    def client_stream(self, client_id: str) -> Stream:
        """The connection of a proxy client, kept among the Hrana streams so that
        an idle one expires as they do (its next call gets a new one)."""
        stream_id = f"proxy-{client_id}"
        with self.lock:
            stream = self.streams.get(stream_id)
            if stream is None:
                stream = self.streams[stream_id] = self.new_stream()
                self.expired.discard(stream_id)
            stream.last_used = time.monotonic()
            return stream

    def execute(self, request: Any) -> Any:
        steps = []
        for step in request.pgm.steps:
            query = step.query
            statement: dict[str, Any] = {"sql": query.stmt, "want_rows": not query.skip_rows}
            if query.WhichOneof("Params") == "named":
                values = [bincode_decode(value.data) for value in query.named.values]
                statement["named_args"] = [
                    {"name": name, "value": value_to_json(value)}
                    for name, value in zip(query.named.names, values, strict=True)
                ]
            else:
                statement["args"] = [value_to_json(bincode_decode(value.data)) for value in query.positional.values]
            steps.append({"stmt": statement, "condition": condition_json(step.cond) if step.HasField("cond") else None})
        stream = self.client_stream(request.client_id)
        with stream.lock:
            outcome = stream.batch({"steps": steps})
            autocommit = stream.autocommit
            stream.last_used = time.monotonic()
        answer = PROXY["ExecuteResults"](state=PROXY["State"].Value("INIT" if autocommit else "TXN"))
        for result, error in zip(outcome["step_results"], outcome["step_errors"], strict=True):
            if error is not None:
                code = getattr(sqlite3, error["code"], 1) if error["code"].startswith("SQLITE_") else 1
                internal = PROXY["Error"].ErrorCode.Value("INTERNAL")  # what sqld says for SQLite's errors
                answer.results.add(error=PROXY["Error"](code=internal, message=error["message"], extended_code=code))
                continue
            rows = answer.results.add().row
            rows.SetInParent()
            if result is None:  # a step whose condition did not hold
                continue
            rows.affected_row_count = result["affected_row_count"]
            if result["last_insert_rowid"] is not None:
                rows.last_insert_rowid = int(result["last_insert_rowid"])
            for column in result["cols"]:
                rows.column_descriptions.add(name=column["name"])
            for row in result["rows"]:
                rows.rows.add().values.extend(
                    PROXY["Value"](data=bincode_encode(value_from_json(value))) for value in row
                )
        self.refresh_after_write()
        with self.sync_lock:
            if (last := self.last_frame_no()) is not None:
                answer.current_frame_no = last
        return answer

    def describe(self, request: Any) -> Any:
        stream = self.client_stream(request.client_id)
        try:
            with stream.lock:
                described = stream.describe(request.stmt)
        except HranaError as error:
            raise GrpcError(PERMISSION_DENIED, error.message) from None
        description = PROXY["Description"](
            param_names=[param["name"] for param in described["params"] if param["name"] is not None],
            param_count=len(described["params"]),
        )
        for column in described["cols"]:
            description.column_descriptions.add(name=column["name"])
        return PROXY["DescribeResult"](description=description)

    def disconnect(self, request: Any) -> Any:
        stream_id = f"proxy-{request.client_id}"
        with self.lock:
            stream = self.streams.get(stream_id)
        if stream is not None:
            with stream.lock:
                self.close_stream(stream_id, stream)
        return PROXY["Ack"]()


# -- HTTP ---------------------------------------------------------------------


def grpc_message_text(message: str) -> str:
    """grpc-message is percent-encoded beyond printable ASCII."""
    return "".join(
        char if " " <= char <= "~" and char != "%" else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in message
    )


def data_frame(message: Any) -> bytes:
    payload = message.SerializeToString()
    return struct.pack(">BI", 0, len(payload)) + payload


def trailers_frame(code: int, message: str = "") -> bytes:
    text = f"grpc-status:{code}\r\n" + (f"grpc-message:{grpc_message_text(message)}\r\n" if message else "")
    return struct.pack(">BI", 0x80, len(text)) + text.encode()


# Service -> method -> its request message.
CALLS = {
    "wal_log.ReplicationLog": {
        "Hello": WAL["HelloRequest"],
        "BatchLogEntries": WAL["LogOffset"],
        "LogEntries": WAL["LogOffset"],
        "Snapshot": WAL["LogOffset"],
    },
    "proxy.Proxy": {
        "Execute": PROXY["ProgramReq"],
        "Describe": PROXY["DescribeRequest"],
        "Disconnect": PROXY["DisconnectMessage"],
    },
}


class ReplicationLogHandler(SyncHandler):
    server: ReplicationLogPrimary

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/info" or path.startswith(("/export/", "/sync/")):
            # sqld serves neither /info nor the v2 sync protocol.
            self.server.count("info_probes" if path == "/info" else "v2_refused")
            self.send_json(404, "Not Found")
        else:
            super().do_GET()

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        controls = {"/_compact": self.server.compact, "/_reset_log": self.server.reset_log}
        if path in controls or path == "/_new_session":
            self.read_body()
            if path == "/_new_session":
                self.server.session_token = str(uuid.uuid4())
                self.send_json(200, {})
            else:
                self.send_json(200, controls[path]())
            return
        service, _, method = path.lstrip("/").partition("/")
        if service in CALLS:
            self.grpc(method, CALLS[service].get(method))
        elif path.startswith("/sync/") or path == "/_generation":
            self.read_body()
            self.send_json(404, "Not Found")
        else:
            super().do_POST()
            self.server.refresh_after_write()

    def read_grpc_body(self) -> bytes:
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return self.read_body()
        body = b""
        while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline().strip():  # trailers, then the blank line
            pass
        return body

    def authenticate(self) -> None:
        token = self.server.auth_token
        if token is None:
            return
        given = self.headers.get("x-authorization") or self.headers.get("authorization")
        if given is None:
            self.server.count("unauthenticated")
            raise GrpcError(INTERNAL, "Error parsing auth header: Expected authorization header but none given")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or value != token:
            self.server.count("unauthenticated")
            raise GrpcError(UNAUTHENTICATED, "AuthError: The JWT is invalid")

    def grpc(self, method: str, request_type: Any | None) -> None:
        body = self.read_grpc_body()
        self.server.count(method)
        content_type = self.headers.get("Content-Type", "")
        if content_type not in ("application/grpc-web", "application/grpc-web+proto"):
            self.send_json(415, f"unsupported content type {content_type!r}")
            return
        chunks: list[bytes] = []
        try:
            self.authenticate()
            if request_type is None:
                raise GrpcError(UNIMPLEMENTED, f"{method} is not served here")
            if len(body) < 5 or body[0] != 0 or struct.unpack_from(">I", body, 1)[0] != len(body) - 5:
                raise GrpcError(INTERNAL, "expected one uncompressed message")
            request = request_type.FromString(body[5:])
            chunks = self.answer(method, request)
        except GrpcError as error:
            answer = b""
            headers = {"grpc-status": str(error.code), "grpc-message": grpc_message_text(error.message)}
        except Exception as error:  # a test server's bug, told to the client rather than hanging up
            traceback.print_exc()
            answer = b""
            headers = {"grpc-status": str(INTERNAL), "grpc-message": grpc_message_text(repr(error))}
        else:
            answer = b"".join(chunks)
            headers = {}
        fault = self.server.take_fault()
        if fault is not None and self.apply_fault(fault, answer):
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/grpc-web+proto")
        for name, value in headers.items():
            self.send_header(name, value)
        if not chunks:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def answer(self, method: str, request: Any) -> list[bytes]:
        """The frames of a call's answer, its trailers last."""
        server = self.server
        if method == "Hello":
            return [data_frame(server.hello()), trailers_frame(OK)]
        if method in CALLS["proxy.Proxy"]:
            handler = {"Execute": server.execute, "Describe": server.describe, "Disconnect": server.disconnect}
            return [data_frame(handler[method](request)), trailers_frame(OK)]
        server.check_session(self.headers)
        if request.wal_flavor == WAL["LogOffset"].WalFlavor.Value("Libsql"):
            raise GrpcError(INVALID_ARGUMENT, "libsql wal not supported")
        Frame = WAL["Frame"]
        if method == "Snapshot":
            frames = server.snapshot_frames(request.next_offset)
            return [*(data_frame(Frame(data=frame)) for frame in frames), trailers_frame(OK)]
        if method == "BatchLogEntries":
            frames = server.log_frames(request.next_offset, MAX_FRAMES_PER_BATCH)
            batch = WAL["Frames"](frames=[Frame(data=frame, timestamp=stamp) for frame, stamp in frames])
            return [data_frame(batch), trailers_frame(OK)]
        try:  # LogEntries: its errors come after the (empty) stream, as trailers
            frames = server.log_frames(request.next_offset, None)
        except GrpcError as error:
            return [trailers_frame(error.code, error.message)]
        return [*(data_frame(Frame(data=frame, timestamp=stamp)) for frame, stamp in frames), trailers_frame(OK)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="the primary's SQLite file (default: a new one in a temporary directory)")
    parser.add_argument("--auth-token", help="the Bearer token every request must carry")
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (default: a free one)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = options.database or os.path.join(directory, "primary.db")
        server = ReplicationLogPrimary(database, options.auth_token, options.port)
        server.RequestHandlerClass = ReplicationLogHandler
        serve_until_stdin_closes(server)


if __name__ == "__main__":
    main()
