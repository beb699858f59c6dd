"""What embedded replicas need from connect()'s arguments, for the asyncio
API and the blocking module alike."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .exceptions import NotSupportedError, ProgrammingError

# A millisecond is the background sync's resolution; a year keeps every wait
# representable on the native side.
_SHORTEST_SYNC_INTERVAL = 0.001
_LONGEST_SYNC_INTERVAL = 365 * 24 * 3600.0


@dataclass(frozen=True)
class SyncResult:
    """What one ``sync()`` did."""

    #: Frames (changed pages) pulled from the primary into the local file.
    frames_pulled: int
    #: Frames written offline and pushed to the primary.
    frames_pushed: int
    #: The primary's generation the replica follows.
    generation: int
    #: The last frame of that generation the replica holds.
    frame_no: int


def replica_sync_url(
    path: bytes,
    remote: bool,
    sync_url: object,
    sync_interval: object,
    offline: object,
    encryption_key: object,
    uri: bool,
) -> str | None:
    """The primary's URL when connect() makes an embedded replica; None when
    it does not. Raises for arguments a replica cannot take."""
    if sync_url is None:
        if sync_interval is not None or offline:
            raise ProgrammingError("sync_interval and offline are for embedded replicas: pass sync_url as well")
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
    return sync_url
