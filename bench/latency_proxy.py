"""A TCP proxy that delays every byte by a fixed time in each direction, so
a loopback server looks as far away as a real one; bandwidth is untouched
(chunks travel in order, each due its delay after it arrived)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    delivering = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                break
        await delivering
    except (ConnectionError, OSError):
        pass
    finally:
        delivering.cancel()
        with contextlib.suppress(BaseException):
            await delivering
        writer.close()


@contextlib.asynccontextmanager
async def latency_proxy(upstream_port: int, round_trip: float) -> AsyncIterator[int]:
    """Serves on a free port of 127.0.0.1 until the block ends; yields the port."""

    async def serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _forward(client_reader, server_writer, round_trip / 2),
            _forward(server_reader, client_writer, round_trip / 2),
        )

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
