"""Runs every `async def` test once on asyncio's default loop and once on uvloop."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop

LOOP_KINDS = ("asyncio", "uvloop")
# A hung test fails instead of hanging the suite.
TEST_TIMEOUT_SECONDS = 120


@pytest.fixture(autouse=True)
def event_loop_kind(request: pytest.FixtureRequest) -> str:
    """Which event loop runs this test (async tests are parametrized over both)."""
    return getattr(request, "param", "asyncio")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if inspect.iscoroutinefunction(metafunc.function):
        metafunc.parametrize("event_loop_kind", LOOP_KINDS, indirect=True)


def run_on(kind: str, coroutine: Coroutine[Any, Any, Any]) -> Any:
    runner: Callable[..., Any] = asyncio.run if kind == "asyncio" else uvloop.run
    return runner(asyncio.wait_for(coroutine, TEST_TIMEOUT_SECONDS))


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    run_on(pyfuncitem.funcargs["event_loop_kind"], pyfuncitem.obj(**arguments))
    return True


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    """A fresh database file path."""
    return str(tmp_path / "test.db")
