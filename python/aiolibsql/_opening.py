"""What ``connect`` and ``create_pool`` return: awaitable, and an async context manager."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, Protocol, TypeVar


class _AsyncClosable(Protocol):
    async def __aexit__(self, exc_type: type[BaseException] | None, *exc_info: Any) -> None: ...


T = TypeVar("T", bound=_AsyncClosable)


class Opening(Generic[T]):
    """Await it for the opened object (``conn = await connect(...)``), or use
    it directly as ``async with connect(...) as conn``; both open once."""

    def __init__(self, opener: Callable[[], Awaitable[T]]) -> None:
        self._opener = opener
        self._opened: T | None = None

    def __await__(self) -> Generator[Any, None, T]:
        return self._open().__await__()

    async def _open(self) -> T:
        if self._opened is None:
            self._opened = await self._opener()
        return self._opened

    async def __aenter__(self) -> T:
        return await self._open()

    async def __aexit__(self, exc_type: type[BaseException] | None, *exc_info: Any) -> None:
        if self._opened is not None:
            await self._opened.__aexit__(exc_type, *exc_info)
