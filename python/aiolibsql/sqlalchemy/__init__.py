"""SQLAlchemy dialects for aiolibsql: one URL, two engines.

``sqlite+aiolibsql://`` names both. ``create_engine`` gets the blocking
dialect, on ``aiolibsql.dbapi``; ``create_async_engine`` gets the asyncio one,
on the asyncio API through SQLAlchemy's own async adaptation::

    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_engine("sqlite+aiolibsql:///app.db")
    async_engine = create_async_engine("sqlite+aiolibsql:///app.db")

Both are registered through the ``sqlalchemy.dialects`` entry points
``sqlite.aiolibsql`` and ``sqlite.aiolibsql_async`` (the latter names the
asyncio dialect explicitly, as ``postgresql+psycopg_async`` does), and by
``import aiolibsql_sqlalchemy`` where the package is not installed with pip.
"""

from __future__ import annotations

from .async_dialect import AiolibsqlAsyncDialect
from .dialect import AiolibsqlDialect

__all__ = ["AiolibsqlAsyncDialect", "AiolibsqlDialect", "dialect", "dialect_async"]

#: The names SQLAlchemy's registry looks for in a dialect module.
dialect = AiolibsqlDialect
dialect_async = AiolibsqlAsyncDialect
