"""Standard-library ``sqlite3``, called on the event-loop thread: the baseline."""

import sqlite3

from bench.drivers.base import sync_driver

DRIVER = sync_driver(
    sqlite3,
    name="sqlite3",
    version=f"stdlib, SQLite {sqlite3.sqlite_version}",
    open_=lambda path: sqlite3.connect(path, isolation_level=None),
    offload=False,
)
