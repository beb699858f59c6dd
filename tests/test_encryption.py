"""Encrypted databases: libSQL's own format, other ciphers, rekey, wrong keys, pools."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import aiolibsql

MARKER = "DISTINCTIVE-PLAINTEXT-7f3a"
KEY = "correct horse battery staple"


def digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


async def write_marker(path: str, key: str | bytes | None, **options: object) -> None:
    async with aiolibsql.connect(path, encryption_key=key, **options) as conn:
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("CREATE TABLE notes (body TEXT)")
        await conn.execute("INSERT INTO notes VALUES (?)", (MARKER,))
        await conn.commit()


async def read_marker(path: str, key: str | bytes | None, **options: object) -> list[tuple[object, ...]]:
    async with aiolibsql.connect(path, encryption_key=key, **options) as conn:
        return await conn.execute_fetchall("SELECT body FROM notes")


async def test_an_encrypted_file_and_its_wal_hold_no_plaintext(db_path: str) -> None:
    conn = await aiolibsql.connect(db_path, encryption_key=KEY)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("CREATE TABLE notes (body TEXT)")
    await conn.execute("INSERT INTO notes VALUES (?)", (MARKER,))
    await conn.commit()
    # Read while the WAL still holds the committed frames.
    wal = Path(db_path + "-wal").read_bytes()
    assert len(wal) > 0
    assert MARKER.encode() not in wal
    await conn.close()
    raw = Path(db_path).read_bytes()
    assert MARKER.encode() not in raw
    assert not raw.startswith(b"SQLite format 3")


async def test_the_right_key_reads_the_rows_back(db_path: str) -> None:
    await write_marker(db_path, KEY)
    assert await read_marker(db_path, KEY) == [(MARKER,)]
    assert await read_marker(db_path, KEY.encode()) == [(MARKER,)], "str keys are their UTF-8 bytes"


async def test_a_wrong_key_fails_on_open_and_leaves_the_file_untouched(db_path: str) -> None:
    await write_marker(db_path, KEY)
    before = digest(db_path)
    with pytest.raises(aiolibsql.DatabaseError, match="not a database") as raised:
        await aiolibsql.connect(db_path, encryption_key="wrong key")
    assert raised.value.sqlite_errorname == "SQLITE_NOTADB"
    assert digest(db_path) == before
    assert await read_marker(db_path, KEY) == [(MARKER,)]


async def test_an_encrypted_file_opened_without_a_key_fails_clearly(db_path: str) -> None:
    await write_marker(db_path, KEY)
    async with aiolibsql.connect(db_path) as conn:
        with pytest.raises(aiolibsql.DatabaseError, match="not a database"):
            await conn.execute("SELECT * FROM notes")


async def test_a_plain_file_opened_with_a_key_fails_clearly(db_path: str) -> None:
    await write_marker(db_path, None)
    before = digest(db_path)
    with pytest.raises(aiolibsql.DatabaseError, match="not a database"):
        await aiolibsql.connect(db_path, encryption_key=KEY)
    assert digest(db_path) == before


@pytest.mark.parametrize("cipher", ["aes256cbc", "aes128cbc", "chacha20", "sqlcipher", "ascon128"])
async def test_each_cipher_round_trips_and_refuses_the_others(db_path: str, cipher: str) -> None:
    await write_marker(db_path, KEY, cipher=cipher)
    assert await read_marker(db_path, KEY, cipher=cipher) == [(MARKER,)]
    other = "chacha20" if cipher != "chacha20" else "aes256cbc"
    with pytest.raises(aiolibsql.DatabaseError):
        await aiolibsql.connect(db_path, encryption_key=KEY, cipher=other)


async def test_rekey_changes_the_key(db_path: str) -> None:
    await write_marker(db_path, KEY)
    async with aiolibsql.connect(db_path, encryption_key=KEY) as conn:
        await conn.rekey("a new key")
    assert await read_marker(db_path, "a new key") == [(MARKER,)]
    with pytest.raises(aiolibsql.DatabaseError):
        await aiolibsql.connect(db_path, encryption_key=KEY)


async def test_rekey_to_none_removes_encryption(db_path: str) -> None:
    await write_marker(db_path, KEY)
    async with aiolibsql.connect(db_path, encryption_key=KEY) as conn:
        await conn.rekey(None)
    assert Path(db_path).read_bytes().startswith(b"SQLite format 3")
    with sqlite3.connect(db_path) as plain:
        assert plain.execute("SELECT body FROM notes").fetchall() == [(MARKER,)]


@pytest.mark.parametrize("bad_key", ["", b"", 42])
async def test_bad_keys_are_refused_before_anything_opens(db_path: str, bad_key: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        await aiolibsql.connect(db_path, encryption_key=bad_key)  # type: ignore[arg-type]
    assert not Path(db_path).exists()


async def test_an_unknown_cipher_is_not_supported(db_path: str) -> None:
    with pytest.raises(aiolibsql.NotSupportedError, match="cipher"):
        await aiolibsql.connect(db_path, encryption_key=KEY, cipher="rot13")


async def test_the_key_never_appears_in_repr_or_errors(db_path: str) -> None:
    await write_marker(db_path, KEY)
    conn = await aiolibsql.connect(db_path, encryption_key=KEY)
    assert KEY not in repr(conn)
    with pytest.raises(aiolibsql.DatabaseError) as raised:
        await aiolibsql.connect(db_path, encryption_key="another secret")
    assert "another secret" not in str(raised.value) and "another secret" not in repr(raised.value)
    await conn.close()


async def test_a_pool_over_an_encrypted_file_uses_the_key_on_every_connection(db_path: str) -> None:
    async with aiolibsql.create_pool(db_path, size=3, encryption_key=KEY) as pool:
        await pool.execute("CREATE TABLE notes (body TEXT)")
        await pool.executemany("INSERT INTO notes VALUES (?)", [(MARKER,), ("second",)])
        async with pool.snapshot() as snapshot:
            rows = await (await snapshot.execute("SELECT count(*) FROM notes")).fetchall()
        assert rows == [(2,)]
        reads = await (await pool.execute("SELECT body FROM notes ORDER BY rowid")).fetchall()
        assert reads == [(MARKER,), ("second",)]
        assert all(connection["completed"] > 0 for connection in pool.stats()["connections"])
    assert MARKER.encode() not in Path(db_path).read_bytes()
    assert await read_marker(db_path, KEY) == [(MARKER,), ("second",)]
    with pytest.raises(aiolibsql.DatabaseError):
        await aiolibsql.create_pool(db_path, size=2, encryption_key="wrong")


# Interoperability with the official libsql package, which runs in a
# subprocess: its engine is a separate copy of SQLite, and POSIX locks are per
# process.
LIBSQL_WRITE = """
import sys, libsql
conn = libsql.connect(sys.argv[1], encryption_key=sys.argv[2])
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("CREATE TABLE notes (body TEXT)")
conn.execute("INSERT INTO notes VALUES (?)", (sys.argv[3],))
conn.commit()
"""
LIBSQL_READ = """
import sys, libsql
conn = libsql.connect(sys.argv[1], encryption_key=sys.argv[2])
print(conn.execute("SELECT body FROM notes").fetchall())
"""


def run_libsql(script: str, *arguments: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", script, *arguments], capture_output=True, text=True, timeout=60, check=True
    )
    return completed.stdout.strip()


async def test_files_written_by_the_official_libsql_package_open_here(db_path: str) -> None:
    run_libsql(LIBSQL_WRITE, db_path, KEY, MARKER)
    assert await read_marker(db_path, KEY) == [(MARKER,)]


async def test_files_written_here_open_in_the_official_libsql_package(db_path: str) -> None:
    conn = await aiolibsql.connect(db_path, encryption_key=KEY)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("CREATE TABLE notes (body TEXT)")
    await conn.execute("INSERT INTO notes VALUES (?)", (MARKER,))
    await conn.commit()
    # The WAL still holds the rows while libsql reads the file.
    assert Path(db_path + "-wal").stat().st_size > 0
    assert run_libsql(LIBSQL_READ, db_path, KEY) == str([(MARKER,)])
    await conn.close()


async def test_a_cipher_without_a_key_is_refused(db_path: str) -> None:
    with pytest.raises(ValueError, match="encryption_key"):
        await aiolibsql.connect(db_path, cipher="chacha20")


async def test_rekey_refuses_keys_that_are_not_text_or_bytes(db_path: str) -> None:
    async with aiolibsql.connect(db_path, encryption_key=KEY) as conn:
        with pytest.raises(TypeError):
            await conn.rekey(42)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await conn.rekey("")
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]
