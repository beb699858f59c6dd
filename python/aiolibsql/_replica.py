"""What embedded replicas need from connect()'s arguments, for the asyncio
API and the blocking module alike."""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import _native
from .exceptions import NotSupportedError, ProgrammingError

# A millisecond is the background sync's resolution; a year keeps every wait
# representable on the native side.
_SHORTEST_SYNC_INTERVAL = 0.001
_LONGEST_SYNC_INTERVAL = 365 * 24 * 3600.0
# "auto" asks the primary, as libSQL's own client does: one that serves
# GET /info speaks the HTTP sync protocol ("v2", Turso), one that does not,
# sqld's replication log ("v1", a self-hosted sqld).
_SYNC_PROTOCOLS = ("auto", "v1", "v2")


@dataclass(frozen=True)
class SyncResult:
    """What one ``sync()`` did."""

    #: Frames (changed pages) pulled from the primary into the local file.
    frames_pulled: int
    #: Frames written offline and pushed to the primary.
    frames_pushed: int
    #: The primary's generation the replica follows (None over sqld's
    #: replication log, whose frame numbers run across generations).
    generation: int | None
    #: The last frame the replica holds: of that generation, or of the log.
    frame_no: int


@dataclass(frozen=True)
class ReplicaSettings:
    """connect()'s arguments for an embedded replica, checked."""

    sync_url: str
    sync_protocol: str
    offline: bool
    sync_interval: float | None
    auth_token: str | None


def replica_settings(
    path: bytes,
    remote: bool,
    sync_url: object,
    sync_interval: object,
    offline: object,
    encryption_key: object,
    uri: bool,
    sync_protocol: object = "auto",
    auth_token: object = None,
) -> ReplicaSettings | None:
    """What connect() needs to make an embedded replica; None when it makes
    none. Raises for arguments a replica cannot take."""
    if sync_url is None:
        if sync_interval is not None or offline or sync_protocol != "auto":
            raise ProgrammingError(
                "sync_interval, offline and sync_protocol are for embedded replicas: pass sync_url as well"
            )
        return None
    if not isinstance(sync_url, str):
        raise TypeError("sync_url must be a str")
    if not isinstance(offline, bool):
        raise TypeError("offline must be True or False")
    if remote:
        raise ProgrammingError("an embedded replica's database is a local file; sync_url names the remote database")
    if uri or path in (b"", b":memory:"):
        raise NotSupportedError("an embedded replica needs a database file named by its path")
    if encryption_key is not None:
        raise NotSupportedError(
            "encryption_key with sync_url: the replica's pages travel to and from the primary as they are"
        )
    if "\x00" in sync_url:
        raise ValueError("sync_url must not contain NUL")
    if sync_interval is not None and (
        isinstance(sync_interval, bool)
        or not isinstance(sync_interval, (int, float))
        or not math.isfinite(sync_interval)
        or not _SHORTEST_SYNC_INTERVAL <= sync_interval <= _LONGEST_SYNC_INTERVAL
    ):
        raise ValueError(
            f"sync_interval must be from {_SHORTEST_SYNC_INTERVAL} to {_LONGEST_SYNC_INTERVAL:.0f} seconds, or None"
        )
    if sync_protocol not in _SYNC_PROTOCOLS:
        raise ValueError(f"sync_protocol must be one of {', '.join(map(repr, _SYNC_PROTOCOLS))}, not {sync_protocol!r}")
    if auth_token is not None and not isinstance(auth_token, str):
        raise TypeError("auth_token must be a str")
    return ReplicaSettings(
        sync_url,
        str(sync_protocol),
        offline,
        None if sync_interval is None else float(sync_interval),  # type: ignore[arg-type]
        auth_token,
    )


def open_replica(
    path: bytes,
    settings: ReplicaSettings,
    timeout: float,
    isolation_level: str | None,
    mode: int,
    cached_statements: int,
    inline_reads: bool,
) -> _native.NativeConnection:
    """The native side of a replica connection, not yet open."""
    return _native.NativeConnection.replica(
        path,
        settings.sync_url,
        settings.auth_token,
        settings.sync_protocol,
        settings.offline,
        settings.sync_interval,
        float(timeout),
        isolation_level,
        mode,
        cached_statements,
        inline_reads,
    )
