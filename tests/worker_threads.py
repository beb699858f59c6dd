"""Counts the threads that run connections, as the operating system lists
them: the core names a thread "aiolibsql-db" while it runs a connection and
"aiolibsql-idle" while it is parked."""

from __future__ import annotations

import asyncio
import os

# A hang guard, not a timing assumption: threads end or park soon after the
# last operation of their connection completes.
SETTLE_DEADLINE_SECONDS = 60.0


def running_worker_threads() -> int:
    count = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as comm:
                count += comm.read().strip() == "aiolibsql-db"
        except FileNotFoundError:
            pass  # the thread ended between the listing and the read
    return count


async def running_worker_threads_once_at_most(limit: int) -> int:
    """Waits until no more than `limit` threads run connections, and returns
    how many do. A thread whose connection has just closed still has the name
    of a running one for a moment after the close completes, so a count taken
    right after a close may be one too high: a caller compares with `<=`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_DEADLINE_SECONDS
    while running_worker_threads() > limit and loop.time() < deadline:
        await asyncio.sleep(0.01)
    return running_worker_threads()
