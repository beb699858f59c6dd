"""SQLAlchemy's dialect compliance suite, whole, as README.dialects.rst sets it up.

One class is adapted, the way that README shows for third-party dialects.
"""

from typing import Any

from sqlalchemy.testing.suite import *  # noqa: F403 - every suite test class
from sqlalchemy.testing.suite import ServerSideCursorsTest as _ServerSideCursorsTest


class ServerSideCursorsTest(_ServerSideCursorsTest):
    """The suite tells a server-side cursor by the driver's name, and knows
    only SQLAlchemy's own drivers (its source calls this "a huge issue" for
    third-party dialects). aiolibsql's asyncio cursors say it themselves, as
    aiosqlite's do."""

    def _is_server_side(self, cursor: Any) -> bool:
        if self.engine.dialect.driver == "aiolibsql":
            return bool(getattr(cursor, "server_side", False))
        return bool(super()._is_server_side(cursor))
