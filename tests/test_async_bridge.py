"""The async bridge: ordering, concurrency, wake-ups, loops, cancellation, stalls, streaming."""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import TypeVar

import pytest

import aiolibsql
from aiolibsql import _loop

T = TypeVar("T")


class WorkerGate:
    """Holds a connection's worker inside `SELECT gate()` until the test lets
    it go; `SELECT started()` only says the worker got there. Tests use it to
    know, not guess, that a statement is running."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self._released = threading.Event()

    async def install(self, conn: aiolibsql.Connection) -> None:
        await conn.create_function("gate", 0, self._hold)
        await conn.create_function("started", 0, self._started)

    def _started(self) -> int:
        self.entered.set()
        return 1

    def _hold(self) -> int:
        self.entered.set()
        self._released.wait(60)
        return 1

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 60), "the statement never started"

    def release(self) -> None:
        self._released.set()


# Runs until cancelled or interrupted, after telling the gate it started.
ENDLESS_AFTER_START = "WITH RECURSIVE c(x) AS (SELECT started() UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"


async def test_operations_on_one_connection_run_in_submission_order() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE log (n INTEGER)")
        await asyncio.gather(*(conn.execute("INSERT INTO log VALUES (?)", (n,)) for n in range(300)))
        rows = await conn.execute_fetchall("SELECT n FROM log ORDER BY rowid")
        assert [n for (n,) in rows] == list(range(300))


async def test_many_tasks_share_one_connection() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        await conn.executemany("INSERT INTO t (id, v) VALUES (?, ?)", ((i, f"v{i}") for i in range(100)))

        async def reader(task: int) -> None:
            for step in range(50):
                key = (task * 7 + step) % 100
                cursor = await conn.execute("SELECT v FROM t WHERE id = ?", (key,))
                assert await cursor.fetchone() == (f"v{key}",)

        await asyncio.gather(*(reader(task) for task in range(100)))


async def test_connections_run_in_parallel() -> None:
    async with aiolibsql.connect(":memory:") as slow, aiolibsql.connect(":memory:") as fast:
        gate = WorkerGate()
        await gate.install(slow)
        held = asyncio.ensure_future(slow.execute_fetchall("SELECT gate()"))
        await gate.wait_entered()
        # The first connection's worker is held: the second one answers anyway.
        assert await fast.execute_fetchall("SELECT 42") == [(42,)]
        assert not held.done()
        gate.release()
        assert await held == [(1,)]


async def test_one_wakeup_delivers_every_completion_waiting() -> None:
    # Only operations that go through the worker complete through the port.
    async with aiolibsql.connect(":memory:", inline_reads=False) as conn:
        gate = WorkerGate()
        await gate.install(conn)
        last_one_ran = threading.Event()
        await conn.create_function("last_one", 0, lambda: last_one_ran.set() or 1)
        loop = asyncio.get_running_loop()
        port = _loop.port_for(loop)
        drains = 0
        delivered_by: list[int] = []

        def counting_drain() -> None:
            nonlocal drains
            drains += 1
            port.drain()

        loop.remove_reader(port.fd)
        loop.add_reader(port.fd, counting_drain)
        try:

            async def resumed(sql: str, parameters: tuple[int, ...] = ()) -> aiolibsql.Cursor:
                cursor = await conn.execute(sql, parameters)
                # Which wake-up brought this completion back to its task.
                delivered_by.append(drains)
                return cursor

            # The gate holds the worker, so the rest queue behind it.
            blocker = asyncio.ensure_future(resumed("SELECT gate()"))
            await gate.wait_entered()
            pending = [asyncio.ensure_future(resumed("SELECT ?", (n,))) for n in range(50)]
            after = asyncio.ensure_future(conn.execute("SELECT last_one()"))
            await asyncio.sleep(0)  # every task submits its operation
            gate.release()
            # The loop stays busy until the worker has completed every one of
            # them and started the statement queued after them.
            assert last_one_ran.wait(60)
            await blocker
            cursors = await asyncio.gather(*pending)
            await after
        finally:
            loop.remove_reader(port.fd)
            loop.add_reader(port.fd, port.drain)
        assert [await cursor.fetchone() for cursor in cursors] == [(n,) for n in range(50)]
        assert len(delivered_by) == 51
        assert set(delivered_by) == {delivered_by[0]}, "the completions took more than one wake-up"


def test_a_connection_can_be_awaited_from_another_threads_loop(event_loop_kind: str) -> None:
    async def open_connection() -> aiolibsql.Connection:
        conn = await aiolibsql.connect(":memory:")
        await conn.execute("CREATE TABLE t (x)")
        return conn

    conn = asyncio.run(open_connection())
    results: list[object] = []

    def other_thread() -> None:
        async def use() -> None:
            await conn.execute("INSERT INTO t VALUES (7)")
            results.append(await conn.execute_fetchall("SELECT x FROM t"))
            await conn.close()

        asyncio.run(use())

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join(30)
    assert results == [[(7,)]]


def test_writes_from_loops_run_one_after_another_on_one_thread_complete_on_each(event_loop_kind: str) -> None:
    # A queued statement completes on the loop that awaited it, though the
    # loop before it on this thread is stopped, not closed, and its
    # completion port is still registered.
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        conn = first.run_until_complete(aiolibsql.connect(":memory:"))
        first.run_until_complete(conn.execute("CREATE TABLE t (x)"))
        # Long enough to outlast the hand-off wait: its future is awaited.
        insert = "INSERT INTO t SELECT value FROM generate_series(1, 100000)"
        for loop in (first, second, first, second):
            loop.run_until_complete(asyncio.wait_for(conn.execute(insert), 30))
        rows = second.run_until_complete(asyncio.wait_for(conn.execute_fetchall("SELECT count(*) FROM t"), 30))
        assert rows == [(400000,)]
        second.run_until_complete(conn.close())
    finally:
        first.close()
        second.close()


async def test_cancelling_a_queued_operation_removes_it() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t (x)")
        gate = WorkerGate()
        await gate.install(conn)
        blocker = asyncio.ensure_future(conn.execute_fetchall("SELECT gate()"))
        await gate.wait_entered()
        queued = asyncio.ensure_future(conn.execute("INSERT INTO t VALUES (1)"))
        await asyncio.sleep(0)  # the insert is submitted, behind the gate
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        gate.release()
        assert await blocker == [(1,)]
        assert await conn.execute_fetchall("SELECT count(*) FROM t") == [(0,)]


async def test_cancelling_a_running_statement_interrupts_it_and_the_connection_stays_usable() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        gate = WorkerGate()
        await gate.install(conn)
        running = asyncio.ensure_future(conn.execute_fetchall(ENDLESS_AFTER_START))
        await gate.wait_entered()
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        # The statement never ends by itself: only the interruption lets this through.
        assert await asyncio.wait_for(conn.execute_fetchall("SELECT 1"), 60) == [(1,)]


async def test_the_event_loop_keeps_running_while_a_statement_runs() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        gate = WorkerGate()
        await gate.install(conn)
        held = asyncio.ensure_future(conn.execute_fetchall("SELECT gate()"))
        await gate.wait_entered()
        # A thousand turns of the loop while the statement is still running.
        for _ in range(1000):
            await asyncio.sleep(0)
        assert not held.done()
        gate.release()
        assert await held == [(1,)]


@pytest.mark.resident_memory
def test_iterating_ten_million_rows_keeps_memory_bounded() -> None:
    async def iterate() -> tuple[int, int]:
        async with aiolibsql.connect(":memory:") as conn:
            await conn.execute_fetchall("SELECT value FROM generate_series(1, 100000)")
            baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            count = 0
            total = 0
            cursor = await conn.execute("SELECT value, 'row ' || value FROM generate_series(1, 10000000)")
            async for value, _label in cursor:
                count += 1
                total += value
            assert total == 10_000_000 * 10_000_001 // 2
            return count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline

    count, growth_kib = asyncio.run(iterate())
    assert count == 10_000_000
    # Holding the rows would take well over a gigabyte; streaming needs a few chunks.
    assert growth_kib < 100 * 1024


async def test_closing_fails_queued_operations_with_a_clear_error() -> None:
    conn = await aiolibsql.connect(":memory:")
    gate = WorkerGate()
    await gate.install(conn)
    running = asyncio.ensure_future(conn.execute("SELECT gate()"))
    await gate.wait_entered()
    queued = [asyncio.ensure_future(conn.execute("SELECT 1")) for _ in range(3)]
    await asyncio.sleep(0)  # they are submitted, behind the gate
    closing = asyncio.ensure_future(conn.close())
    await asyncio.sleep(0)  # the close is submitted too
    gate.release()
    await closing
    # The running statement finished; its cursor belongs to a closed connection now.
    finished = await running
    with pytest.raises(aiolibsql.ProgrammingError):
        await finished.fetchall()
    for operation in queued:
        with pytest.raises(aiolibsql.ProgrammingError, match="closed"):
            await operation
    with pytest.raises(aiolibsql.ProgrammingError):
        await conn.execute("SELECT 1")


def test_no_worker_thread_outlives_its_connection(tmp_path: Path) -> None:
    # In a fresh interpreter, where no earlier test's thread is still parking.
    script = tmp_path / "threads.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import asyncio, sys
            sys.path.insert(0, {str(Path(__file__).parent)!r})
            import aiolibsql
            from worker_threads import running_worker_threads, running_worker_threads_once_at_most

            async def main():
                connections = [await aiolibsql.connect(":memory:") for _ in range(5)]
                # Opening runs on the loop's thread: no worker yet.
                assert running_worker_threads() == 0
                # A write is queued, which starts each connection's worker.
                for conn in connections:
                    await conn.execute("CREATE TABLE t(x)")
                assert running_worker_threads() == 5
                for conn in connections:
                    await conn.close()
                assert await running_worker_threads_once_at_most(0) == 0
                print("threads let go")

            asyncio.run(main())
            """
        )
    )
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "threads let go\n"


def test_interpreter_exit_with_open_connections_neither_hangs_nor_crashes(tmp_path: Path) -> None:
    script = tmp_path / "exit.py"
    script.write_text(
        "import asyncio, aiolibsql\n"
        "async def main():\n"
        "    global keep\n"
        "    keep = [await aiolibsql.connect(':memory:') for _ in range(3)]\n"
        "    await keep[0].execute('CREATE TABLE t (x)')\n"
        "    asyncio.ensure_future(keep[1].execute(\n"
        "        'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c'))\n"
        "    await asyncio.sleep(0.1)\n"
        "asyncio.run(main())\n"
        "print('exited')\n"
    )
    completed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "exited\n"


def test_loops_without_add_reader_are_served_from_a_watcher_thread() -> None:
    class NoReaderLoop(asyncio.SelectorEventLoop):
        def add_reader(self, *args: object, **kwargs: object) -> None:
            raise NotImplementedError

    async def use() -> list[object]:
        async with aiolibsql.connect(":memory:") as conn:
            return await conn.execute_fetchall("SELECT 'served'")

    loop = NoReaderLoop()
    try:
        assert loop.run_until_complete(asyncio.wait_for(use(), 30)) == [("served",)]
    finally:
        loop.close()


async def test_a_task_awaiting_quick_statements_in_a_loop_lets_other_tasks_run() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        await conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, f"v{i}") for i in range(100)))
        await conn.commit()

        ticks_while_busy = 0
        busy = True

        async def other_task() -> None:
            nonlocal ticks_while_busy
            while busy:
                ticks_while_busy += 1
                await asyncio.sleep(0)

        ticking = asyncio.ensure_future(other_task())
        await asyncio.sleep(0)
        ticks_while_busy = 0
        # Every statement here finishes inline or within the handoff wait, so
        # without the streak cap this loop would never let the other task run.
        for done in range(20_000):
            cursor = await conn.execute("SELECT v FROM t WHERE id = ?", (done % 100,))
            assert await cursor.fetchone() == (f"v{done % 100}",)
        busy = False
        await ticking
        assert ticks_while_busy > 0, "the other task never ran while statements kept completing"


def test_a_connection_serves_successive_event_loops_in_one_thread(event_loop_kind: str) -> None:
    async def open_connection() -> aiolibsql.Connection:
        return await aiolibsql.connect(":memory:", inline_reads=False)

    conn = asyncio.run(open_connection())
    # Each run is a new loop in the same thread: results must reach the loop that awaits them.
    assert asyncio.run(conn.execute_fetchall("SELECT 1")) == [(1,)]
    assert asyncio.run(conn.execute_fetchall("SELECT 2")) == [(2,)]
    asyncio.run(conn.close())
