"""``python -m bench``: install the peers, prepare the data, measure, write the report.

Results go to bench/results/ (results.json, results.md, chart.png).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.child import MARKER
from bench.data import calibrate_stall, prepare
from bench.envs import Env, ensure_env
from bench.report import fmt_value, markdown
from bench.workloads import METRICS, POOL_WORKLOADS, WORKLOADS, Settings

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
WORK = BENCH / ".work"
CHILD_TIMEOUT_S = 240
CHART_ENV = "peers"
CHART_REQUIREMENTS = ["matplotlib>=3.8"]


@dataclass(frozen=True)
class DriverSpec:
    module: str  # adapter module in bench/drivers/
    label: str
    # virtual environment bench/.venv-<env>; None: the interpreter running the harness
    env: str | None
    requirements: tuple[str, ...] = ()
    ours: bool = False  # gets PYTHONPATH=<repo>/python


DRIVERS = (
    DriverSpec("sqlite3_sync", "sqlite3", None),
    DriverSpec("aiolibsql_ours", "aiolibsql (ours)", None, ours=True),
    DriverSpec("aiolibsql_pypi", "aiolibsql 0.3.0", "aiolibsql-0.3.0", ("aiolibsql==0.3.0",)),
    DriverSpec("aiosqlite_async", "aiosqlite", "peers", ("aiosqlite==0.22.1", "aiosqlitepool==1.0.0")),
    DriverSpec("libsql_thread", "libsql", "peers", ("libsql==0.1.11",)),
    DriverSpec("apsw_sync", "apsw", "peers", ("apsw==3.54.1.0",)),
)


def quick_settings() -> Settings:
    return Settings(
        reps=2,
        rep_seconds=0.2,
        warmup_seconds=0.05,
        many_rows=100_000,
        fetch_rows=100_000,
        stall_seconds=0.3,
    )


def child_env(spec: DriverSpec) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    paths = [str(ROOT)] + ([str(ROOT / "python")] if spec.ours else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONNOUSERSITE"] = "1"
    return env


def run_child(python: Path, spec: DriverSpec, request: dict[str, Any]) -> dict[str, Any]:
    scratch = Path(request.get("scratch") or WORK / "scratch")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        proc = subprocess.run(
            [str(python), "-m", "bench.child", json.dumps(request)],
            check=False,
            cwd=ROOT,
            env=child_env(spec),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {"status": "error", "reason": f"timed out after {CHILD_TIMEOUT_S} s"}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    if lines:
        return json.loads(lines[-1][len(MARKER) :])  # type: ignore[no-any-return]
    tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
    how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exited with {proc.returncode}"
    return {"status": "error", "reason": f"child {how} without a result: {tail}"}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return 0.0


def git_commit() -> str:
    proc = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() or "unknown"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument(
        "--quick",
        action="store_true",
        help="a short smoke run (figures not comparable)",
    )
    p.add_argument("--drivers", help="comma-separated labels or adapter modules (default: all)")
    p.add_argument(
        "--workloads",
        help=f"comma-separated, from: {', '.join(WORKLOADS)} (default: all)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=BENCH / "results",
        help="output folder (default: bench/results)",
    )
    p.add_argument(
        "--python",
        type=Path,
        default=Path(sys.executable),
        help="interpreter for our driver and sqlite3 (default: the one running this)",
    )
    return p.parse_args(argv)


def pick(options: str | None, names: list[str], what: str) -> set[str]:
    if not options:
        return set(names)
    wanted = {o.strip() for o in options.split(",") if o.strip()}
    unknown = wanted - set(names)
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(sorted(unknown))}")
    return wanted


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    settings = quick_settings() if args.quick else Settings()
    chosen = pick(
        args.drivers,
        [d.label for d in DRIVERS] + [d.module for d in DRIVERS],
        "drivers",
    )
    drivers = [d for d in DRIVERS if d.label in chosen or d.module in chosen]
    workloads = [w for w in WORKLOADS if w in pick(args.workloads, list(WORKLOADS), "workloads")]

    log: list[str] = []
    wanted: dict[str, list[str]] = {CHART_ENV: list(CHART_REQUIREMENTS)}
    for d in drivers:
        if d.env:
            wanted.setdefault(d.env, []).extend(d.requirements)
    envs: dict[str, Env] = {name: ensure_env(BENCH, name, reqs, log) for name, reqs in wanted.items()}

    data = WORK / "data.db"
    rows = settings.items_rows + settings.fetch_rows
    print(f"preparing {data.relative_to(ROOT)} ({rows:,} rows)", flush=True)
    prepare(data, settings)
    settings.stall_n = calibrate_stall(data, settings.stall_seconds)
    request = {
        "data": str(data),
        "scratch": str(WORK / "scratch"),
        "settings": settings.to_json(),
    }

    results: dict[str, Any] = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "cores": os.cpu_count(),
            "cpu": cpu_model(),
            "memory_gib": memory_gib(),
            "os": platform.platform(),
            "python": platform.python_version(),
            "commit": git_commit(),
            "load_before": os.getloadavg()[0],
            "load_after": None,
            "quick": args.quick,
            "settings": settings.to_json(),
            "setup": log,
            "duration_s": 0.0,
        },
        "drivers": {},
        "results": {w: {} for w in workloads},
    }
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        results["meta"]["duration_s"] = time.perf_counter() - started
        results["meta"]["load_after"] = os.getloadavg()[0]
        (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")

    pythons: dict[str, Path] = {}
    for d in drivers:
        env = envs.get(d.env) if d.env else None
        failed = [f"{r}: {env.failed[r]}" for r in d.requirements if env and r in env.failed]
        if failed:
            info: dict[str, Any] = {
                "status": "skipped",
                "reason": "install failed: " + "; ".join(failed),
            }
        else:
            pythons[d.label] = env.python if env else args.python
            info = run_child(
                pythons[d.label],
                d,
                {**request, "driver": d.module, "workload": "probe"},
            )
        results["drivers"][d.label] = info
        state = info.get("version") if info["status"] == "ok" else f"SKIPPED: {info['reason']}"
        print(f"driver {d.label}: {state}", flush=True)

    ready = [d for d in drivers if results["drivers"][d.label]["status"] == "ok"]
    jobs = [(w, d) for w in workloads for d in ready]
    for d in drivers:
        if d not in ready:
            for w in workloads:
                results["results"][w][d.label] = {
                    "status": "skipped",
                    "reason": results["drivers"][d.label]["reason"],
                }
    for i, (w, d) in enumerate(jobs, 1):
        if w in POOL_WORKLOADS and not results["drivers"][d.label]["pool"]:
            results["results"][w][d.label] = {"status": "n/a", "reason": "no pool"}
            continue
        t = time.perf_counter()
        cell = run_child(pythons[d.label], d, {**request, "driver": d.module, "workload": w})
        results["results"][w][d.label] = cell
        save()
        unit = next(m.unit for m in METRICS if m.workload == w)
        shown = f"{fmt_value(cell['value'], unit)} {unit}" if cell["status"] == "ok" else cell["status"].upper()
        reason = "" if cell["status"] == "ok" else f": {cell['reason'][:160]}"
        took = time.perf_counter() - t
        print(f"[{i:2}/{len(jobs)}] {w:<16} {d.label:<17} {shown}{reason} ({took:.1f} s)")
    save()

    chart = out / "chart.png"
    chart.unlink(missing_ok=True)
    chart_env = envs[CHART_ENV]
    if chart_env.failed:
        log.append(f"chart not drawn: {'; '.join(chart_env.failed.values())}")
    else:
        proc = subprocess.run(
            [
                str(chart_env.python),
                "-m",
                "bench.chart",
                str(out / "results.json"),
                str(chart),
            ],
            check=False,
            cwd=ROOT,
            env=child_env(DRIVERS[0]),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            log.append(f"chart not drawn: {' | '.join(proc.stderr.strip().splitlines()[-2:])}")
    save()
    (out / "results.md").write_text(markdown(results))
    print((out / "results.md").read_text())
    took = time.perf_counter() - started
    print(f"wrote results.json, results.md, chart.png to {out} in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
