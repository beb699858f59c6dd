"""SQLAlchemy's engines on a remote database, with the URL form the official
sqlalchemy-libsql dialect uses."""

from __future__ import annotations

from urllib.parse import urlsplit

import aiolibsql_sqlalchemy  # noqa: F401  (registers the dialects without an installed package)
import pytest
from servers.launch import Remote
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.needs("batons", "hrana3", "pragmas")


def engine_url(remote: Remote) -> str:
    return f"sqlite+aiolibsql://{urlsplit(remote.url).netloc}/"


metadata = MetaData()
users = Table("users", metadata, Column("id", Integer, primary_key=True), Column("name", String(50), unique=True))


def test_create_engine_creates_tables_inserts_and_rolls_back_remotely(remote: Remote) -> None:
    engine = create_engine(engine_url(remote))
    try:
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(users), [{"name": "ada"}, {"name": "grace"}])
        with engine.connect() as connection:
            connection.execute(insert(users), [{"name": "never"}])
            connection.rollback()
            assert connection.execute(select(users.c.name).order_by(users.c.id)).scalars().all() == ["ada", "grace"]
    finally:
        engine.dispose()


async def test_create_async_engine_works_on_the_same_remote_url(remote: Remote) -> None:
    engine = create_async_engine(engine_url(remote))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(insert(users), [{"name": "linus"}])
        async with engine.connect() as connection:
            result = await connection.execute(select(users.c.name))
            assert result.scalars().all() == ["linus"]
    finally:
        await engine.dispose()
