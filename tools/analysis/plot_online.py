#!/usr/bin/env python3
"""docs/online/<stream>.svg: the prequential MSE curves of docs/online/logs/online.jsonl (the
evaluation runs of model seed 1, one line per cell, and predicting "no change"), log y axis.

    python3 tools/analysis/plot_online.py
"""
import json
import math
import os

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LOG = os.path.join(ROOT, "docs", "online", "logs", "online.jsonl")
COLOURS = {"lem": "#d62728", "lstm": "#1f77b4", "gru": "#2ca02c", "lru": "#9467bd", "no change": "#7f7f7f"}


def chart(stream, series, period):
    width, height, left, right, top, bottom = 760, 420, 70, 130, 40, 45
    pw, ph = width - left - right, height - top - bottom
    xs = [x for _, pts in series for x, _ in pts]
    ys = [y for _, pts in series for _, y in pts]
    x0, x1 = 0, max(xs)
    y0, y1 = math.log10(min(ys)) - 0.05, math.log10(max(ys)) + 0.05
    px = lambda x: left + pw * (x - x0) / (x1 - x0)
    py = lambda y: top + ph * (1 - (math.log10(y) - y0) / (y1 - y0))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14">seq online on the {stream} stream: prequential MSE (mean of each 2,000 steps), log scale</text>',
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>']
    if period:
        for s in range(period, x1, period):
            out.append(f'<line x1="{px(s):.1f}" y1="{top}" x2="{px(s):.1f}" y2="{top + ph}" stroke="#ddd"/>')
    for e in range(math.ceil(y0), math.floor(y1) + 1):
        for m in (1, 2, 5):
            v = m * 10 ** e
            if y0 <= math.log10(v) <= y1:
                out.append(f'<line x1="{left - 4}" y1="{py(v):.1f}" x2="{left}" y2="{py(v):.1f}" stroke="#444"/>')
                out.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    for i in range(6):
        x = x0 + (x1 - x0) * i / 5
        out.append(f'<text x="{px(x):.1f}" y="{top + ph + 16}" text-anchor="middle">{x / 1000:.0f}k</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle">step (grey lines: regime switches)</text>')
    for k, (name, pts) in enumerate(series):
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        out.append(f'<polyline fill="none" stroke="{COLOURS[name]}" stroke-width="1.5" points="{path}"/>')
        out.append(f'<text x="{left + pw + 10}" y="{top + 16 + 18 * k}" fill="{COLOURS[name]}">{name.upper() if name != "no change" else name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    runs = [json.loads(l) for l in open(LOG)]
    runs = [r for r in runs if r.get("record") == "run" and r["phase"] == "evaluation" and r["model_seed"] == 1]
    for stream in ("linear", "switching", "fhn-drift"):
        mine = [r for r in runs if r["stream"] == stream]
        series = [(r["cell"], [(p[0], p[1]) for p in r["reports"]]) for r in mine]
        series.append(("no change", [(p[0], p[2]) for p in mine[0]["reports"]]))
        path = os.path.join(ROOT, "docs", "online", f"{stream}.svg")
        with open(path, "w") as f:
            f.write(chart(stream, series, mine[0]["period"]))
        print(path)


if __name__ == "__main__":
    main()
