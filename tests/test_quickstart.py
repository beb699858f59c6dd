"""The seed README's Quick Start, unchanged, prints [(1, 'Alice')] on its first run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

QUICK_START = """
import asyncio
import aiolibsql

async def main():
    async with await aiolibsql.connect("hello.db") as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)")
        await conn.execute("INSERT INTO users (name) VALUES (?)", ("Alice",))

        cursor = await conn.execute("SELECT * FROM users")
        rows = await cursor.fetchall()
        print(rows)

asyncio.run(main())
"""


def test_seed_quick_start_prints_alice_on_first_run(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(QUICK_START)
    completed = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout == "[(1, 'Alice')]\n"
    assert completed.stderr == ""


def test_quick_start_keeps_the_row_after_the_block_exits(tmp_path: Path) -> None:
    script = tmp_path / "quickstart.py"
    script.write_text(QUICK_START)
    for _ in range(2):
        subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, timeout=60, check=True)
    import sqlite3

    with sqlite3.connect(tmp_path / "hello.db") as plain:
        assert plain.execute("SELECT count(*) FROM users").fetchone() == (2,)
