"""A primary for embedded-replica tests: the Hrana test server, plus libSQL's
HTTP sync protocol ("v2", what Turso serves for ``sync_url``) over the same
database.

Replicas pull the primary's changes as WAL frames (a 24-byte header and one
4096-byte page each) and, when offline, push their own. The primary keeps,
for each generation, the database as the generation began (served by
``/export``) and the frames since, numbered from 1:

* GET  /info                       -> {"current_generation": G}
* GET  /export/G                   -> the database file as generation G began
* GET  /sync/G/START/END           -> frames START..END-1 of generation G; once
  START is past the last one, HTTP 400 {"status": "checkpoint_needed",
  "generation": <current>, "max_frame_no": N}, which tells the replica that it
  has every frame of G (and whether a newer generation exists)
* POST /sync/G/START/END[/BATON]   -> stores pushed frames; answers
  {"status": "ok" | "conflict", "generation", "max_frame_no", "baton"}

How the frames are made: every stream connection leaves checkpoints to the
primary, which, before it answers a sync request, checkpoints the WAL into
the database file and turns the pages that changed since the last time into
one transaction's frames (the last one a commit frame carrying the database's
size in pages). Pushed frames are checked against the frames the primary
already has (a frame that differs is a conflict, an identical one is
accepted again), kept per baton until their commit frame, then written into
the database file with every stream closed, so that no connection keeps a
stale page cache. Clients holding a stream at that moment get STREAM_EXPIRED.

Controls for tests: POST /_generation starts a new generation (the current
database becomes its export); GET /_sync_stats counts frames, pulls, pushes
and every sync request (round trips);
POST /_fault as in the Hrana test server also applies to sync requests.

    python sync_primary.py [--database PATH] [--auth-token TOKEN] [--port PORT]

It prints ``listening 127.0.0.1:PORT`` once ready and serves until its
standard input closes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sqlite3
import struct
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field

from hrana_server import Handler, HranaServer, Json, Stream, serve_until_stdin_closes

PAGE_SIZE = 4096
FRAME_HEADER_SIZE = 24
FRAME_SIZE = FRAME_HEADER_SIZE + PAGE_SIZE
SYNC_PATH = re.compile(r"^/sync/(\d+)/(\d+)/(\d+)(?:/([^/]+))?$")
EXPORT_PATH = re.compile(r"^/export/(\d+)$")


def frame_page(frame: bytes) -> int:
    return int(struct.unpack(">I", frame[:4])[0])


def frame_commit_size(frame: bytes) -> int:
    """The database's size in pages after this frame's transaction; 0 unless it is a commit frame."""
    return int(struct.unpack(">I", frame[4:8])[0])


def make_frame(page_number: int, page: bytes, commit_size: int) -> bytes:
    # Salts and checksums are the receiver's to compute: clients ignore them.
    return struct.pack(">II", page_number, commit_size) + bytes(16) + page


@dataclass
class Generation:
    export: bytes
    frames: list[bytes] = field(default_factory=list)


@dataclass
class PushSession:
    """Frames pushed under one baton, not yet ended by a commit frame."""

    pending: list[bytes] = field(default_factory=list)


class SyncPrimary(HranaServer):
    def __init__(self, database: str, auth_token: str | None, port: int = 0, frames_per_commit: bool = False) -> None:
        super().__init__(database, auth_token, stream_expiry=10.0, base_path="", port=port)
        self.frames_per_commit = frames_per_commit
        self.requests_lock = threading.Lock()
        self.requests = 0
        self.sync_lock = threading.Lock()
        self.sync_stats: Counter[str] = Counter()
        self.keeper = self.open_keeper()
        self.pages = self.read_database()
        self.generations = {1: Generation(self.pages)}
        self.current = 1
        self.sessions: dict[str, PushSession] = {}

    def new_stream(self) -> Stream:
        stream = super().new_stream()
        # Only the primary checkpoints, when it makes frames.
        stream.connection.execute("PRAGMA wal_autocheckpoint = 0")
        return stream

    def open_keeper(self) -> sqlite3.Connection:
        keeper = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
        keeper.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        keeper.execute("PRAGMA journal_mode = WAL")
        keeper.execute("PRAGMA wal_autocheckpoint = 0")
        return keeper

    def read_database(self) -> bytes:
        with open(self.database, "rb") as file:
            content = file.read()
        if len(content) < 100:
            return b""
        pages = int.from_bytes(content[28:32], "big")
        return content[: pages * PAGE_SIZE]

    # -- frames --------------------------------------------------------------

    def make_frames(self) -> None:
        """With sync_lock held: the pages committed since the last call become
        frames of the current generation, as one transaction."""
        # FULL, not TRUNCATE: restarting the WAL would wait for every other open
        # connection, and the file is all that is read.
        self.keeper.execute("PRAGMA wal_checkpoint(FULL)").fetchall()
        pages = self.read_database()
        count = len(pages) // PAGE_SIZE
        changed = [
            number
            for number in range(count)
            if pages[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
            != self.pages[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
        ]
        if not changed and len(pages) == len(self.pages):
            return
        if not changed:
            changed = [0]
        frames = self.generations[self.current].frames
        for index, number in enumerate(changed):
            page = pages[number * PAGE_SIZE : (number + 1) * PAGE_SIZE]
            frames.append(make_frame(number + 1, page, count if index == len(changed) - 1 else 0))
        self.pages = pages
        self.sync_stats["frames_made"] += len(changed)

    def apply_pushed(self, frames: list[bytes]) -> None:
        """With sync_lock held: writes one pushed transaction into the
        database file, with no connection open on it."""
        self.close_every_stream()
        self.make_frames()
        self.keeper.close()
        pages = bytearray(self.pages)
        for frame in frames:
            offset = (frame_page(frame) - 1) * PAGE_SIZE
            if len(pages) < offset + PAGE_SIZE:
                pages.extend(bytes(offset + PAGE_SIZE - len(pages)))
            pages[offset : offset + PAGE_SIZE] = frame[FRAME_HEADER_SIZE:]
        del pages[frame_commit_size(frames[-1]) * PAGE_SIZE :]
        with open(self.database, "r+b") as file:
            file.write(pages)
            file.truncate(len(pages))
        self.pages = bytes(pages)
        self.generations[self.current].frames.extend(frames)
        self.keeper = self.open_keeper()

    def close_every_stream(self) -> None:
        with self.lock:
            streams = list(self.streams.items())
        for stream_id, stream in streams:
            with stream.lock:
                self.close_stream(stream_id, stream)
            with self.lock:
                self.expired.add(stream_id)

    def new_generation(self) -> int:
        with self.sync_lock:
            self.make_frames()
            self.current += 1
            self.generations[self.current] = Generation(self.pages)
            return self.current

    # -- answers -------------------------------------------------------------

    def end_of_frames(self) -> tuple[int, bytes]:
        frames = self.generations[self.current].frames
        return 400, json.dumps(
            {"status": "checkpoint_needed", "generation": self.current, "max_frame_no": len(frames), "baton": None}
        ).encode()

    def pull(self, generation: int, start: int, end: int) -> tuple[int, bytes]:
        with self.sync_lock:
            self.make_frames()
            self.sync_stats["pulls"] += 1
            frames = self.generations[generation].frames if generation in self.generations else []
            if start < 1 or start > len(frames) or end <= start:
                return self.end_of_frames()
            served = frames[start - 1 : end - 1]
            self.sync_stats["frames_pulled"] += len(served)
            return 200, b"".join(served)

    def push(self, generation: int, start: int, end: int, baton: str | None, body: bytes) -> tuple[int, bytes]:
        if end <= start or len(body) != (end - start) * FRAME_SIZE:
            return 400, json.dumps({"message": "the body is not END - START frames of 4096-byte pages"}).encode()
        with self.sync_lock:
            self.make_frames()
            self.sync_stats["pushes"] += 1
            frames = self.generations[self.current].frames
            session = self.sessions.pop(baton, None) if baton else None
            session = session or PushSession()
            known = len(frames) + len(session.pending)

            def answer(status: str, max_frame_no: int, baton: str | None = None) -> tuple[int, bytes]:
                return 200, json.dumps(
                    {"status": status, "generation": self.current, "max_frame_no": max_frame_no, "baton": baton}
                ).encode()

            if generation != self.current:
                return answer("conflict", len(frames))
            if start > known + 1:
                # Frames are missing before these: the replica sends again from there.
                return answer("ok", known)
            for index in range(end - start):
                number = start + index
                frame = body[index * FRAME_SIZE : (index + 1) * FRAME_SIZE]
                if number <= known:
                    have = frames[number - 1] if number <= len(frames) else session.pending[number - len(frames) - 1]
                    if have[FRAME_HEADER_SIZE:] != frame[FRAME_HEADER_SIZE:] or frame_page(have) != frame_page(frame):
                        return answer("conflict", len(frames))
                    continue
                session.pending.append(frame)
                known += 1
                if frame_commit_size(frame):
                    self.apply_pushed(session.pending)
                    self.sync_stats["frames_pushed"] += len(session.pending)
                    session.pending = []
            new_baton = secrets.token_hex(8)
            self.sessions[new_baton] = session
            return answer("ok", end - 1, new_baton)


class SyncHandler(Handler):
    server: SyncPrimary

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/_sync_stats":
            with self.server.sync_lock, self.server.requests_lock:
                self.send_json(200, dict(self.server.sync_stats, requests=self.server.requests))
            return
        sync = SYNC_PATH.match(path)
        export = EXPORT_PATH.match(path)
        if path != "/info" and sync is None and export is None:
            super().do_GET()
            return
        if not self.authorized():
            self.send_json(401, {"message": "Authentication failed: the token is missing or wrong"})
            return
        if path == "/info":
            with self.server.sync_lock:
                self.answer_sync(200, json.dumps({"current_generation": self.server.current}).encode())
        elif export is not None:
            with self.server.sync_lock:
                generation = self.server.generations.get(int(export.group(1)))
            if generation is None:
                self.answer_sync(404, json.dumps({"message": "no such generation"}).encode())
            else:
                self.answer_sync(200, generation.export, binary=True)
        else:
            assert sync is not None
            status, answer = self.server.pull(int(sync.group(1)), int(sync.group(2)), int(sync.group(3)))
            self.answer_sync(status, answer, binary=status == 200)

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/_generation":
            self.read_body()
            self.send_json(200, {"generation": self.server.new_generation()})
            return
        sync = SYNC_PATH.match(path)
        if sync is None:
            super().do_POST()
            return
        body = self.read_body()
        if not self.authorized():
            self.send_json(401, {"message": "Authentication failed: the token is missing or wrong"})
            return
        generation, start, end = (int(sync.group(number)) for number in (1, 2, 3))
        self.answer_sync(*self.server.push(generation, start, end, sync.group(4), body))

    def pipeline(self, request: Json, v3: bool) -> Json:
        answer = super().pipeline(request, v3)
        if self.server.frames_per_commit:
            with self.server.sync_lock:
                self.server.make_frames()
        return answer

    def answer_sync(self, status: int, answer: bytes, binary: bool = False) -> None:
        # Callers may hold sync_lock: the count has a lock of its own.
        with self.server.requests_lock:
            self.server.requests += 1
        fault = self.server.take_fault()
        if fault is not None and self.apply_fault(fault, answer):
            return
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if binary else "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", help="the primary's SQLite file (default: a new one in a temporary directory)")
    parser.add_argument("--auth-token", help="the Bearer token every request must carry")
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (default: a free one)")
    parser.add_argument(
        "--frames-per-commit",
        action="store_true",
        help="make frames after each pipeline, so that each transaction a client commits is one transaction "
        "of frames (by default, what was committed between two pulls becomes one)",
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = options.database or os.path.join(directory, "primary.db")
        server = SyncPrimary(database, options.auth_token, options.port, options.frames_per_commit)
        server.RequestHandlerClass = SyncHandler
        serve_until_stdin_closes(server)


if __name__ == "__main__":
    main()
