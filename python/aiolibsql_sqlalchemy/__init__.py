"""Importing this registers aiolibsql's SQLAlchemy dialects, ``sqlite+aiolibsql``
(blocking and asyncio, chosen by ``create_engine`` / ``create_async_engine``)
and ``sqlite+aiolibsql_async`` (asyncio).

A pip-installed aiolibsql registers them through the ``sqlalchemy.dialects``
entry points, so the import is only needed where the package runs from a
source tree; it is harmless either way.
"""

from __future__ import annotations

from sqlalchemy.dialects import registry

from aiolibsql.sqlalchemy import AiolibsqlAsyncDialect, AiolibsqlDialect

__all__ = ["AiolibsqlAsyncDialect", "AiolibsqlDialect"]

registry.register("sqlite.aiolibsql", "aiolibsql.sqlalchemy", "AiolibsqlDialect")
registry.register("sqlite.aiolibsql_async", "aiolibsql.sqlalchemy", "AiolibsqlAsyncDialect")
