"""The official synchronous ``libsql`` package, each call offloaded with ``asyncio.to_thread``."""

import libsql

from bench.drivers.base import dist_version, sync_driver

DRIVER = sync_driver(
    libsql,
    name="libsql",
    version=dist_version("libsql", libsql),
    open_=lambda path: libsql.connect(path, isolation_level=None),
    offload=True,
    notes=["synchronous driver called through asyncio.to_thread"],
)
