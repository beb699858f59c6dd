"""How executemany() cuts its parameter sets into trips, for every connection
kind: one home for the policy. Any iterable is consumed one chunk at a time,
so a generator is never held whole.

A local trip is a hand-over to the engine's thread: 4096 sets amortise it.
A remote trip is a round trip over the network, whose cost is latency, not
size: a chunk holds as many sets as fit in about 4 MiB of request."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

LOCAL_CHUNK_SETS = 4096
REMOTE_CHUNK_BYTES = 4 << 20
# However small each set, a chunk's converted values stay bounded.
REMOTE_CHUNK_SETS = 1 << 16
# What a value costs in a Hrana request beyond its bytes: its JSON object.
_VALUE_OVERHEAD = 40


def _request_size(parameters: Any) -> int:
    """A cheap upper estimate of a parameter set's size in a Hrana request."""
    try:
        values = parameters.values() if isinstance(parameters, Mapping) else parameters
        size = 0
        for value in values:
            if isinstance(value, str):
                # Escapes and UTF-8 may grow a character up to six bytes; text is rarely that.
                size += 2 * len(value) + _VALUE_OVERHEAD
            elif isinstance(value, (bytes, bytearray, memoryview)):
                size += (len(value) * 4) // 3 + 4 + _VALUE_OVERHEAD  # base64
            else:
                size += _VALUE_OVERHEAD
        return size
    except TypeError:  # not a parameter set: the engine says why once it sees it
        return _VALUE_OVERHEAD


def parameter_chunks(iterator: Iterator[Any], remote: bool) -> Iterator[list[Any]]:
    """The chunks of `iterator`, in order; none when it is empty."""
    if not remote:
        while chunk := list(itertools.islice(iterator, LOCAL_CHUNK_SETS)):
            yield chunk
        return
    chunk: list[Any] = []
    size = 0
    for parameters in iterator:
        chunk.append(parameters)
        size += _request_size(parameters)
        if size >= REMOTE_CHUNK_BYTES or len(chunk) >= REMOTE_CHUNK_SETS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
