"""The SQLAlchemy ORM on aiolibsql: the same models and the same URL, through
the blocking engine and then the asyncio one.

    python examples/sqlalchemy/orm.py                 # a fresh library.db here
    python examples/sqlalchemy/orm.py /tmp/other.db

``create_engine("sqlite+aiolibsql:///...")`` runs on aiolibsql's blocking
DB-API module; ``create_async_engine`` with the same URL runs on its asyncio
API. A pip-installed aiolibsql registers the dialect itself; the import below
does it when running from a source tree.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiolibsql_sqlalchemy  # noqa: F401 - registers sqlite+aiolibsql where aiolibsql is not pip-installed
from sqlalchemy import ForeignKey, create_engine, func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    books: Mapped[list[Book]] = relationship(back_populates="author", cascade="all, delete-orphan")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    year: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")


def with_blocking_engine(url: str) -> None:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.add_all(
            [
                Author(name="Ursula K. Le Guin", books=[Book(title="A Wizard of Earthsea", year=1968)]),
                Author(name="Stanisław Lem", books=[Book(title="Solaris", year=1961)]),
            ]
        )
    with Session(engine) as session:
        # A SAVEPOINT: the nested block's book is rolled back, the rest kept.
        with session.begin():
            le_guin = session.scalars(select(Author).where(Author.name.startswith("Ursula"))).one()
            le_guin.books.append(Book(title="The Dispossessed", year=1974))
            try:
                with session.begin_nested():
                    le_guin.books.append(Book(title="A book never written", year=2099))
                    session.flush()
                    raise LookupError("changed my mind")
            except LookupError:
                pass
        titles = session.scalars(select(Book.title).order_by(Book.year)).all()
        print("blocking engine:", titles)
    engine.dispose()


async def with_asyncio_engine(url: str) -> None:
    engine = create_async_engine(url)
    async with AsyncSession(engine) as session:
        async with session.begin():
            lem = await session.scalar(select(Author).where(Author.name == "Stanisław Lem"))
            assert lem is not None
            session.add(Book(title="The Cyberiad", year=1965, author=lem))
        per_author = await session.execute(
            select(Author.name, func.count(Book.id)).join(Author.books).group_by(Author.name).order_by(Author.name)
        )
        print("asyncio engine:", [tuple(row) for row in per_author])
        authors = await session.scalars(select(Author).options(selectinload(Author.books)).order_by(Author.name))
        for author in authors:
            print(f"  {author.name}: {', '.join(book.title for book in sorted(author.books, key=lambda b: b.year))}")
    await engine.dispose()


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "library.db").resolve()
    path.unlink(missing_ok=True)  # a fresh start, so every run prints the same
    url = f"sqlite+aiolibsql:///{path}"
    with_blocking_engine(url)
    asyncio.run(with_asyncio_engine(url))


if __name__ == "__main__":
    main()
