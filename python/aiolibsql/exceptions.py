"""The DB-API 2.0 exception hierarchy.

Errors that come from the engine carry ``sqlite_errorcode`` (the extended
SQLite result code) and ``sqlite_errorname`` (its name, such as
``"SQLITE_CONSTRAINT_UNIQUE"``); the class is chosen from that code, never
from the message text.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DatabaseError",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Warning",
]


class Warning(Exception):  # noqa: A001 - the name PEP 249 requires
    """Important warnings, such as data truncation."""


class Error(Exception):
    """Base class of every error this package raises."""

    sqlite_errorcode: int | None = None
    sqlite_errorname: str | None = None


class InterfaceError(Error):
    """Misuse of the driver's interface rather than of the database."""


class DatabaseError(Error):
    """Errors related to the database."""


class DataError(DatabaseError):
    """Problems with the data: a value too big, a type mismatch."""


class OperationalError(DatabaseError):
    """The database could not do what was asked: busy, locked, I/O, syntax, missing table."""


class IntegrityError(DatabaseError):
    """A constraint failed: UNIQUE, NOT NULL, FOREIGN KEY, CHECK."""


class InternalError(DatabaseError):
    """The engine hit an internal error."""


class ProgrammingError(DatabaseError):
    """Wrong use: a closed connection, bad parameters, more than one statement."""


class NotSupportedError(DatabaseError):
    """A feature this build or backend does not support."""
