"""``aiolibsql`` from this repository (C++ core), from PYTHONPATH=<repo>/python."""

from pathlib import Path

import aiolibsql
from bench.drivers.base import async_driver, require_attrs, require_origin

require_origin(aiolibsql, str(Path(__file__).resolve().parents[2] / "python"))
require_attrs(aiolibsql, "connect")

DRIVER = async_driver(
    aiolibsql,
    name="aiolibsql (ours)",
    version=str(getattr(aiolibsql, "__version__", "this repository")),
    how="asyncio, C++ core",
    connect_kwargs={"isolation_level": None},
    pool=True,
)
