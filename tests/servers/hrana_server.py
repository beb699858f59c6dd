"""A Hrana-over-HTTP server for tests, on SQLite through Python's sqlite3.

It covers what clients use: GET v3/v2, v3 and v2 pipelines (execute, batch
with conditions, sequence, describe, store_sql, close_sql, get_autocommit,
close), v3 cursors, sqld's older stream-less POST /v1/execute and /v1/batch
(which libsql-client speaks over http://), batons, stream expiry, Bearer authentication and an
optional base path. With --move-streams every answer that keeps a stream
open gives it a base_url of its own (/streams/ID under the base path), and a
baton that comes back anywhere else is refused. Where the Hrana 3 spec leaves room it answers as sqld
does: a new baton for every request on a stream, HTTP 400 for a stale baton
or an expired stream, SQL errors inside results with HTTP 200, integers and
rowids as strings.

Faults for client tests are switched on at run time: POST /_fault with
{"kind": "stall" | "reset" | "status500" | "status401" | "garbage" | "slow",
"count": N, "delay": seconds, "skip": K} makes N Hrana requests, after the next K, fail that way
(a stalled request has run, and answers once POST /_release comes).
GET /_stats counts what was served (round_trips: every Hrana request); GET /_stalled?count=N answers once N
requests are stalling.

    python hrana_server.py [--database PATH] [--auth-token TOKEN] [--port PORT]
                           [--stream-expiry SECONDS] [--base-path /prefix]
                           [--move-streams]

It listens on 127.0.0.1 (on a free port unless --port says), prints
``listening 127.0.0.1:PORT`` once ready, and serves until its standard input
closes (Ctrl-D in a terminal).
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import math
import os
import re
import secrets
import socket
import sqlite3
import struct
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Json = dict[str, Any]


class HranaError(Exception):
    """An error that goes into a result: {"message", "code"}."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def as_json(self) -> Json:
        return {"message": self.message, "code": self.code}


class HttpError(Exception):
    """An error that fails the whole HTTP request."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: Json = {"message": message}
        if code is not None:
            self.body["code"] = code


def sql_error(error: sqlite3.Error) -> HranaError:
    # sqld reports most engine errors as SQLITE_UNKNOWN and keeps the
    # specific code for constraint failures and the like.
    name = getattr(error, "sqlite_errorname", None) or "SQLITE_UNKNOWN"
    if name == "SQLITE_ERROR":
        name = "SQLITE_UNKNOWN"
    return HranaError(f"SQLite error: {error}", name)


def value_from_json(value: Json) -> Any:
    kind = value.get("type")
    if kind == "null":
        return None
    if kind == "integer":
        text = value["value"]
        if not isinstance(text, str):
            raise HranaError("an integer value must be a string", "PROTO_INVALID_VALUE")
        number = int(text)
        if not -(2**63) <= number < 2**63:
            raise HranaError("integer out of range", "PROTO_INVALID_VALUE")
        return number
    if kind == "float":
        return float(value["value"])
    if kind == "text":
        return str(value["value"])
    if kind == "blob":
        return base64.b64decode(value["base64"], validate=True)
    raise HranaError(f"unknown value type {kind!r}", "PROTO_INVALID_VALUE")


def value_to_json(value: Any) -> Json:
    if value is None:
        return {"type": "null"}
    if isinstance(value, int):
        return {"type": "integer", "value": str(value)}
    if isinstance(value, float):
        # serde_json writes a non-finite float as null, and so does sqld.
        return {"type": "float", "value": value if math.isfinite(value) else None}
    if isinstance(value, str):
        return {"type": "text", "value": value}
    return {"type": "blob", "base64": base64.b64encode(bytes(value)).decode()}


class Stream:
    """One stream: a connection of its own, and its stored SQL texts."""

    def __init__(self, database: str) -> None:
        self.connection = sqlite3.connect(database, isolation_level=None, check_same_thread=False, timeout=5)
        # A test server's file need not survive a power cut: commits skip fsync.
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = OFF")
        self.sql: dict[int, str] = {}
        self.last_used = time.monotonic()
        self.lock = threading.Lock()

    @property
    def autocommit(self) -> bool:
        return not self.connection.in_transaction

    def close(self) -> None:
        self.connection.close()

    def text_of(self, holder: Json) -> str:
        if holder.get("sql") is not None:
            return str(holder["sql"])
        if holder.get("sql_id") is not None:
            if holder["sql_id"] not in self.sql:
                raise HranaError(f"SQL text {holder['sql_id']} is not stored", "SQL_NOT_FOUND")
            return self.sql[holder["sql_id"]]
        raise HranaError("a statement needs sql or sql_id", "PROTO_INVALID_REQUEST")

    def execute(self, stmt: Json) -> Json:
        sql = self.text_of(stmt)
        positional = [value_from_json(value) for value in stmt.get("args") or []]
        named = {arg["name"].lstrip(":@$"): value_from_json(arg["value"]) for arg in stmt.get("named_args") or []}
        if positional and named:
            raise HranaError("this server does not take positional and named arguments together", "ARGS_INVALID")
        try:
            cursor = self.connection.execute(sql, named or positional)
            rows = cursor.fetchall()
        except sqlite3.ProgrammingError as error:
            if "one statement" in str(error):
                raise HranaError(str(error), "SQL_MANY_STATEMENTS") from None
            raise HranaError(str(error), "ARGS_INVALID") from None
        except sqlite3.Error as error:
            raise sql_error(error) from None
        columns = [{"name": column[0], "decltype": None} for column in cursor.description or []]
        changed = cursor.rowcount if cursor.rowcount > 0 else 0
        rowid = cursor.lastrowid
        return {
            "cols": columns,
            "rows": [[value_to_json(value) for value in row] for row in rows] if stmt.get("want_rows", True) else [],
            "affected_row_count": changed,
            "last_insert_rowid": None if rowid is None else str(rowid),
            "replication_index": None,
        }

    def condition(self, condition: Json | None, results: list[Json | None], errors: list[Json | None]) -> bool:
        if condition is None:
            return True
        kind = condition["type"]
        if kind in ("ok", "error"):
            step = condition["step"]
            if not 0 <= step < len(results):
                raise HranaError(f"condition refers to step {step}, which has not run yet", "PROTO_BATCH_INVALID")
            return (results[step] if kind == "ok" else errors[step]) is not None
        if kind == "not":
            return not self.condition(condition["cond"], results, errors)
        if kind == "and":
            return all(self.condition(operand, results, errors) for operand in condition["conds"])
        if kind == "or":
            return any(self.condition(operand, results, errors) for operand in condition["conds"])
        if kind == "is_autocommit":
            return self.autocommit
        raise HranaError(f"unknown condition {kind!r}", "PROTO_BATCH_INVALID")

    def batch(self, batch: Json) -> Json:
        results: list[Json | None] = []
        errors: list[Json | None] = []
        for step in batch["steps"]:
            result = error = None
            if self.condition(step.get("condition"), results, errors):
                try:
                    result = self.execute(step["stmt"])
                except HranaError as failure:
                    error = failure.as_json()
            results.append(result)
            errors.append(error)
        return {"step_results": results, "step_errors": errors}

    def sequence(self, sql: str) -> None:
        statement = ""
        for line in sql.splitlines(keepends=True):
            for character in line:
                statement += character
                if character == ";" and sqlite3.complete_statement(statement):
                    self.execute({"sql": statement, "want_rows": False})
                    statement = ""
        if statement.strip():
            self.execute({"sql": statement, "want_rows": False})

    def explain(self, sql: str) -> tuple[list[Any], dict[str, None] | list[None]]:
        """The statement's program, and NULLs for its parameters. sqlite3
        binds before it prepares, so they are found from what it says is missing."""
        named: dict[str, None] = {}
        positional: list[None] = []
        for _ in range(1000):
            try:
                return self.connection.execute("EXPLAIN " + sql, named or positional).fetchall(), named or positional
            except sqlite3.ProgrammingError as error:
                message = str(error)
                if match := re.search(r"uses (\d+)", message):
                    positional = [None] * int(match.group(1))
                elif match := re.search(r"binding parameter :(\w+)", message):
                    named[match.group(1)] = None
                else:
                    raise HranaError(message, "SQL_PARSE_ERROR") from None
            except sqlite3.Error as error:
                raise sql_error(error) from None
        raise HranaError("too many parameters to describe", "SQL_PARSE_ERROR")

    def describe(self, sql: str) -> Json:
        # What sqlite3 can tell without running the statement: it prepares
        # (EXPLAIN), and its parameters are counted from the program.
        program, nulls = self.explain(sql)
        writes = {"OpenWrite", "Insert", "Delete", "IdxInsert", "IdxDelete", "CreateBtree", "Destroy", "Clear"}
        readonly = not any(row[1] in writes for row in program) and not sql.lstrip().upper().startswith(
            ("BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE")
        )
        variables = [row for row in program if row[1] == "Variable"]
        count = max((row[2] for row in variables), default=0)
        names: list[str | None] = [None] * count
        for row in variables:
            if row[5]:
                names[row[2] - 1] = str(row[5])
        columns: list[Json] = []
        if readonly:
            # Its first step (with NULL parameters) names its columns; a read
            # changes nothing, and the rest of it never runs.
            cursor = self.connection.execute(sql, nulls)
            columns = [{"name": column[0], "decltype": None} for column in cursor.description or []]
            cursor.close()
        return {
            "params": [{"name": name} for name in names],
            "cols": columns,
            "is_explain": sql.lstrip().upper().startswith("EXPLAIN"),
            "is_readonly": readonly,
        }


class Fault:
    def __init__(self, kind: str, count: int, delay: float, skip: int = 0) -> None:
        self.kind = kind
        self.count = count
        self.delay = delay
        # Requests that pass untouched before the fault begins.
        self.skip = skip


class HranaServer(ThreadingHTTPServer):
    daemon_threads = True
    # Clients open many connections at once; the default backlog of 5 would
    # make the rest wait for SYN retries (seconds each).
    request_queue_size = 1024

    def __init__(
        self,
        database: str,
        auth_token: str | None,
        stream_expiry: float,
        base_path: str,
        port: int = 0,
        move_streams: bool = False,
    ) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.database = database
        self.auth_token = auth_token
        self.stream_expiry = stream_expiry
        self.base_path = base_path.rstrip("/")
        self.move_streams = move_streams
        self.streams: dict[str, Stream] = {}
        # Streams closed for idling, whose batons get STREAM_EXPIRED.
        self.expired: set[str] = set()
        # The one baton each open stream answers to now.
        self.batons: dict[str, Stream] = {}
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.faults: list[Fault] = []
        self.stats: Counter[str] = Counter()
        self.stopping = threading.Event()
        # Set by POST /_release (and when stopping): stalled requests answer.
        self.released = threading.Event()
        # Notified when a request starts stalling, for GET /_stalled?count=N.
        self.stalled_changed = threading.Condition(self.lock)

    def new_stream(self) -> Stream:
        return Stream(self.database)

    def take_fault(self) -> Fault | None:
        with self.lock:
            if not self.faults:
                return None
            fault = self.faults[0]
            if fault.skip > 0:
                fault.skip -= 1
                return None
            fault.count -= 1
            if fault.count <= 0:
                self.faults.pop(0)
            return fault

    def open_stream(self, baton: str | None) -> tuple[str, Stream]:
        with self.lock:
            if baton is None:
                stream_id = f"s{next(self.ids)}"
                stream = self.new_stream()
                self.streams[stream_id] = stream
                return stream_id, stream
            stream_id, _, _ = baton.partition(".")
            stream = self.streams.get(stream_id)
            if stream is not None and time.monotonic() - stream.last_used > self.stream_expiry:
                self.close_idle([(stream_id, stream)])
            if stream_id in self.expired:
                raise HttpError(400, "The stream has expired due to inactivity", "STREAM_EXPIRED")
            if stream is None or self.batons.get(baton) is not stream:
                raise HttpError(400, "Received an invalid baton")
            del self.batons[baton]
            # In use from now on: the expiry timer leaves it alone.
            stream.last_used = time.monotonic()
            return stream_id, stream

    def expire_idle_streams(self) -> None:
        """Closes streams idle for longer than the expiry on a timer, as sqld
        does: a stream whose client went away (a lost transaction) then stops
        holding the database's locks."""
        while not self.stopping.wait(min(1.0, max(0.05, self.stream_expiry / 4))):
            with self.lock:
                now = time.monotonic()
                self.close_idle(
                    [(i, stream) for i, stream in self.streams.items() if now - stream.last_used > self.stream_expiry]
                )

    def close_idle(self, idle: list[tuple[str, Stream]]) -> None:
        """Closes `idle` streams not running a request now; under self.lock."""
        closing = {stream_id: stream for stream_id, stream in idle if stream.lock.acquire(blocking=False)}
        for stream_id, stream in closing.items():
            del self.streams[stream_id]
            self.expired.add(stream_id)
            stream.close()
            stream.lock.release()
        dropped = set(closing.values())
        self.batons = {baton: stream for baton, stream in self.batons.items() if stream not in dropped}

    def next_baton(self, stream_id: str, stream: Stream) -> str:
        baton = f"{stream_id}.{secrets.token_urlsafe(12)}"
        with self.lock:
            self.batons[baton] = stream
        stream.last_used = time.monotonic()
        return baton

    def stream_url(self, stream_id: str) -> str | None:
        """The base_url a stream's answers give, if streams are moved."""
        if not self.move_streams:
            return None
        return f"http://127.0.0.1:{self.server_address[1]}{self.base_path}/streams/{stream_id}"

    def close_stream(self, stream_id: str, stream: Stream) -> None:
        with self.lock:
            self.streams.pop(stream_id, None)
        stream.close()


class Handler(BaseHTTPRequestHandler):
    server: HranaServer
    protocol_version = "HTTP/1.1"
    # The stream a request came to under /streams/ID, for --move-streams.
    moved_stream: str | None = None

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's
        # algorithm holds the body back for the client's delayed ACK (40 ms).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    # -- plumbing ----------------------------------------------------------

    def send_json(self, status: int, body: Json | str) -> None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/json" if status < 300 or not isinstance(body, str) else "text/plain"
        )
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def path_under_base(self) -> str | None:
        path = self.path.split("?", 1)[0]
        base = self.server.base_path
        if base:
            if not path.startswith(base + "/"):
                return None
            path = path[len(base) :]
        self.moved_stream = None
        if path.startswith("/streams/"):
            self.moved_stream, _, rest = path[len("/streams/") :].partition("/")
            path = "/" + rest
        return path

    def authorized(self) -> bool:
        token = self.server.auth_token
        return token is None or self.headers.get("Authorization") == f"Bearer {token}"

    def apply_fault(self, fault: Fault, answer: bytes) -> bool:
        """Fails this request as `fault` says; False when it answers after all (slowed, or stalled until released)."""
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        if fault.kind == "stall":
            with self.server.stalled_changed:
                self.server.stats["stalled"] += 1
                self.server.stalled_changed.notify_all()
            self.server.released.wait()
            return False
        if fault.kind == "status500":
            self.send_json(500, "Internal Server Error")
        elif fault.kind == "status401":
            self.send_json(401, "Unauthorized")
        elif fault.kind == "garbage":
            self.send_json(200, "<html>this is not Hrana</html>")
        elif fault.kind == "reset":
            self.wfile.write(
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(answer)}\r\n\r\n".encode()
                + answer[: len(answer) // 2]
            )
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        return True

    # -- endpoints ---------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path_under_base()
        if path in ("/v3", "/v2", "/health"):
            self.send_json(200, "ok")
        elif self.path.startswith("/_stalled?count="):
            # Answers once that many requests are stalling: a test knows, not
            # guesses, that its request reached the server.
            wanted = int(self.path.split("=", 1)[1])
            with self.server.stalled_changed:
                reached = self.server.stalled_changed.wait_for(lambda: self.server.stats["stalled"] >= wanted, 30)
            self.send_json(200 if reached else 504, {"stalled": self.server.stats["stalled"]})
        elif self.path == "/_stats":
            with self.server.lock:
                self.send_json(200, dict(self.server.stats))
        else:
            self.send_json(404, "Not Found")

    def do_POST(self) -> None:
        body = self.read_body()
        if self.path == "/_release":
            self.server.released.set()
            self.send_json(200, {})
            return
        if self.path == "/_fault":
            request = json.loads(body)
            if request["kind"] == "stall":
                self.server.released.clear()
            with self.server.lock:
                self.server.faults.append(
                    Fault(
                        request["kind"],
                        int(request.get("count", 1)),
                        float(request.get("delay", 0)),
                        int(request.get("skip", 0)),
                    )
                )
            self.send_json(200, {})
            return
        path = self.path_under_base()
        if path not in ("/v1/execute", "/v1/batch", "/v2/pipeline", "/v3/pipeline", "/v3/cursor"):
            self.send_json(404, "Not Found")
            return
        with self.server.lock:
            self.server.stats["round_trips"] += 1
        if not self.authorized():
            self.send_json(401, {"message": "Authentication failed: the token is missing or wrong"})
            return
        fault = self.server.take_fault()
        try:
            request = json.loads(body)
            if path == "/v3/cursor":
                status, answer = 200, self.cursor(request)
            elif path.startswith("/v1/"):
                status, answer = 200, json.dumps(self.stream_less(path, request)).encode()
            else:
                status, answer = 200, json.dumps(self.pipeline(request, v3=path == "/v3/pipeline")).encode()
        except HttpError as error:
            status, answer = error.status, json.dumps(error.body).encode()
        except (ValueError, KeyError, TypeError) as error:
            status, answer = 400, json.dumps({"message": f"Invalid request: {error}"}).encode()
        if fault is not None and self.apply_fault(fault, answer):
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def open_stream(self, baton: str | None) -> tuple[str, Stream]:
        """The stream a request's baton names, checked against where the request came."""
        if self.server.move_streams and (baton is not None or self.moved_stream is not None):
            if baton is None or baton.partition(".")[0] != self.moved_stream:
                raise HttpError(400, "Received a baton away from its stream's base_url")
            with self.server.lock:
                self.server.stats["moved_pipelines"] += 1
        return self.server.open_stream(baton)

    def pipeline(self, request: Json, v3: bool) -> Json:
        stream_id, stream = self.open_stream(request.get("baton"))
        results = []
        closed = False
        with stream.lock:
            for stream_request in request["requests"]:
                kind = stream_request.get("type")
                with self.server.lock:
                    self.server.stats["pipeline_requests"] += 1
                    self.server.stats[f"request.{kind}"] += 1
                if closed:
                    results.append(
                        {"type": "error", "error": {"message": "the stream is closed", "code": "STREAM_CLOSED"}}
                    )
                    continue
                try:
                    results.append({"type": "ok", "response": self.stream_request(stream, stream_request, v3)})
                except HranaError as error:
                    results.append({"type": "error", "error": error.as_json()})
                closed = kind == "close"
        with self.server.lock:
            self.server.stats["pipelines"] += 1
        if closed:
            self.server.close_stream(stream_id, stream)
            return {"baton": None, "base_url": None, "results": results}
        baton = self.server.next_baton(stream_id, stream)
        return {"baton": baton, "base_url": self.server.stream_url(stream_id), "results": results}

    def stream_less(self, path: str, request: Json) -> Json:
        """One statement or batch on a stream of its own; an SQL error fails the request, as sqld's v1 does."""
        stream_id, stream = self.server.open_stream(None)
        try:
            with stream.lock:
                if path == "/v1/execute":
                    return {"result": stream.execute(request["stmt"])}
                return {"result": stream.batch(request["batch"])}
        except HranaError as error:
            raise HttpError(400, error.message, error.code) from None
        finally:
            with self.server.lock:
                self.server.stats["pipelines"] += 1
            self.server.close_stream(stream_id, stream)

    def stream_request(self, stream: Stream, request: Json, v3: bool) -> Json:
        kind = request.get("type")
        if kind == "execute":
            return {"type": "execute", "result": stream.execute(request["stmt"])}
        if kind == "batch":
            return {"type": "batch", "result": stream.batch(request["batch"])}
        if kind == "sequence":
            stream.sequence(stream.text_of(request))
            return {"type": "sequence"}
        if kind == "describe":
            return {"type": "describe", "result": stream.describe(stream.text_of(request))}
        if kind == "store_sql":
            stream.sql[int(request["sql_id"])] = str(request["sql"])
            return {"type": "store_sql"}
        if kind == "close_sql":
            stream.sql.pop(int(request["sql_id"]), None)
            return {"type": "close_sql"}
        if kind == "get_autocommit" and v3:
            return {"type": "get_autocommit", "is_autocommit": stream.autocommit}
        if kind == "close":
            return {"type": "close"}
        raise HttpError(400, f"unknown request type {kind!r}")

    def cursor(self, request: Json) -> bytes:
        stream_id, stream = self.open_stream(request.get("baton"))
        lines: list[Json] = []
        with stream.lock:
            results: list[Json | None] = []
            errors: list[Json | None] = []
            for index, step in enumerate(request["batch"]["steps"]):
                result = error = None
                try:
                    if stream.condition(step.get("condition"), results, errors):
                        result = stream.execute(step["stmt"])
                        lines.append({"type": "step_begin", "step": index, "cols": result["cols"]})
                        lines.extend({"type": "row", "row": row} for row in result["rows"])
                        lines.append(
                            {
                                "type": "step_end",
                                "affected_row_count": result["affected_row_count"],
                                "last_insert_rowid": result["last_insert_rowid"],
                            }
                        )
                except HranaError as failure:
                    error = failure.as_json()
                    lines.append({"type": "step_error", "step": index, "error": error})
                results.append(result)
                errors.append(error)
        with self.server.lock:
            self.server.stats["cursors"] += 1
        header = {"baton": self.server.next_baton(stream_id, stream), "base_url": self.server.stream_url(stream_id)}
        return "".join(json.dumps(line) + "\n" for line in [header, *lines]).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="the SQLite file (default: a new one in a temporary directory)")
    parser.add_argument("--auth-token", help="the Bearer token every request must carry")
    parser.add_argument("--stream-expiry", type=float, default=10.0, help="seconds an idle stream lives")
    parser.add_argument("--base-path", default="", help="a path prefix the endpoints live under")
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (default: a free one)")
    parser.add_argument("--move-streams", action="store_true", help="give each open stream a base_url of its own")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = options.database or os.path.join(directory, "hrana.db")
        server = HranaServer(
            database,
            options.auth_token,
            options.stream_expiry,
            options.base_path,
            options.port,
            options.move_streams,
        )
        serve_until_stdin_closes(server)


def serve_until_stdin_closes(server: HranaServer) -> None:
    """Serves, says where once ready, and stops when standard input closes."""
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    threading.Thread(target=server.expire_idle_streams, daemon=True).start()
    print(f"listening 127.0.0.1:{server.server_address[1]}", flush=True)
    sys.stdin.read()
    server.stopping.set()
    server.released.set()
    server.shutdown()


if __name__ == "__main__":
    main()
