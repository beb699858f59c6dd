"""Runs a script that forks, in a fresh interpreter, and reports how its child
ended: a crash or a hang of the child is then seen as a failed exit status.

The script gets `DATABASE` (a path or a URL), `aiolibsql` and its blocking
module, `run_child(check, exit_mode)` which forks and returns the child's exit
status, and `expect_fork_error` / `expect_fork_error_async`, which pass only on
the InterfaceError an inherited object raises in a child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Only a guard against a hang: a healthy run takes well under a second.
HANG_GUARD_SECONDS = 60

FORK_AND_REPORT = """
def run_child(check, exit_mode):
    pid = os.fork()
    if pid == 0:
        try:
            check()
        except BaseException:
            import traceback
            traceback.print_exc()
            os._exit(3)
        sys.stdout.flush()
        if exit_mode == "os._exit":
            os._exit(0)
        sys.exit(0)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        print("child killed by signal", os.WTERMSIG(status))
        return 1
    return os.WEXITSTATUS(status)

def expect_fork_error(call):
    try:
        call()
    except aiolibsql.InterfaceError as error:
        assert "fork()" in str(error), error
    else:
        raise AssertionError("an inherited object worked after fork()")

async def expect_fork_error_async(awaitable):
    try:
        await awaitable
    except aiolibsql.InterfaceError as error:
        assert "fork()" in str(error), error
    else:
        raise AssertionError("an inherited object worked after fork()")
"""


def run_script(body: str, database: str | Path) -> subprocess.CompletedProcess[str]:
    script = "import asyncio, gc, os, sys, threading\nimport aiolibsql\nimport aiolibsql.dbapi as dbapi\n"
    script += f"DATABASE = {str(database)!r}\n" + FORK_AND_REPORT + textwrap.dedent(body)
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=HANG_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"the forked child or its parent hung:\n{output}")
    return subprocess.CompletedProcess(process.args, process.returncode, output, None)


EXIT_MODES = ["sys.exit", "os._exit"]
