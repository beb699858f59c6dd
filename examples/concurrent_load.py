"""The seed's claim, simulated: thousands of Discord guilds on one database file.

2,000 guilds run as asyncio tasks against one file through the pool, with a
bot's mix of work (reading settings and profiles, incrementing counters,
logging events) for a fixed time. Then it prints throughput, latency, how many
operations met SQLITE_BUSY (the answer must be 0), and checks that every write
the pool acknowledged is in the file after closing and reopening it.

    python examples/concurrent_load.py [--guilds 2000] [--seconds 5] [--path guilds.db]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass, field

import aiolibsql

MEMBERS_PER_GUILD = 10


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    increments: int = 0
    logs: int = 0
    busy: int = 0
    other_errors: list[str] = field(default_factory=list)


async def create_schema(pool: aiolibsql.ConnectionPool, guilds: int) -> None:
    await pool.executebatch(
        [
            ("CREATE TABLE settings (guild_id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, locale TEXT NOT NULL)",),
            ("CREATE TABLE profiles (user_id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, xp INTEGER NOT NULL)",),
            ("CREATE TABLE counters (guild_id INTEGER PRIMARY KEY, messages INTEGER NOT NULL)",),
            ("CREATE TABLE logs (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, event TEXT NOT NULL)",),
        ]
    )
    await pool.executemany("INSERT INTO settings VALUES (?, '!', 'en')", ((g,) for g in range(guilds)))
    await pool.executemany("INSERT INTO counters VALUES (?, 0)", ((g,) for g in range(guilds)))
    await pool.executemany(
        "INSERT INTO profiles VALUES (?, ?, 0)",
        ((g * MEMBERS_PER_GUILD + m, g) for g in range(guilds) for m in range(MEMBERS_PER_GUILD)),
    )


async def guild(pool: aiolibsql.ConnectionPool, guild_id: int, deadline: float, tally: Tally) -> None:
    chooser = random.Random(guild_id)
    while time.perf_counter() < deadline:
        roll = chooser.random()
        started = time.perf_counter()
        try:
            if roll < 0.5:
                cursor = await pool.execute("SELECT prefix, locale FROM settings WHERE guild_id = ?", (guild_id,))
                await cursor.fetchone()
            elif roll < 0.7:
                member = guild_id * MEMBERS_PER_GUILD + chooser.randrange(MEMBERS_PER_GUILD)
                cursor = await pool.execute("SELECT xp FROM profiles WHERE user_id = ?", (member,))
                await cursor.fetchone()
            elif roll < 0.9:
                await pool.execute("UPDATE counters SET messages = messages + 1 WHERE guild_id = ?", (guild_id,))
                tally.increments += 1
            else:
                await pool.execute("INSERT INTO logs (guild_id, event) VALUES (?, ?)", (guild_id, "message"))
                tally.logs += 1
        except aiolibsql.OperationalError as error:
            if error.sqlite_errorname and error.sqlite_errorname.startswith("SQLITE_BUSY"):
                tally.busy += 1
            else:
                tally.other_errors.append(repr(error))
        tally.latencies.append(time.perf_counter() - started)


async def verify(path: str, tally: Tally) -> tuple[int, int]:
    async with aiolibsql.connect(path) as conn:
        (messages,) = (await (await conn.execute("SELECT sum(messages) FROM counters")).fetchone()) or (0,)
        (logs,) = (await (await conn.execute("SELECT count(*) FROM logs")).fetchone()) or (0,)
    return messages, logs


async def main(guilds: int, seconds: float, path: str) -> int:
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    tally = Tally()
    async with aiolibsql.create_pool(path, size=8) as pool:
        await create_schema(pool, guilds)
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        await asyncio.gather(*(guild(pool, g, deadline, tally) for g in range(guilds)))
        elapsed = time.perf_counter() - started
        stats = pool.stats()
    messages, logs = await verify(path, tally)

    operations = len(tally.latencies)
    ordered = sorted(tally.latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0
    group = stats["group_commit"]
    print(f"{guilds} guilds on one file for {elapsed:.1f} s through a pool of 1 writer + 7 readers")
    print(f"  operations:      {operations:,} ({operations / elapsed:,.0f} per second)")
    print(f"  latency:         p50 {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    print(f"  SQLITE_BUSY:     {tally.busy}")
    print(f"  other errors:    {len(tally.other_errors)}")
    print(f"  group commit:    {group['grouped_operations']:,} writes in {group['groups']:,} groups")
    print(f"  counter check:   {messages:,} in the file, {tally.increments:,} acknowledged")
    print(f"  log rows check:  {logs:,} in the file, {tally.logs:,} acknowledged")
    healthy = tally.busy == 0 and not tally.other_errors and messages == tally.increments and logs == tally.logs
    print("  every acknowledged write is in the file" if healthy else "  FAILED: see the figures above")
    for error in tally.other_errors[:5]:
        print(f"    {error}")
    return 0 if healthy else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--path", default=os.path.join(tempfile.gettempdir(), "aiolibsql-guilds.db"))
    arguments = parser.parse_args()
    raise SystemExit(asyncio.run(main(arguments.guilds, arguments.seconds, arguments.path)))
