"""results.json -> chart.png: ``python -m bench.chart RESULTS_JSON CHART_PNG``.

Needs matplotlib (installed in bench/.venv-peers).

One horizontal bar panel per figure, drivers in the same order and colour in
every panel; log scale when a panel's figures span more than 20x.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from bench.report import figure, fmt_value
from bench.workloads import METRICS

OURS_COLOUR = "#d62728"
COLOURS = [
    "#7f7f7f",
    "#1f77b4",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
]
OURS = "aiolibsql (ours)"


def draw(results: dict[str, Any], out: Path) -> None:
    drivers = list(results["drivers"])
    others = [d for d in drivers if d != OURS]
    colour = {d: COLOURS[i % len(COLOURS)] for i, d in enumerate(others)} | {OURS: OURS_COLOUR}
    cols = 3
    rows = math.ceil(len(METRICS) / cols)
    fig = Figure(figsize=(17, 3.2 * rows + 1.2))
    axes = fig.subplots(rows, cols)
    for ax, metric in zip(axes.flat, METRICS, strict=False):
        values = {d: figure(results, d, metric) for d in drivers}
        present = [v for v in values.values() if v]
        log = bool(present) and max(present) / min(present) > 20
        ys = list(range(len(drivers)))[::-1]
        for y, d in zip(ys, drivers, strict=True):
            v = values[d]
            if v:
                ax.barh(y, v, color=colour[d])
                ax.text(v, y, " " + fmt_value(v, metric.unit), va="center", fontsize=8)
            else:
                cell = results["results"].get(metric.workload, {}).get(d) or {"status": "-"}
                ax.text(
                    0.01,
                    y,
                    cell["status"],
                    va="center",
                    fontsize=8,
                    color="#999999",
                    transform=ax.get_yaxis_transform(),
                )
        ax.set_yticks(ys, drivers, fontsize=8)
        ax.set_ylim(-0.6, len(drivers) - 0.4)
        if log:
            ax.set_xscale("log")
            ax.set_xlim(min(present) / 2, max(present) * 12)
        elif present:
            ax.set_xlim(0, max(present) * 1.35)
        direction = "higher is better" if metric.better == "higher" else "lower is better"
        ax.set_title(
            f"{metric.title}\n{metric.unit}, {direction}" + (" (log scale)" if log else ""),
            fontsize=9,
        )
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(METRICS) :]:
        ax.axis("off")
    meta = results["meta"]
    machine = f"{meta['cores']} cores, {meta['cpu']}, Python {meta['python']}"
    fig.suptitle(f"aiolibsql benchmark, {meta['date']}: {machine}", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    draw(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
