"""libSQL's own SQL: vector columns, vector indexes and nearest-neighbour search."""

from __future__ import annotations

import aiolibsql


async def test_vector_top_k_returns_the_nearest_rows_in_order(db_path: str) -> None:
    async with aiolibsql.connect(db_path) as conn:
        await conn.execute("CREATE TABLE movies (title TEXT, embedding F32_BLOB(3))")
        await conn.execute("CREATE INDEX movies_embedding ON movies (libsql_vector_idx(embedding))")
        await conn.executemany(
            "INSERT INTO movies (title, embedding) VALUES (?, vector(?))",
            [("north", "[0, 1, 0]"), ("east", "[1, 0, 0]"), ("up", "[0, 0, 1]"), ("north-east", "[0.7, 0.7, 0]")],
        )
        await conn.commit()
        rows = await conn.execute_fetchall(
            "SELECT title FROM vector_top_k('movies_embedding', vector('[0.9, 0.2, 0]'), 2) AS top "
            "JOIN movies ON movies.rowid = top.id"
        )
        assert rows == [("east",), ("north-east",)]
        distances = await conn.execute_fetchall(
            "SELECT title, vector_distance_cos(embedding, vector('[1, 0, 0]')) AS d FROM movies ORDER BY d LIMIT 1"
        )
        assert distances[0][0] == "east"
        assert abs(distances[0][1]) < 1e-6
