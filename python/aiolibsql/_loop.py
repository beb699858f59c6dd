"""Where each event loop collects the completions of the operations it started.

One CompletionPort per loop. Worker threads signal its file descriptor only
when its queue goes from empty to non-empty, so one wake-up of the loop
delivers every completion that arrived in the meantime.
"""

from __future__ import annotations

import asyncio
import select
import threading
import weakref

from ._native import CompletionPort

_ports: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CompletionPort] = weakref.WeakKeyDictionary()


def port_for(loop: asyncio.AbstractEventLoop) -> CompletionPort:
    """The completion port of ``loop``, created and registered on first use."""
    port = _ports.get(loop)
    if port is None:
        port = CompletionPort(loop)
        try:
            loop.add_reader(port.fd, port.drain)
        except NotImplementedError:
            _watch_from_thread(loop, port)
        _ports[loop] = port
    return port


def _watch_from_thread(loop: asyncio.AbstractEventLoop, port: CompletionPort) -> None:
    """For loops without add_reader: a thread waits on the descriptor and
    hands each drain to the loop, waiting for it before watching again."""
    loop_ref = weakref.ref(loop)

    def watch() -> None:
        drained = threading.Event()

        def drain() -> None:
            try:
                port.drain()
            finally:
                drained.set()

        while True:
            select.select([port.fd], [], [], 1.0)
            target = loop_ref()
            if target is None or target.is_closed():
                return
            drained.clear()
            try:
                target.call_soon_threadsafe(drain)
            except RuntimeError:
                return
            drained.wait()

    threading.Thread(target=watch, name="aiolibsql-completion-watcher", daemon=True).start()
