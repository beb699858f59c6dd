"""One measurement in a fresh process: ``python -m bench.child '<json spec>'``.

The spec names an adapter module of :mod:`bench.drivers` and a workload of
:mod:`bench.workloads` (or ``"probe"`` to report the driver's identity).
The last stdout line starting with :data:`MARKER` carries the JSON outcome:
``{"status": "ok", ...}``, ``{"status": "skipped", "reason": ...}`` (the
driver cannot be imported here) or ``{"status": "error", "reason": ...}``.
Only the standard library and the driver are imported.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import platform
import sys
import traceback
from pathlib import Path
from typing import Any

MARKER = "BENCH-RESULT "


def emit(outcome: dict[str, Any]) -> None:
    print(MARKER + json.dumps(outcome), flush=True)


def failure(status: str, exc: BaseException) -> dict[str, Any]:
    reason = f"{type(exc).__name__}: {exc}".strip()
    return {
        "status": status,
        "reason": reason,
        "traceback": traceback.format_exc(limit=-6),
    }


def main(argv: list[str]) -> int:
    from bench.drivers.base import Driver
    from bench.workloads import WORKLOADS, Ctx, Settings

    spec = json.loads(argv[0])
    try:
        driver: Driver = importlib.import_module(f"bench.drivers.{spec['driver']}").DRIVER
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # ImportError, DriverUnavailable, a PyO3 panic...
        emit(failure("skipped", exc))
        return 0
    if spec["workload"] == "probe":
        emit(
            {
                "status": "ok",
                "name": driver.name,
                "version": driver.version,
                "module_file": driver.module_file,
                "pool": driver.create_pool is not None,
                "how": driver.how,
                "python": platform.python_version(),
                "executable": sys.executable,
            }
        )
        return 0
    ctx = Ctx(
        data=Path(spec["data"]),
        scratch=Path(spec["scratch"]),
        s=Settings(**spec["settings"]),
    )
    try:
        result = asyncio.run(WORKLOADS[spec["workload"]](driver, ctx))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # any failure is recorded, never a figure
        emit(failure("error", exc))
        return 0
    emit({"status": "ok", **result})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
