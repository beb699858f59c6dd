"""The native future every operation returns: asyncio's future protocol, the
drain waking awaiters at once, and cancellation reaching the engine."""

from __future__ import annotations

import asyncio
import contextvars
import time
import traceback
from typing import Any

import pytest

import aiolibsql
from aiolibsql import _native

SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c"
# Enough rows to keep the engine busy for far longer than any test waits.
ENDLESS = 10**12

label: contextvars.ContextVar[str] = contextvars.ContextVar("label", default="none")


def start(conn: aiolibsql.Connection, sql: str, parameters: tuple[Any, ...] = ()) -> Any:
    """Submit a statement and return its native future, without awaiting it."""
    return conn._native.execute(conn._runner.port(), sql, parameters)


async def test_a_pending_operation_is_an_asyncio_future_of_the_running_loop() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        future = start(conn, SLOW, (ENDLESS,))
        assert isinstance(future, _native.Future)
        assert asyncio.isfuture(future)
        assert future.get_loop() is asyncio.get_running_loop()
        assert not future.done() and not future.cancelled()
        with pytest.raises(asyncio.InvalidStateError):
            future.result()
        with pytest.raises(asyncio.InvalidStateError):
            future.exception()
        assert "pending" in repr(future)
        future.cancel()


async def test_awaiting_a_finished_future_again_returns_the_same_value() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        future = start(conn, "SELECT 41 + 1")
        rows = await future
        assert await future is rows
        assert future.result() is rows and future.exception() is None
        assert rows.fetchall() == [(42,)]


async def test_an_engine_error_is_raised_by_await_and_kept_by_exception() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        start(conn, SLOW, (200_000,))  # keeps the next one queued, so it is pending
        future = start(conn, "SELECT * FROM missing_table")
        with pytest.raises(aiolibsql.OperationalError, match="missing_table"):
            await future
        assert isinstance(future.exception(), aiolibsql.OperationalError)


async def test_done_callbacks_run_in_order_each_in_its_own_context() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        seen: list[tuple[str, str]] = []
        future = start(conn, SLOW, (200_000,))
        for name in ("first", "second", "third"):
            context = contextvars.copy_context()
            context.run(label.set, name)
            future.add_done_callback(lambda f, name=name: seen.append((name, label.get())), context=context)
        await future
        await asyncio.sleep(0)
        assert seen == [("first", "first"), ("second", "second"), ("third", "third")]


async def test_a_callback_added_after_completion_runs_on_the_next_iteration_not_at_once() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        future = start(conn, "SELECT 1")
        await future
        called: list[object] = []
        future.add_done_callback(called.append)
        assert called == []
        await asyncio.sleep(0)
        assert called == [future]


async def test_remove_done_callback_forgets_every_registration_and_counts_them() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        called: list[str] = []

        def kept(_: object) -> None:
            called.append("kept")

        def removed(_: object) -> None:
            called.append("removed")

        future = start(conn, SLOW, (200_000,))
        future.add_done_callback(removed)
        future.add_done_callback(kept)
        future.add_done_callback(removed)
        assert future.remove_done_callback(removed) == 2
        assert future.remove_done_callback(removed) == 0
        await future
        await asyncio.sleep(0)
        assert called == ["kept"]


async def test_cancelling_the_future_interrupts_the_statement_and_keeps_its_message() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        future = start(conn, SLOW, (ENDLESS,))
        await asyncio.sleep(0.05)
        assert future.cancel("caller gave up")
        assert not future.cancel()
        assert future.cancelled() and future.done()
        with pytest.raises(asyncio.CancelledError, match="caller gave up"):
            future.result()
        with pytest.raises(asyncio.CancelledError):
            await future
        started = time.perf_counter()
        assert await conn.execute_fetchall("SELECT 1") == [(1,)]
        assert time.perf_counter() - started < 10


async def test_gather_and_shield_take_native_futures() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        first, second = await asyncio.gather(start(conn, "SELECT 1"), start(conn, "SELECT 2"))
        assert (first.fetchall(), second.fetchall()) == ([(1,)], [(2,)])
        inner = start(conn, SLOW, (300_000,))
        outer = asyncio.shield(inner)
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer
        assert (await inner).fetchall() == [(300_000,)]


async def test_wait_for_timing_out_cancels_the_running_statement() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(conn.execute_fetchall(SLOW, (ENDLESS,)), 0.05)
        assert await asyncio.wait_for(conn.execute_fetchall("SELECT 1"), 10) == [(1,)]


async def test_an_error_in_a_done_callback_goes_to_the_loop_and_other_awaiters_still_wake() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        reported: list[dict[str, Any]] = []
        asyncio.get_running_loop().set_exception_handler(lambda _loop, details: reported.append(details))

        def broken(_: object) -> None:
            raise ValueError("callback failed")

        # The first runs a while, so the others queue and finish in its wake.
        futures = [start(conn, SLOW, (200_000,))] + [start(conn, "SELECT ?", (n,)) for n in range(1, 20)]
        futures[0].add_done_callback(broken)
        values = [(await future).fetchall() for future in futures]
        assert values == [[(200_000,)]] + [[(n,)] for n in range(1, 20)]
        await asyncio.sleep(0)
        assert [type(details["exception"]) for details in reported] == [ValueError]
        assert reported[0]["future"] is futures[0]


def test_keyboard_interrupt_in_a_callback_stops_the_loop_and_loses_no_wake_up() -> None:
    loop = asyncio.new_event_loop()
    try:
        conn = loop.run_until_complete(aiolibsql.connect(":memory:"))
        woken: list[int] = []

        def interrupt(_: object) -> None:
            raise KeyboardInterrupt

        async def submit() -> list[Any]:
            futures = [start(conn, SLOW, (200_000,))] + [start(conn, "SELECT ?", (n,)) for n in range(1, 10)]
            futures[0].add_done_callback(interrupt)
            for n, future in enumerate(futures):
                future.add_done_callback(lambda _, n=n: woken.append(n))
            return futures

        futures = loop.run_until_complete(submit())
        with pytest.raises(KeyboardInterrupt):
            loop.run_until_complete(asyncio.gather(*futures))
        loop.run_until_complete(asyncio.sleep(0.05))
        assert sorted(woken) == list(range(10))
        loop.run_until_complete(conn.close())
    finally:
        loop.close()


async def test_gather_with_return_exceptions_reports_a_cancelled_future_as_cancelled_error() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        start(conn, SLOW, (200_000,))  # keeps the next one queued, so it is pending
        future = start(conn, "SELECT 1")
        gathered = asyncio.gather(future, return_exceptions=True)
        future.cancel("not needed")
        (outcome,) = await asyncio.wait_for(gathered, 10)
        assert isinstance(outcome, asyncio.CancelledError)
        assert future._cancel_message == "not needed"


async def test_removing_callbacks_survives_an_eq_that_removes_callbacks_itself() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        future = start(conn, SLOW, (ENDLESS,))

        class Meddler:
            armed = True

            def __call__(self, _: object) -> None:
                pass

            def __eq__(self, other: object) -> bool:
                # Once: removes itself, the pair being compared right now.
                if Meddler.armed:
                    Meddler.armed = False
                    future.remove_done_callback(self)
                return False

            __hash__ = object.__hash__

        future.add_done_callback(lambda _: None)
        future.add_done_callback(Meddler())
        future.add_done_callback(lambda _: None)
        assert future.remove_done_callback(object()) == 0
        future.cancel()


async def test_an_error_raised_again_does_not_grow_its_traceback() -> None:
    async with aiolibsql.connect(":memory:") as conn:
        start(conn, SLOW, (200_000,))  # keeps the next one queued, so it is pending
        future = start(conn, "SELECT * FROM missing_table")
        depths = []
        for _ in range(3):
            try:
                await future
            except aiolibsql.OperationalError as error:
                depths.append(len(traceback.extract_tb(error.__traceback__)))
        assert depths[0] == depths[1] == depths[2]
