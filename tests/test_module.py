"""Module-level promises: DB-API constants, version strings, exports and documentation."""

from __future__ import annotations

import inspect
import pydoc
import subprocess
import sys
from pathlib import Path

import pytest

import aiolibsql

DBAPI_EXCEPTIONS = (
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
)


def _documented_public_names() -> list[str]:
    return [
        name
        for name in aiolibsql.__all__
        if inspect.isclass(getattr(aiolibsql, name)) or inspect.isroutine(getattr(aiolibsql, name))
    ]


def _public_members(cls: type) -> list[str]:
    """Public methods and properties, inherited ones included (but not object's)."""
    names = []
    for name in dir(cls):
        member = inspect.getattr_static(cls, name)
        if name.startswith("_") or hasattr(object, name):
            continue
        if inspect.isfunction(member) or isinstance(member, property):
            names.append(name)
    return names


CLASS_MEMBERS = [
    (cls, name) for cls in (aiolibsql.Connection, aiolibsql.Cursor, aiolibsql.Row) for name in _public_members(cls)
]


def test_apilevel_is_dbapi_2() -> None:
    assert aiolibsql.apilevel == "2.0"


def test_paramstyle_is_qmark() -> None:
    assert aiolibsql.paramstyle == "qmark"


def test_threadsafety_is_a_dbapi_level() -> None:
    assert type(aiolibsql.threadsafety) is int
    assert aiolibsql.threadsafety in (0, 1, 2, 3)


def test_version_is_a_dotted_string_aliased_by_VERSION() -> None:
    assert isinstance(aiolibsql.__version__, str)
    assert aiolibsql.__version__.split(".")[0].isdigit()
    assert aiolibsql.VERSION == aiolibsql.__version__


def test_legacy_transaction_control_is_minus_one() -> None:
    assert aiolibsql.LEGACY_TRANSACTION_CONTROL == -1
    assert type(aiolibsql.LEGACY_TRANSACTION_CONTROL) is int


def test_sqlite_version_info_is_three_ints_spelling_sqlite_version() -> None:
    info = aiolibsql.sqlite_version_info
    assert isinstance(info, tuple)
    assert len(info) == 3
    assert all(type(part) is int for part in info)
    assert ".".join(map(str, info)) == aiolibsql.sqlite_version
    assert info >= (3, 0, 0)


async def test_sqlite_version_is_the_linked_engines_version() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        assert await conn.execute_fetchall("SELECT sqlite_version()") == [(aiolibsql.sqlite_version,)]


def test_every_name_in_all_is_exported() -> None:
    missing = [name for name in aiolibsql.__all__ if not hasattr(aiolibsql, name)]
    assert missing == []


@pytest.mark.parametrize("name", (*DBAPI_EXCEPTIONS, "connect", "Connection", "Cursor", "Row"))
def test_public_api_name_is_listed_in_all(name: str) -> None:
    assert name in aiolibsql.__all__


@pytest.mark.parametrize("name", DBAPI_EXCEPTIONS)
def test_dbapi_exception_is_an_exception_class_at_top_level(name: str) -> None:
    cls = getattr(aiolibsql, name)
    assert inspect.isclass(cls)
    assert issubclass(cls, Exception)


@pytest.mark.parametrize("name", _documented_public_names())
def test_public_class_or_function_has_a_docstring(name: str) -> None:
    doc = getattr(aiolibsql, name).__doc__
    assert doc is not None
    assert doc.strip() != ""


@pytest.mark.parametrize(("cls", "name"), CLASS_MEMBERS, ids=[f"{cls.__name__}.{name}" for cls, name in CLASS_MEMBERS])
def test_public_method_or_property_has_a_docstring(cls: type, name: str) -> None:
    doc = inspect.getattr_static(cls, name).__doc__
    assert doc is not None
    assert doc.strip() != ""


# Connection.execute, ConnectionPool.execute and fetchone are native methods
# (no Python frame on their fast path): tests/test_native_calls.py pins down
# that what they return behaves as a coroutine.
@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (aiolibsql.Connection, name)
        for name in (
            "executemany",
            "executescript",
            "execute_fetchall",
            "commit",
            "rollback",
            "close",
            "backup",
            "create_function",
        )
    ]
    + [
        (aiolibsql.Cursor, name)
        for name in ("execute", "executemany", "executescript", "fetchmany", "fetchall", "close")
    ],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_database_calls_are_coroutine_functions(cls: type, name: str) -> None:
    assert inspect.iscoroutinefunction(getattr(cls, name))


def test_module_has_a_docstring_and_help_renders() -> None:
    assert aiolibsql.__doc__ is not None
    assert aiolibsql.__doc__.strip() != ""
    rendered = pydoc.render_doc(aiolibsql, renderer=pydoc.plaintext)
    assert "connect" in rendered
    assert "Connection" in rendered


def test_free_threaded_python_is_refused_at_import_with_a_clear_message() -> None:
    pretend_free_threaded = (
        "import sysconfig\n"
        "real = sysconfig.get_config_var\n"
        "sysconfig.get_config_var = lambda name: 1 if name == 'Py_GIL_DISABLED' else real(name)\n"
        "import aiolibsql\n"
    )
    result = subprocess.run([sys.executable, "-c", pretend_free_threaded], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "ImportError: aiolibsql does not support free-threaded Python builds" in result.stderr


def _run_session(script: str) -> subprocess.CompletedProcess[str]:
    """Runs `script` in a fresh interpreter; the timeout only guards against a hang."""
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


_SESSION_LEFT_OPEN = """
import asyncio, aiolibsql, aiolibsql.dbapi as dbapi
blocking = dbapi.connect(":memory:")
blocking.create_function("f", 1, lambda x: x)
blocking_rows = blocking.execute("select f(:a)", {"a": 1})

async def main():
    global connection, rows, pool
    connection = await aiolibsql.connect(":memory:")
    await connection.create_function("g", 1, lambda x: x)
    rows = await connection.execute("select g(1)")
    pool = await aiolibsql.create_pool(DATABASE, size=2)
    await pool.execute("select 1")

asyncio.run(main())
"""


def test_interpreter_exit_with_objects_left_open_reports_nothing(tmp_path: Path) -> None:
    session = _run_session(f"DATABASE = {str(tmp_path / 'open.db')!r}\n" + _SESSION_LEFT_OPEN)
    assert (session.returncode, session.stderr) == (0, "")


def test_a_native_object_leaked_by_the_application_is_reported_at_exit() -> None:
    # Holding a reference nobody releases is the application's leak; the
    # report at exit is what tells it apart from one of ours.
    session = _run_session(
        "import ctypes, aiolibsql._native as native\n"
        "connection = native.NativeConnection.local(True, b':memory:', False, 5.0, None, -1, 16, None, 'aes256cbc')\n"
        "ctypes.pythonapi.Py_IncRef(ctypes.py_object(connection))\n"
    )
    assert session.returncode == 0
    assert "leaked" in session.stderr
