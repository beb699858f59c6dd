"""The SQLAlchemy dialects: one URL for both engines, registration, URL
arguments, transactions as SQLAlchemy expects them on SQLite, the seed's
example, the ORM example, and an Alembic migration up and down.

Async tests run on asyncio and on uvloop (tests/conftest.py).
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiolibsql_sqlalchemy
import pytest
import sqlalchemy
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, event, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, QueuePool, SingletonThreadPool, StaticPool

import aiolibsql
from aiolibsql import dbapi
from aiolibsql.sqlalchemy import AiolibsqlAsyncDialect, AiolibsqlDialect

ROOT = Path(__file__).resolve().parent.parent

SEED_EXAMPLE = """
import aiolibsql_sqlalchemy  # registers the dialect

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

engine = create_engine("sqlite+aiolibsql://", echo=True)  # in-memory
# engine = create_engine("sqlite+aiolibsql:///data.db")    # local file

with Session(engine) as session:
    session.execute(text("CREATE TABLE t (x INTEGER)"))
    session.execute(text("INSERT INTO t VALUES (:x)"), {"x": 42})
    session.commit()
    result = session.execute(text("SELECT * FROM t"))
    print(result.fetchall())
"""

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("name", String(50)))


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite+aiolibsql:///{tmp_path / 'app.db'}"


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = create_engine(url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def names(connection: Any) -> list[str]:
    return list(connection.execute(select(items.c.name).order_by(items.c.id)).scalars())


def run_python(code: str, cwd: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *arguments], cwd=cwd, capture_output=True, text=True, timeout=120, check=True
    )


# -- registration -------------------------------------------------------------


def test_one_url_gives_the_blocking_dialect_to_create_engine(url: str) -> None:
    engine = create_engine(url)
    assert type(engine.dialect) is AiolibsqlDialect
    assert engine.dialect.dbapi is dbapi
    assert engine.dialect.driver == "aiolibsql"


async def test_one_url_gives_the_asyncio_dialect_to_create_async_engine(url: str) -> None:
    engine = create_async_engine(url)
    assert type(engine.dialect) is AiolibsqlAsyncDialect
    assert engine.dialect.is_async
    await engine.dispose()


async def test_the_async_name_selects_the_asyncio_dialect(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiolibsql_async:///{tmp_path / 'a.db'}")
    assert type(engine.dialect) is AiolibsqlAsyncDialect
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    await engine.dispose()


def test_pools_follow_sqlalchemys_sqlite_dialects(url: str) -> None:
    assert isinstance(create_engine(url).pool, QueuePool)
    assert isinstance(create_engine("sqlite+aiolibsql://").pool, SingletonThreadPool)
    assert isinstance(create_async_engine(url).pool, AsyncAdaptedQueuePool)
    assert isinstance(create_async_engine("sqlite+aiolibsql://").pool, StaticPool)


def declared_dialect_entry_points() -> dict[str, str]:
    # tomllib is in the standard library from Python 3.11; tomli is the same parser before it.
    toml = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    return toml.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["sqlalchemy.dialects"]


def test_the_package_declares_entry_points_for_both_dialects() -> None:
    declared = declared_dialect_entry_points()
    assert declared == {
        "sqlite.aiolibsql": "aiolibsql.sqlalchemy:AiolibsqlDialect",
        "sqlite.aiolibsql_async": "aiolibsql.sqlalchemy:AiolibsqlAsyncDialect",
    }
    for target in declared.values():
        assert importlib.metadata.EntryPoint(name="", value=target, group="").load() in (
            AiolibsqlDialect,
            AiolibsqlAsyncDialect,
        )


def test_entry_points_register_the_dialect_without_an_import(tmp_path: Path) -> None:
    # What pip installs: a dist-info whose entry_points.txt names the
    # dialects. SQLAlchemy must find sqlite+aiolibsql through it alone.
    declared = declared_dialect_entry_points()
    dist_info = tmp_path / "site" / "aiolibsql-0.0.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: aiolibsql\nVersion: 0.0.0\n")
    entry_points = "\n".join(f"{name} = {target}" for name, target in declared.items())
    (dist_info / "entry_points.txt").write_text(f"[sqlalchemy.dialects]\n{entry_points}\n")
    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        from sqlalchemy import create_engine, text
        engine = create_engine("sqlite+aiolibsql://")
        assert "aiolibsql_sqlalchemy" not in sys.modules
        with engine.connect() as connection:
            print(type(engine.dialect).__name__, connection.execute(text("SELECT 42")).scalar())
        """
    )
    completed = run_python(code, tmp_path, str(tmp_path / "site"))
    assert completed.stdout == "AiolibsqlDialect 42\n"


def test_import_aiolibsql_sqlalchemy_registers_both_names() -> None:
    from sqlalchemy.dialects import registry

    assert registry.load("sqlite.aiolibsql") is AiolibsqlDialect
    assert registry.load("sqlite.aiolibsql_async") is AiolibsqlAsyncDialect
    assert aiolibsql_sqlalchemy.AiolibsqlDialect is AiolibsqlDialect


# -- URL arguments --------------------------------------------------------------


def test_url_query_carries_timeout_and_cached_statements(tmp_path: Path) -> None:
    dialect = AiolibsqlDialect()
    cargs, cparams = dialect.create_connect_args(
        sqlalchemy.engine.make_url(f"sqlite+aiolibsql:///{tmp_path / 'a.db'}?timeout=2.5&cached_statements=7")
    )
    assert cargs == [str(tmp_path / "a.db")]
    assert cparams == {"timeout": 2.5, "cached_statements": 7}


def test_a_relative_path_becomes_absolute_and_no_path_is_memory() -> None:
    dialect = AiolibsqlDialect()
    cargs, _ = dialect.create_connect_args(sqlalchemy.engine.make_url("sqlite+aiolibsql:///rel.db"))
    assert cargs == [str(Path("rel.db").resolve())]
    cargs, _ = dialect.create_connect_args(sqlalchemy.engine.make_url("sqlite+aiolibsql://"))
    assert cargs == [":memory:"]


@pytest.mark.parametrize(
    ("url", "database", "arguments"),
    [
        ("sqlite+aiolibsql://db.example/?secure=true&authToken=tok", "https://db.example", {"auth_token": "tok"}),
        ("sqlite+aiolibsql://127.0.0.1:8080", "http://127.0.0.1:8080", {}),
        ("sqlite+aiolibsql://127.0.0.1:8080/?secure=false&timeout=2", "http://127.0.0.1:8080", {"timeout": 2.0}),
        ("sqlite+aiolibsql://h/prefix?auth_token=tok", "http://h/prefix", {"auth_token": "tok"}),
    ],
)
def test_a_url_with_a_host_names_a_remote_database_as_sqlalchemy_libsql_spells_it(
    url: str, database: str, arguments: dict[str, Any]
) -> None:
    cargs, cparams = AiolibsqlDialect().create_connect_args(sqlalchemy.engine.make_url(url))
    assert cargs == [database]
    assert cparams == arguments


@pytest.mark.parametrize(
    "url", ["sqlite+aiolibsql://h/?secure=maybe", "sqlite+aiolibsql://h/?tls=0", "sqlite+aiolibsql://u:p@h/"]
)
def test_a_remote_url_with_options_the_driver_cannot_read_is_an_argument_error(url: str) -> None:
    with pytest.raises(sqlalchemy.exc.ArgumentError):
        AiolibsqlDialect().create_connect_args(sqlalchemy.engine.make_url(url))


def test_python_functions_are_registered_on_local_connections_only() -> None:
    registered: list[str] = []

    class FakeConnection:
        def __init__(self, is_remote: bool) -> None:
            self.is_remote = is_remote

        def create_function(self, name: str, *args: Any, **kwargs: Any) -> None:
            registered.append(name)

    prepare = create_engine("sqlite+aiolibsql://").dialect.on_connect()
    assert prepare is not None
    prepare(FakeConnection(is_remote=True))  # type: ignore[arg-type]
    assert registered == []
    prepare(FakeConnection(is_remote=False))  # type: ignore[arg-type]
    assert "regexp" in registered


def test_uri_true_passes_the_rest_of_the_query_to_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    with create_engine(f"sqlite+aiolibsql:///{path}").begin() as connection:
        connection.execute(text("CREATE TABLE t (x)"))
    read_only = create_engine(f"sqlite+aiolibsql:///file:{path}?mode=ro&uri=true")
    with read_only.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
        with pytest.raises(sqlalchemy.exc.OperationalError, match="readonly"):
            connection.execute(text("INSERT INTO t VALUES (1)"))
    read_only.dispose()


def test_isolation_level_in_the_url_is_the_begin_flavour(tmp_path: Path) -> None:
    path = tmp_path / "locks.db"
    exclusive = create_engine(f"sqlite+aiolibsql:///{path}?isolation_level=exclusive")
    with exclusive.connect() as connection:
        connection.execute(text("SELECT 1"))
        # Another connection cannot even read while the exclusive transaction is open.
        reader = dbapi.connect(str(path), timeout=0)
        with pytest.raises(dbapi.OperationalError, match="locked"):
            reader.execute("SELECT 1 FROM sqlite_master").fetchall()
        reader.close()
    exclusive.dispose()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("timeout=soon", "timeout"),
        ("colour=blue", "colour"),
        ("isolation_level=SERIALIZABLE", "BEGIN flavours"),
        ("isolation_level=AUTOCOMMIT", "BEGIN flavours"),
    ],
)
def test_bad_url_arguments_raise_argument_error(tmp_path: Path, query: str, message: str) -> None:
    with pytest.raises(sqlalchemy.exc.ArgumentError, match=message):
        create_engine(f"sqlite+aiolibsql:///{tmp_path / 'a.db'}?{query}").connect()


def test_an_unsupported_url_argument_raises_not_supported_error(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiolibsql:///{tmp_path / 'a.db'}?sync_url=http://127.0.0.1:9&encryption_key=k")
    with pytest.raises(sqlalchemy.exc.NotSupportedError) as raised:
        engine.connect()
    assert isinstance(raised.value.orig, aiolibsql.NotSupportedError)


async def test_a_replica_whose_primary_cannot_be_reached_fails_on_the_async_engine(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiolibsql:///{tmp_path / 'a.db'}?sync_url=http://127.0.0.1:9")
    with pytest.raises(sqlalchemy.exc.OperationalError):
        await engine.connect()
    await engine.dispose()


def test_encryption_key_in_the_url_encrypts_the_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.db"
    engine = create_engine(f"sqlite+aiolibsql:///{path}?encryption_key=swordfish")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
        connection.execute(text("INSERT INTO notes VALUES ('plaintext-marker')"))
    engine.dispose()
    assert b"plaintext-marker" not in path.read_bytes()
    with create_engine(f"sqlite+aiolibsql:///{path}?encryption_key=swordfish").connect() as connection:
        assert connection.execute(text("SELECT body FROM notes")).scalar() == "plaintext-marker"


# -- transactions on the blocking engine ------------------------------------------


def test_commit_persists_and_rollback_discards(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(items.insert(), {"name": "kept"})
        connection.commit()
        connection.execute(items.insert(), {"name": "dropped"})
        connection.rollback()
        assert names(connection) == ["kept"]


def test_a_savepoint_rolls_back_alone(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(items.insert(), {"name": "outer"})
        with connection.begin_nested() as savepoint:
            connection.execute(items.insert(), {"name": "inner"})
            savepoint.rollback()
        connection.execute(items.insert(), {"name": "after"})
    with engine.connect() as connection:
        assert names(connection) == ["outer", "after"]


def test_a_released_savepoint_rolls_back_with_its_transaction(engine: Engine) -> None:
    # The case sqlite3's legacy BEGIN handling gets wrong: here the
    # SAVEPOINT is inside the transaction SQLAlchemy began.
    with engine.connect() as connection:
        connection.begin()
        with connection.begin_nested():
            connection.execute(items.insert(), {"name": "inner"})
        connection.rollback()
        assert names(connection) == []


def test_ddl_is_transactional(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE scratch (x)"))
        connection.rollback()
        assert not inspect(connection).has_table("scratch")


def test_autocommit_isolation_commits_each_statement(engine: Engine) -> None:
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(items.insert(), {"name": "auto"})
        connection.rollback()  # nothing to roll back: it is committed
        assert connection.connection.dbapi_connection.autocommit is True
    assert not any(statement.startswith("BEGIN") for statement in statements)
    with engine.connect() as connection:
        assert names(connection) == ["auto"]
        # Back from the pool, the connection begins transactions again.
        assert connection.connection.dbapi_connection.autocommit == dbapi.LEGACY_TRANSACTION_CONTROL
        connection.execute(items.insert(), {"name": "transactional"})
        assert connection.connection.dbapi_connection.in_transaction


def test_serializable_and_read_uncommitted_are_the_other_levels(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.get_isolation_level() == "SERIALIZABLE"
    with engine.connect().execution_options(isolation_level="READ UNCOMMITTED") as connection:
        assert connection.get_isolation_level() == "READ UNCOMMITTED"


def test_a_begin_event_from_the_sqlite3_recipe_does_not_begin_twice(url: str) -> None:
    # SQLAlchemy's SQLite docs tell sqlite3 users to emit BEGIN from an event;
    # applications that carry the recipe over keep working.
    engine = create_engine(url)
    event.listen(engine, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(items.insert(), {"name": "once"})
    with engine.connect() as connection:
        assert names(connection) == ["once"]
    engine.dispose()


def test_driver_autocommit_false_from_connect_args_keeps_savepoints_working(url: str) -> None:
    engine = create_engine(url, connect_args={"autocommit": False})
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(items.insert(), {"name": "outer"})
        with connection.begin_nested() as savepoint:
            connection.execute(items.insert(), {"name": "inner"})
            savepoint.rollback()
    with engine.connect() as connection:
        assert names(connection) == ["outer"]
    engine.dispose()


def test_database_errors_surface_as_sqlalchemy_errors_wrapping_ours(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(items.insert(), {"id": 1, "name": "a"})
        with pytest.raises(sqlalchemy.exc.IntegrityError) as raised:
            connection.execute(items.insert(), {"id": 1, "name": "b"})
        assert isinstance(raised.value.orig, aiolibsql.IntegrityError)


def test_regexp_and_floor_work_as_on_pysqlite(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(items.insert(), [{"name": "apple"}, {"name": "banana"}])
        assert connection.execute(select(items.c.name).where(items.c.name.regexp_match("^b"))).scalars().all() == [
            "banana"
        ]
        assert connection.execute(select(sqlalchemy.func.floor(7.5))).scalar() == 7


# -- the asyncio engine ------------------------------------------------------------


@pytest.fixture
def async_url(tmp_path: Path) -> str:
    return f"sqlite+aiolibsql:///{tmp_path / 'async.db'}"


async def make_async_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return engine


async def test_async_commit_persists_and_rollback_discards(async_url: str) -> None:
    engine = await make_async_engine(async_url)
    async with engine.connect() as connection:
        await connection.execute(items.insert(), {"name": "kept"})
        await connection.commit()
        await connection.execute(items.insert(), {"name": "dropped"})
        await connection.rollback()
        assert await connection.run_sync(names) == ["kept"]
    await engine.dispose()


async def test_async_savepoint_rolls_back_alone(async_url: str) -> None:
    engine = await make_async_engine(async_url)
    async with engine.begin() as connection:
        await connection.execute(items.insert(), {"name": "outer"})
        savepoint = await connection.begin_nested()
        await connection.execute(items.insert(), {"name": "inner"})
        await savepoint.rollback()
    async with engine.connect() as connection:
        assert await connection.run_sync(names) == ["outer"]
        await connection.rollback()
        await connection.begin()
        async with connection.begin_nested():
            await connection.execute(items.insert(), {"name": "released"})
        await connection.rollback()
        assert await connection.run_sync(names) == ["outer"]
    await engine.dispose()


async def test_async_autocommit_isolation_commits_each_statement(async_url: str) -> None:
    engine = await make_async_engine(async_url)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(items.insert(), {"name": "auto"})
        await autocommit.rollback()
    async with engine.connect() as connection:
        assert await connection.run_sync(names) == ["auto"]
    await engine.dispose()


async def test_async_stream_reads_a_large_result_in_chunks(async_url: str) -> None:
    engine = await make_async_engine(async_url)
    async with engine.connect() as connection:
        result = await connection.stream(
            text("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 20000) SELECT i FROM c")
        )
        total = 0
        async for partition in result.partitions(1000):
            total += sum(row[0] for row in partition)
        assert total == 20000 * 20001 // 2
    await engine.dispose()


async def test_async_errors_surface_as_sqlalchemy_errors_wrapping_ours(async_url: str) -> None:
    engine = await make_async_engine(async_url)
    async with engine.connect() as connection:
        with pytest.raises(sqlalchemy.exc.OperationalError) as raised:
            await connection.execute(text("SELECT * FROM nowhere"))
        assert isinstance(raised.value.orig, aiolibsql.OperationalError)
    await engine.dispose()


async def test_async_driver_connection_is_the_asyncio_connection(async_url: str) -> None:
    engine = await make_async_engine(async_url)
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, aiolibsql.Connection)
        cursor = await raw.driver_connection.execute("SELECT 7")
        assert await cursor.fetchone() == (7,)
    await engine.dispose()


async def test_many_tasks_share_one_async_engine(async_url: str) -> None:
    import asyncio

    engine = await make_async_engine(async_url)

    async def insert(n: int) -> None:
        async with engine.begin() as connection:
            await connection.execute(items.insert(), {"name": f"task{n}"})

    await asyncio.gather(*(insert(n) for n in range(20)))
    async with engine.connect() as connection:
        assert len(await connection.run_sync(names)) == 20
    await engine.dispose()


# -- examples and Alembic -------------------------------------------------------------


def test_the_seed_example_runs_verbatim(tmp_path: Path) -> None:
    completed = run_python(SEED_EXAMPLE, tmp_path)
    # echo=True logs each statement to stdout around the printed result.
    assert "[(42,)]" in completed.stdout.splitlines()
    assert "CREATE TABLE t (x INTEGER)" in completed.stdout
    assert completed.stderr == ""


def test_the_orm_example_runs_on_both_engines(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "sqlalchemy" / "orm.py"), str(tmp_path / "library.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert completed.stdout.splitlines() == [
        "blocking engine: ['Solaris', 'A Wizard of Earthsea', 'The Dispossessed']",
        "asyncio engine: [('Stanisław Lem', 2), ('Ursula K. Le Guin', 2)]",
        "  Stanisław Lem: Solaris, The Cyberiad",
        "  Ursula K. Le Guin: A Wizard of Earthsea, The Dispossessed",
    ]
    assert completed.stderr == ""


MIGRATION = '''
"""create accounts"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade():
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(200), nullable=False, unique=True),
    )
    op.create_index("ix_accounts_email", "accounts", ["email"])
    op.bulk_insert(sa.table("accounts", sa.column("email")), [{"email": "first@example.com"}])


def downgrade():
    op.drop_index("ix_accounts_email", "accounts")
    op.drop_table("accounts")
'''

SECOND_MIGRATION = '''
"""add a column in batch mode, SQLite's way to alter tables"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade():
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("nickname", sa.String(50)))


def downgrade():
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("nickname")
'''

SYNC_ENV = """
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
"""

ASYNC_ENV = """
import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine


def run(connection):
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()


async def main():
    engine = create_async_engine(context.config.get_main_option("sqlalchemy.url"))
    async with engine.connect() as connection:
        await connection.run_sync(run)
    await engine.dispose()


asyncio.run(main())
"""


@pytest.mark.parametrize("env", [SYNC_ENV, ASYNC_ENV], ids=["create_engine", "create_async_engine"])
def test_alembic_upgrades_and_downgrades_a_migration(tmp_path: Path, env: str) -> None:
    from alembic import command
    from alembic.config import Config

    scripts = tmp_path / "migrations"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "env.py").write_text(env)
    (scripts / "versions" / "0001_create_accounts.py").write_text(MIGRATION)
    (scripts / "versions" / "0002_add_nickname.py").write_text(SECOND_MIGRATION)
    url = f"sqlite+aiolibsql:///{tmp_path / 'migrated.db'}"
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.set_main_option("sqlalchemy.url", url)

    engine = create_engine(url)

    def columns() -> list[str]:
        inspector = inspect(engine)
        if not inspector.has_table("accounts"):
            return []
        return [column["name"] for column in inspector.get_columns("accounts")]

    def revision() -> str | None:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    command.upgrade(config, "head")
    assert columns() == ["id", "email", "nickname"]
    assert revision() == "0002"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM accounts")).scalars().all() == ["first@example.com"]
        assert [index["name"] for index in inspect(connection).get_indexes("accounts")] == ["ix_accounts_email"]

    command.downgrade(config, "0001")
    assert columns() == ["id", "email"]
    assert revision() == "0001"

    command.downgrade(config, "base")
    assert columns() == []
    assert revision() is None
    engine.dispose()
