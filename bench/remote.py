"""``python -m bench.remote`` (part of ``make bench``): remote databases over
Hrana, ours against every Python client of libSQL, on the same servers in one
run, on loopback and through a proxy that adds 20 ms of round-trip time.

Clients (bench/remote_clients.py), each measured in a fresh process in its
own environment: ours; the official ``libsql`` package (blocking, so through
``asyncio.to_thread``); ``aiolibsql`` 0.3.0 (Rust, the libsql crate); and
``libsql-client`` (asyncio, sqld's stream-less v1 API over http://).

Servers: tursodb from npm (native; only /v2 pipelines, no streams) and the
Hrana test server, which runs every workload and counts the round trips
each costs. Results go to bench/results/remote.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from servers.launch import hrana_server, tursodb  # noqa: E402

import aiolibsql  # noqa: E402
from bench.envs import ensure_env  # noqa: E402
from bench.latency_proxy import latency_proxy  # noqa: E402
from bench.remote_measure import MARKER, TASKS  # noqa: E402

ROUND_TRIP = 0.020
# Nothing here is allowed to hang the benchmark.
CHILD_TIMEOUT_S = 900


@dataclass(frozen=True)
class Client:
    key: str  # in bench.remote_clients.CLIENTS
    label: str
    env: str | None  # bench/.venv-<env>; None: this interpreter, with ours on the path
    requirements: tuple[str, ...] = ()


CLIENTS = (
    Client("ours", "aiolibsql (ours)", None),
    Client("official", "libsql (official, to_thread)", None),
    Client("aiolibsql-0.3.0", "aiolibsql 0.3.0", "aiolibsql-0.3.0", ("aiolibsql==0.3.0",)),
    Client("libsql-client", "libsql-client", "libsql-client", ("libsql-client==0.3.1",)),
)


@dataclass(frozen=True)
class Setting:
    name: str
    start: Callable[[], contextlib.AbstractContextManager[str]]
    transactions: bool  # the server keeps streams between requests
    counts_round_trips: bool
    delayed: bool


def test_server() -> contextlib.AbstractContextManager[str]:
    # sqld lets an idle stream expire after 10 s, and the official client
    # cannot recover from that (it fails every later statement): streams
    # here outlive the run, so that what is measured is speed.
    return hrana_server("--stream-expiry", "3600")


SETTINGS = (
    Setting("tursodb, loopback", tursodb, False, False, False),
    Setting("Hrana test server, loopback", test_server, True, True, False),
    Setting("Hrana test server, 20 ms round trips", test_server, True, True, True),
)


def workload_sizes(scale: int, delayed: bool) -> dict[str, int]:
    # Through the proxy every request costs 20 ms, so the blocking clients'
    # one request per row would take minutes for 10,000 rows.
    return {
        "sequential": (50 if delayed else 200) * scale,
        "per_task": 5 * scale,
        "many_rows": 1_000 if delayed else 10_000,
        "transactions": 5 * scale if delayed else 10 * scale,
    }


async def prepare(url: str) -> None:
    async with aiolibsql.connect(url, autocommit=True) as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS kv (k INTEGER PRIMARY KEY, v TEXT)")
        await conn.execute("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, k INTEGER)")
        await conn.executemany("INSERT OR REPLACE INTO kv VALUES (?, ?)", [(k, f"value {k}") for k in range(1000)])


async def run_client(python: Path, client: Client, spec: dict[str, Any]) -> dict[str, Any]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    paths = [str(ROOT)] + ([str(ROOT / "python")] if client.env is None else [])
    environment["PYTHONPATH"] = os.pathsep.join(paths)
    environment["PYTHONNOUSERSITE"] = "1"
    process = await asyncio.create_subprocess_exec(
        str(python),
        "-m",
        "bench.remote_measure",
        json.dumps(spec),
        cwd=ROOT,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), CHILD_TIMEOUT_S)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        return {"error": f"timed out after {CHILD_TIMEOUT_S} s"}
    lines = [line for line in stdout.decode().splitlines() if line.startswith(MARKER)]
    if lines:
        return json.loads(lines[-1][len(MARKER) :])  # type: ignore[no-any-return]
    return {"error": "exited without a result: " + " | ".join(stderr.decode().strip().splitlines()[-2:])}


@contextlib.contextmanager
def started(setting: Setting) -> Iterator[str]:
    with setting.start() as url:
        yield url


async def measure_once(setting: Setting, client: Client, python: Path, scale: int) -> dict[str, Any]:
    """Every workload on a fresh server; round trips per transaction where the server counts them."""
    with started(setting) as url:
        await prepare(url)
        async with contextlib.AsyncExitStack() as stack:
            target = url
            if setting.delayed:
                port = await stack.enter_async_context(latency_proxy(urlsplit(url).port or 80, ROUND_TRIP))
                target = f"http://127.0.0.1:{port}"
            spec: dict[str, Any] = {"client": client.key, "url": target, **workload_sizes(scale, setting.delayed)}
            spec["transactions"] = spec["transactions"] if setting.transactions else 0
            spec["stats_url"] = url + "/_stats" if setting.counts_round_trips else None
            return await run_client(python, client, spec)


def median(values: list[Any]) -> float | None:
    numbers = [value for value in values if isinstance(value, (int, float))]
    return statistics.median(numbers) if numbers else None


def table(setting: Setting, results: dict[str, dict[str, list[Any]]]) -> list[str]:
    """One setting's rows: each client's medians, and ours against the best peer for rates."""
    names: list[str] = []
    for collected in results.values():
        names += [name for name in collected if name != "error" and name not in names]
    lines = [f"## {setting.name}", "", "| Workload | " + " | ".join(results) + " | ours / best peer |"]
    lines.append("|---|" + "---|" * (len(results) + 1))
    ours_label = CLIENTS[0].label
    for name in names:
        cells = []
        for collected in results.values():
            cells.append(cell(collected[name]) if name in collected else cell(collected.get("error", ["-"])))
        ratio = "-"
        if name.endswith("/s)"):
            ours = median(results[ours_label].get(name, []))
            peers = [median(c.get(name, [])) for label, c in results.items() if label != ours_label]
            best = max((peer for peer in peers if peer), default=None)
            if ours and best:
                ratio = f"{ours / best:.2f}x"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {ratio} |")
    return [*lines, ""]


def latency_bound_notes(measured: dict[str, dict[str, dict[str, list[Any]]]]) -> list[str]:
    """How close 100 tasks come to the latency bound (tasks / round trip) at 20 ms,
    beside what the server itself serves on loopback (the best client's rate there)."""
    delayed = next(s for s in SETTINGS if s.delayed)
    loopback = next(s for s in SETTINGS if s.start is delayed.start and not s.delayed)
    bound = TASKS / ROUND_TRIP
    lines = [f"## {TASKS} tasks at {ROUND_TRIP * 1000:.0f} ms round trips against the latency bound", ""]
    lines += [
        "| Workload | bound | server on loopback | ours | of bound | of min(bound, server) |",
        "|---|---|---|---|---|---|",
    ]
    ours_label = CLIENTS[0].label
    for name in measured[delayed.name][ours_label]:
        if f"{TASKS} tasks" not in name or not name.endswith("/s)"):
            continue
        ours = median(measured[delayed.name][ours_label][name])
        server = max((median(c.get(name, [])) or 0 for c in measured[loopback.name].values()), default=0)
        if not ours or not server:
            continue
        reachable = min(bound, server)
        lines.append(
            f"| {name} | {bound:,.0f} | {server:,.0f} | {ours:,.0f} | {ours / bound:.0%} | {ours / reachable:.0%} |"
        )
    return [*lines, ""]


def cell(values: list[Any]) -> str:
    value = median(values)
    if value is not None:
        return f"{value:,.1f}"
    return str(values[0]) if values else "-"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    options = parser.parse_args()
    scale = 1 if options.quick else 2
    reps = 1 if options.quick else 3
    pythons: dict[str, Path] = {}
    unavailable: dict[str, str] = {}
    log: list[str] = []
    for client in CLIENTS:
        if client.env is None:
            pythons[client.key] = Path(sys.executable)
            continue
        env = ensure_env(ROOT / "bench", client.env, list(client.requirements), log)
        if env.failed:
            unavailable[client.key] = "; ".join(env.failed.values())
        else:
            pythons[client.key] = env.python
    lines = [
        "# Remote databases over Hrana",
        "",
        f"Medians of {reps} runs; each run on a fresh server. {TASKS} tasks means {TASKS} connections, "
        f"one per task. The 20 ms rows go through a proxy that delays each direction by "
        f"{ROUND_TRIP * 500:.0f} ms.",
        "",
    ]
    measured: dict[str, dict[str, dict[str, list[Any]]]] = {}
    for setting in SETTINGS:
        results: dict[str, dict[str, list[Any]]] = {}
        for client in CLIENTS:
            collected: dict[str, list[Any]] = {}
            if client.key in unavailable:
                collected["error"] = [f"not installed: {unavailable[client.key]}"]
            for _ in range(reps if client.key in pythons else 0):
                figures = await measure_once(setting, client, pythons[client.key], scale)
                for name, value in figures.items():
                    collected.setdefault(name, []).append(value)
                if "error" in figures:
                    break
            results[client.label] = collected
            print(f"{setting.name}: {client.label}: {collected}", flush=True)
        lines += table(setting, results)
        measured[setting.name] = results
    lines += latency_bound_notes(measured)
    report = "\n".join(lines)
    options.out.mkdir(parents=True, exist_ok=True)
    (options.out / "remote.md").write_text(report)
    print(report)


if __name__ == "__main__":
    asyncio.run(main())
