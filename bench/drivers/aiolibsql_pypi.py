"""``aiolibsql`` 0.3.0 from the package index (Rust/PyO3), in its own environment.

It shares the import name with ours, so the module's origin is checked.
"""

import sys

import aiolibsql
from bench.drivers.base import async_driver, dist_version, require_attrs, require_origin

require_origin(aiolibsql, sys.prefix)
require_attrs(aiolibsql, "connect", "create_pool")

DRIVER = async_driver(
    aiolibsql,
    name="aiolibsql 0.3.0",
    version=dist_version("aiolibsql", aiolibsql),
    how="asyncio, Rust/PyO3 futures",
    connect_kwargs={"isolation_level": None},
    pool=True,
)
