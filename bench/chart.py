#!/usr/bin/env python3
"""bench/chart.py RESULTS_MD OUT_SVG

Draws the ratio column of bench/run.sh's markdown table (results.md) as an
SVG bar chart: one bar per case, from the 1.0 line (goevent as fast as
libevent) to the case's goevent/libevent cost ratio, left and green where
goevent is faster, right and red where it is slower, on a logarithmic
scale so that 0.5 and 2.0 lie equally far from 1.0. Cases without a ratio
(n/a) keep their row, without a bar. Standard library only.
"""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape

# Layout, in pixels. Case names get the width their longest needs.
CHAR_W = 7.3  # a 12 px monospace character
PLOT_W = 470  # the bars
VALUE_W = 60  # the numbers
ROW_H = 18
TOP = 70  # title, subtitle, legend
BOTTOM = 58  # axis labels, note
PAD = 12
FONT = "font-family='DejaVu Sans Mono, Menlo, Consolas, monospace'"

FASTER = "#2e7d32"
SLOWER = "#c62828"
EVEN = "#757575"

TICKS = [0.1, 0.2, 0.25, 0.33, 0.5, 0.67, 0.75, 0.8, 0.9, 1.0, 1.1, 1.25,
         1.5, 2.0, 3.0, 4.0, 5.0, 10.0]


def parse(md: str) -> tuple[list[tuple[str, str, float | None]], dict[str, str]]:
    """Rows (case, unit, ratio or None) and the header facts of results.md."""
    rows: list[tuple[str, str, float | None]] = []
    facts: dict[str, str] = {}
    in_table = False
    for line in md.splitlines():
        fact = re.match(r"- ([a-z ]+): (.*)", line)
        if fact and not in_table:
            facts[fact.group(1)] = fact.group(2)
            continue
        if line.startswith("| case |"):
            in_table = True
            continue
        if in_table:
            if not line.startswith("|"):
                in_table = False
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 5 or set(cells[0]) <= set("-: "):
                continue  # the |---| line
            try:
                ratio: float | None = float(cells[4])
            except ValueError:
                ratio = None
            rows.append((cells[0], cells[1], ratio))
        load = re.match(r"- load average \([^)]*\): ([0-9.]+) .* before the runs, ([0-9.]+) ", line)
        if load:
            facts["load"] = f"{load.group(1)} before, {load.group(2)} after"
        mean = re.match(r"Geometric mean of the ratios: ([0-9.]+)", line)
        if mean:
            facts["geomean"] = mean.group(1)
    return rows, facts


def svg(rows: list[tuple[str, str, float | None]], facts: dict[str, str]) -> str:
    ratios = [r for _, _, r in rows if r is not None and r > 0]
    lo = min([0.5] + [r / 1.15 for r in ratios])
    hi = max([1.5] + [r * 1.15 for r in ratios])
    log_lo, log_hi = math.log(lo), math.log(hi)
    longest = max(len(case) + 1 + len(unit) for case, unit, _ in rows)
    x0 = PAD + math.ceil(longest * CHAR_W) + 10
    width = x0 + PLOT_W + VALUE_W + PAD
    height = TOP + ROW_H * len(rows) + BOTTOM

    def x(ratio: float) -> float:
        return x0 + (math.log(ratio) - log_lo) / (log_hi - log_lo) * PLOT_W

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' {FONT} font-size='12'>",
        f"<rect width='{width}' height='{height}' fill='white'/>",
        f"<text x='{PAD}' y='22' font-size='15' font-weight='bold'>"
        "goevent / libevent cost per case (lower is faster)</text>",
    ]
    sub = []
    runs = facts.get("runs per case", "").split(" ")[0]
    if runs.isdigit():
        sub.append(f"median of {runs} runs" if runs != "1" else "1 run")
    if "geomean" in facts:
        sub.append(f"geometric mean {facts['geomean']}")
    if "date" in facts:
        sub.append(facts["date"])
    if "machine" in facts:
        sub.append(facts["machine"].split(",")[0])
    if "load" in facts:
        sub.append("load average " + facts["load"])
    out.append(f"<text x='{PAD}' y='40' fill='#444'>{escape('; '.join(sub))}</text>")
    out.append(
        f"<rect x='{PAD}' y='50' width='10' height='10' fill='{FASTER}'/>"
        f"<text x='{PAD + 14}' y='59'>goevent faster</text>"
        f"<rect x='{PAD + 140}' y='50' width='10' height='10' fill='{SLOWER}'/>"
        f"<text x='{PAD + 154}' y='59'>goevent slower</text>"
    )

    plot_top, plot_bottom = TOP - 4, TOP + ROW_H * len(rows)
    # Grid and ticks, thinned so their labels do not collide.
    last = -1e9
    for t in TICKS:
        if not lo <= t <= hi:
            continue
        tx = x(t)
        if tx - last < 38 and t != 1.0:
            continue
        last = tx
        out.append(
            f"<line x1='{tx:.1f}' y1='{plot_top}' x2='{tx:.1f}' y2='{plot_bottom}' "
            "stroke='#e0e0e0'/>"
            f"<text x='{tx:.1f}' y='{plot_bottom + 14}' text-anchor='middle' "
            f"fill='#444'>{t:g}</text>"
        )
    for i, (case, unit, ratio) in enumerate(rows):
        y = TOP + ROW_H * i
        if i % 2:
            out.append(
                f"<rect x='{PAD}' y='{y}' width='{width - 2 * PAD}' height='{ROW_H}' "
                "fill='#f6f6f6'/>"
            )
        out.append(
            f"<text x='{x0 - 8}' y='{y + 13}' text-anchor='end'>"
            f"{escape(case)} <tspan fill='#888'>{escape(unit)}</tspan></text>"
        )
        if ratio is None or ratio <= 0:
            value, colour = "n/a", EVEN
        else:
            a, b = sorted((x(1.0), x(ratio)))
            colour = FASTER if ratio < 1 else SLOWER if ratio > 1 else EVEN
            out.append(
                f"<rect x='{a:.1f}' y='{y + 3}' width='{max(b - a, 1):.1f}' "
                f"height='{ROW_H - 6}' fill='{colour}'/>"
            )
            value = f"{ratio:.2f}"
        out.append(
            f"<text x='{x0 + PLOT_W + VALUE_W - 4}' y='{y + 13}' text-anchor='end' "
            f"fill='{colour}'>{value}</text>"
        )
    # The 1.0 line over the bars, and the geometric mean.
    one = x(1.0)
    out.append(
        f"<line x1='{one:.1f}' y1='{plot_top}' x2='{one:.1f}' y2='{plot_bottom}' "
        "stroke='black' stroke-width='1.5'/>"
    )
    if "geomean" in facts:
        g = float(facts["geomean"])
        if lo <= g <= hi:
            out.append(
                f"<line x1='{x(g):.1f}' y1='{plot_top}' x2='{x(g):.1f}' "
                f"y2='{plot_bottom}' stroke='#1565c0' stroke-dasharray='4 3'/>"
            )
    out.append(
        f"<text x='{PAD}' y='{height - 24}' fill='#444'>ratio = goevent cost / libevent "
        "cost: time per op, or inverse throughput (MB/s)</text>"
        f"<text x='{PAD}' y='{height - 8}' fill='#444'>log scale; 1.0 = the same "
        "speed; dashed line: the geometric mean</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    rows, facts = parse(Path(sys.argv[1]).read_text())
    if not rows:
        print(f"chart.py: no table in {sys.argv[1]}", file=sys.stderr)
        return 1
    Path(sys.argv[2]).write_text(svg(rows, facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
