"""The official synchronous ``libsql`` package, each call in ``asyncio.to_thread``."""

import libsql

from bench.drivers.base import dist_version, sync_driver

DRIVER = sync_driver(
    libsql,
    name="libsql",
    version=dist_version("libsql", libsql),
    open_=lambda path: libsql.connect(path, isolation_level=None),
    offload=True,
)
