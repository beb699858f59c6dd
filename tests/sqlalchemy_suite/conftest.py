"""Bootstraps SQLAlchemy's pytest plugin for its dialect compliance suite, as
SQLAlchemy's README.dialects.rst describes; run it with make test-sqlalchemy-suite.

The dialects are registered here rather than through the package's entry
points, so the suite runs from a source tree without a pip install.
"""

import os
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.dialects import registry
from sqlalchemy.pool import Pool

registry.register("sqlite.aiolibsql", "aiolibsql.sqlalchemy", "AiolibsqlDialect")
registry.register("sqlite.aiolibsql_async", "aiolibsql.sqlalchemy", "AiolibsqlAsyncDialect")

pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402, F403 - the plugin's hooks, as the README says

# The suite is written for SQLite's default, foreign keys not enforced:
# UnicodeSchemaTest declares SQLite-only foreign keys to columns that are not
# unique. aiolibsql's engine enforces them by default
# (SQLITE_DEFAULT_FOREIGN_KEYS=1), so every connection the suite opens turns
# enforcement off (other drivers already have it off), unless
# AIOLIBSQL_SUITE_FOREIGN_KEYS=1 asks to keep the engine's default.
if os.environ.get("AIOLIBSQL_SUITE_FOREIGN_KEYS") != "1":

    @event.listens_for(Pool, "connect")
    def foreign_keys_as_sqlite_default(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = OFF")
        cursor.close()
