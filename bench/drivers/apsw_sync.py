"""``apsw``, called directly on the event-loop thread (it is synchronous)."""

import apsw

from bench.drivers.base import dist_version, sync_driver

DRIVER = sync_driver(
    apsw,
    name="apsw",
    version=f"{dist_version('apsw', apsw)}, SQLite {apsw.sqlite_lib_version()}",
    open_=apsw.Connection,
    offload=False,
)
