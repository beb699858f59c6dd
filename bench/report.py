"""results.json -> results.md (standard library only; the chart is bench.chart)."""

from __future__ import annotations

from typing import Any

from bench.workloads import METRICS, Metric

BASELINE = "sqlite3"
QUICK_NOTE = (
    "**Quick smoke run (`--quick`): short repetitions and 100,000-row bulk workloads; not comparable with a full run.**"
)


def figure(results: dict[str, Any], driver: str, metric: Metric) -> float | None:
    cell = results["results"].get(metric.workload, {}).get(driver)
    if not cell or cell.get("status") != "ok":
        return None
    value = cell.get(metric.key)
    return float(value) if value is not None else None


def ratio(results: dict[str, Any], driver: str, metric: Metric) -> float | None:
    value = figure(results, driver, metric)
    base_metric = next(m for m in METRICS if m.id == (metric.baseline or metric.id))
    base = figure(results, BASELINE, base_metric)
    if value is None or not base:
        return None
    return value / base


def fmt_value(value: float, unit: str) -> str:
    if unit in ("ops/s", "rows/s", "MB"):
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def cell_text(results: dict[str, Any], driver: str, metric: Metric, notes: dict[str, int]) -> str:
    cell = results["results"].get(metric.workload, {}).get(driver)
    if cell is None:
        return "-"
    if cell["status"] == "n/a":
        return "n/a"
    if cell["status"] != "ok":
        key = f"{driver}: {cell['reason']}"
        notes.setdefault(key, len(notes) + 1)
        return f"{cell['status']} [{notes[key]}]"
    value = figure(results, driver, metric)
    if value is None:
        return "-"
    r = ratio(results, driver, metric)
    return fmt_value(value, metric.unit) + (f" ({fmt_ratio(r)})" if r is not None else "")


def machine(meta: dict[str, Any]) -> str:
    ram = f"{meta['memory_gib']:.0f} GiB RAM"
    return f"{meta['cores']} cores, {meta['cpu']}, {ram}, {meta['os']}"


def load(meta: dict[str, Any]) -> str:
    before, after = meta["load_before"], meta["load_after"] or 0.0
    return (
        f"1-minute load average {before:.2f} before, {after:.2f} after"
        " (well above 1 means other processes shared the cores)"
    )


def method(s: dict[str, Any]) -> str:
    return (
        f"- Method: every (driver, workload) in a fresh process; warm-up, then"
        f" {s['reps']} repetitions, median shown. Throughput repetitions are"
        f" time-boxed to {s['rep_seconds']:g} s. Data file: {s['items_rows']:,} rows"
        f" in `items` (point selects), {s['fetch_rows']:,} in `big` (fetchall), WAL"
        " mode; inserts write a fresh file per repetition. `PRAGMA synchronous=NORMAL`"
        " and `journal_mode=WAL` on every connection; pools"
        f" (size {s['pool_size']}) keep their driver's settings. Concurrency:"
        f" {s['tasks']} asyncio tasks. Stall query: recursive CTE to depth"
        f" {s['stall_n']:,} (about {s['stall_seconds']:g} s with sqlite3)."
    )


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    s = meta["settings"]
    drivers = list(results["drivers"])
    notes: dict[str, int] = {}
    out = ["# aiolibsql benchmark results", ""]
    if meta["quick"]:
        out += [QUICK_NOTE, ""]
    out += [
        f"- Date: {meta['date']}",
        f"- Machine: {machine(meta)}",
        f"- Python: {meta['python']}",
        f"- Repository commit: {meta['commit']}",
        f"- Run time: {meta['duration_s']:.0f} s; {load(meta)}",
        method(s),
        "",
        (
            "Each cell: the median figure and, in brackets, its ratio to synchronous"
            f" `{BASELINE}` on the same workload (for pool rows: to sqlite3 on one"
            " connection). `n/a`: the driver has no pool."
        ),
        "",
        "| Workload | Unit | Better | " + " | ".join(drivers) + " |",
        "|---|---|---|" + "---:|" * len(drivers),
    ]
    for metric in METRICS:
        cells = [cell_text(results, d, metric, notes) for d in drivers]
        out.append(f"| {metric.title} | {metric.unit} | {metric.better} | " + " | ".join(cells) + " |")
    if notes:
        out += ["", "Skipped and failed measurements:", ""]
        out += [f"{n}. {text}" for text, n in notes.items()]
    out += [
        "",
        "## Drivers",
        "",
        "| Driver | Version | Python | How it is called | Status |",
        "|---|---|---|---|---|",
    ]
    for name, info in results["drivers"].items():
        how = info.get("how", "-")
        status = "ok" if info["status"] == "ok" else f"skipped: {info.get('reason', '')}"
        version, python = info.get("version", "-"), info.get("python", "-")
        out.append(f"| {name} | {version} | {python} | {how} | {status} |")
    extra = results["results"].get("loop_stall", {})
    queries = [f"{d} {c['query_s']:.2f} s" for d, c in extra.items() if c.get("status") == "ok"]
    if queries:
        out += ["", "Stall query duration per driver: " + ", ".join(queries) + "."]
    problems = [ln for ln in meta["setup"] if ln.startswith("chart not drawn")]
    out += ["", *[f"Note: {ln}" for ln in problems]]
    out += ["", "![chart](chart.png)", ""]
    return "\n".join(out)
