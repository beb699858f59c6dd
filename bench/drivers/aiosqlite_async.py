"""``aiosqlite``: stdlib sqlite3 on a dedicated thread per connection."""

import aiosqlite

from bench.drivers.base import async_driver, dist_version

DRIVER = async_driver(
    aiosqlite,
    name="aiosqlite",
    version=dist_version("aiosqlite", aiosqlite),
    how="asyncio, one worker thread per connection",
    connect_kwargs={"isolation_level": None},
    pool=False,
)
