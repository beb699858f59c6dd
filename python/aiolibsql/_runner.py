"""Starting native operations from asyncio and awaiting them."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from threading import get_ident
from typing import Any, Protocol, TypeVar

from . import _native
from ._loop import port_for
from .exceptions import ProgrammingError

T = TypeVar("T")

# Bumped in a fork() child: a loop cached before the fork is the parent's,
# still marked as running there, and must not be used again.
_fork_generation = 0


def _after_fork_in_child() -> None:
    global _fork_generation
    _fork_generation += 1


os.register_at_fork(after_in_child=_after_fork_in_child)


def inline_reads_default() -> bool:
    """Whether short reads run inline unless a connection says otherwise
    (``AIOLIBSQL_INLINE_READS=0`` turns them off)."""
    return os.environ.get("AIOLIBSQL_INLINE_READS", "1") != "0"


class _Closable(Protocol):
    @property
    def closed(self) -> bool: ...


class Runner:
    """Submits operations of one native object (a connection or a pool) to
    the completion port of the running loop."""

    __slots__ = ("_closed_message", "_loop_port", "native", "pending_setting")

    def __init__(self, native: _Closable, closed_message: str) -> None:
        self.native = native
        self._closed_message = closed_message
        # The last loop used, its port and its thread, as one tuple so that
        # threads using the connection from their own loops never see a
        # mismatched set.
        self._loop_port: tuple[asyncio.AbstractEventLoop, _native.CompletionPort, int, int] | None = None
        #: A setting change nobody awaits (a property setter started it); the
        #: next operation waits for it and raises its error, if any.
        self.pending_setting: Awaitable[Any] | None = None

    def check_open(self) -> None:
        if self.native.closed:
            raise ProgrammingError(self._closed_message)

    def port(self) -> _native.CompletionPort:
        """The completion port of the event loop running this call."""
        cached = self._loop_port
        # One loop runs per thread at a time: if the loop cached for this
        # thread is running, it is the running loop. That spares
        # get_running_loop(), which costs a getpid() system call on 3.11.
        if cached is not None and cached[2] == get_ident() and cached[3] == _fork_generation and cached[0].is_running():
            return cached[1]
        loop = asyncio.get_running_loop()
        port = port_for(loop)
        self._loop_port = (loop, port, get_ident(), _fork_generation)
        return port

    def submit(self, method: Callable[..., Awaitable[T]], *args: Any) -> Awaitable[T]:
        """Start ``method(port, *args)``; await what it returns. Not a
        coroutine itself, so the await costs no extra frame: the native future
        wakes the awaiting task, and cancelling the task cancels the operation
        (dropped while queued, interrupted while running)."""
        self.check_open()
        if self.pending_setting is not None:
            return self._submit_after_setting(method, args)
        return method(self.port(), *args)

    async def _submit_after_setting(self, method: Callable[..., Awaitable[T]], args: tuple[Any, ...]) -> T:
        await self.settle()
        return await method(self.port(), *args)

    async def settle(self) -> None:
        """Wait for a pending setting change; raise its error if it failed.

        Every operation started meanwhile waits here too, and each queues its
        own work as it wakes, in the order they came: the setting is cleared
        only once it is done. Its error goes to the first of them only."""
        setting = self.pending_setting
        if setting is None:
            return
        try:
            await asyncio.shield(setting)
        except BaseException:
            if not asyncio.isfuture(setting) or not setting.done():
                raise  # this operation was cancelled while it waited
            if self.pending_setting is not setting:
                return  # an earlier operation raised the setting's error
            self.pending_setting = None
            raise
        if self.pending_setting is setting:
            self.pending_setting = None
