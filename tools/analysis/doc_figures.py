#!/usr/bin/env python3
"""Every number of the docs' marked tables, recomputed from the committed logs (issue 30).

    python3 tools/analysis/doc_figures.py            # print each table's numbers, cell by cell
    python3 tools/analysis/doc_figures.py --check    # compare them with the docs; exit 1 on a difference

A table is checked when the line above it in a doc is `<!-- figures: ID -->`; a sentence or
bullet is checked when that comment stands at its start (it then runs to the end of its
paragraph or list item, to the next marker, or to `<!-- /figures -->`; never put a marker at
the start of a line, where markdown would take the line for a raw HTML block). For each ID this script knows where the
numbers come from (the logs under docs/*/logs/) and computes, cell by cell, the numbers the cell
must hold, in order; --check reads the numbers out of the markdown ("5,461", "1.39×", "281k",
"−4 %" give 5461, 1.39, 281k, -4) and reports every cell that differs. Cells set to None here
(settings such as "batch 64 × 70" in a first column) are not read.

What else --check enforces: every marker names a known ID and every ID is marked exactly once
in the docs; every log under docs/*/logs/ either starts with a provenance line (source, command,
machine, sgemm_peak_gflops, date) or is a raw tool log named by a `runs.jsonl` manifest beside
it that holds that provenance.

Kinds of log: raw tool output (lm's metrics logs, the PyTorch trainer's --json), and records
transcribed from a session note or commit message, which quote their source in the provenance
line. Derived numbers (ratios, shares, interpolations at equal training time, fits) are
computed here, never copied.
"""

import argparse
import glob
import importlib.util
import json
import math
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCS = ["docs/REPRODUCTION.md", "docs/COMPARISON.md", "docs/STREAMING.md", "docs/BENCHMARKS.md", "docs/PAPER.md", "docs/WAKEWORDS.md", "docs/ONLINE.md", "README.md"]
PROVENANCE_KEYS = ("source", "command", "machine", "sgemm_peak_gflops", "date")


class LogError(Exception):
    pass


# ---------------------------------------------------------------- logs

def read_jsonl(rel):
    path = os.path.join(ROOT, rel)
    out = []
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise LogError(f"{rel}:{n}: not JSON ({e})")
    except OSError as e:
        raise LogError(f"{rel}: {e.strerror}")
    return out


_cache = {}


def log(rel):
    if rel not in _cache:
        _cache[rel] = read_jsonl(rel)
    return _cache[rel]


def figures(rel, **match):
    """The figure records of a transcribed log, those whose fields equal `match`."""
    rows = [r for r in log(rel) if r.get("record") == "figure" and all(r.get(k) == v for k, v in match.items())]
    if not rows:
        raise LogError(f"{rel}: no figure record with {match}")
    return rows


def one(rel, **match):
    rows = figures(rel, **match)
    if len(rows) != 1:
        raise LogError(f"{rel}: {len(rows)} figure records with {match}, expected one")
    return rows[0]


def load_project_curve():
    spec = importlib.util.spec_from_file_location("project_curve", os.path.join(ROOT, "tools/analysis/project_curve.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- formatting

def n(x, d=0):
    """Thousands separators, d decimals: n(5460.7) = '5,461'."""
    return f"{x:,.{d}f}"


def k(x, d=0):
    """In thousands with a k: k(281) = '281k' (x already in thousands)."""
    return f"{x:,.{d}f}k"


def sig(x, digits):
    """x to `digits` significant figures, as the docs write it (18281 -> '18,300', 0.0505 -> '0.0505')."""
    if x == 0:
        return "0"
    e = math.floor(math.log10(abs(x)))
    d = digits - 1 - e
    r = round(x, d)
    return n(r, max(d, 0))


def pct_lower(ours, theirs, d=1):
    return n(100 * (1 - ours / theirs), d)


def mmss(seconds):
    m, s = divmod(int(round(seconds)), 60)
    return [str(m), str(s)]


# ---------------------------------------------------------------- PTB runs (docs/reproduction/logs)

R = "docs/reproduction/logs/"


def ptb_tokens(level, split="train"):
    r = one(R + "ptb-splits.jsonl", level=level, split=split)
    return r["words"] + r["lines"]


def epoch_shape(level, batch, bptt):
    """(tokens per epoch, windows per epoch) as lm and train_ptb_pytorch.py cut the training split."""
    per_stream = ptb_tokens(level) // batch - 1
    return per_stream * batch, -(-per_stream // bptt)


def trained_tokens(steps, level, batch, bptt):
    per_epoch, windows = epoch_shape(level, batch, bptt)
    done, extra = divmod(steps, windows)
    return done * per_epoch + extra * batch * bptt


class Pair:
    """A 120-minute lm / PyTorch pair: the two raw logs and their manifest line."""

    def __init__(self, run_id):
        runs = [r for r in log(R + "runs.jsonl") if r.get("record") == "run" and r.get("id") == run_id]
        if len(runs) != 1:
            raise LogError(f"{R}runs.jsonl: no run {run_id}")
        self.run = run = runs[0]
        self.level, self.batch, self.bptt = run["level"], run["batch"], run["bptt"]
        lm_rows, torch_rows = log(R + run["lm_log"]), log(R + run["torch_log"])
        self.lm = [r for r in lm_rows if r.get("event") == "valid"]
        self.torch = [r for r in torch_rows if r.get("event") == "valid"]
        stops = [r for r in lm_rows if r.get("event") == "stop"]
        tests = [r for r in lm_rows if r.get("event") == "test"]
        if len(stops) != 1 or len(tests) != 1 or not self.lm or not self.torch:
            raise LogError(f"{run['lm_log']}: expected validations, one stop and one test record")
        self.stop, self.test = stops[0], tests[0]
        self.d = 1 if self.level == "word" else 3          # decimals: perplexity / bits per character
        # Windows per epoch: the step of the first validation must be what the split gives.
        windows = epoch_shape(self.level, self.batch, self.bptt)[1]
        for rows, name in ((self.lm, run["lm_log"]), (self.torch, run["torch_log"])):
            if rows[0]["step"] != windows:
                raise LogError(f"{name}: first validation at step {rows[0]['step']}, the split gives {windows} windows")

    def m(self, x):
        return n(x, self.d)

    @staticmethod
    def minutes(r):
        return r["elapsed_s"] / 60

    def curve(self, who):
        """(training minutes, metric) of every validation; lm's ends with the state at the stop (lm eval)."""
        if who == "torch":
            return [(self.minutes(r), r["metric"]) for r in self.torch]
        points = [(self.minutes(r), r["metric"]) for r in self.lm]
        return points + [(self.stop["elapsed_s"] / 60, self.run["lm_state_at_120min"]["metric"])]

    @staticmethod
    def at(curve, t):
        """Linear interpolation in the metric between the validations either side of t; None outside."""
        for (t0, m0), (t1, m1) in zip(curve, curve[1:]):
            if t0 <= t <= t1:
                return m0 + (t - t0) / (t1 - t0) * (m1 - m0)
        if curve and abs(curve[-1][0] - t) < 0.05:      # read at the mark itself (120.0 min)
            return curve[-1][1]
        return None

    @staticmethod
    def when(curve, value):
        """The training minute at which a falling curve first reaches value (interpolated)."""
        for (t0, m0), (t1, m1) in zip(curve, curve[1:]):
            if m0 >= value >= m1:
                return t0 + (m0 - value) / (m0 - m1) * (t1 - t0)
        return None

    def last_before(self, who, t):
        rows = self.lm if who == "lm" else self.torch
        before = [r for r in rows if self.minutes(r) <= t]
        return before[-1] if before else None

    def speed(self, who):
        if who == "lm":
            steps, seconds = self.stop["step"], self.stop["elapsed_s"]
        else:
            steps, seconds = self.torch[-1]["step"], self.torch[-1]["elapsed_s"]
        return trained_tokens(steps, self.level, self.batch, self.bptt) / seconds

    # --- the three tables of a pair

    def marks_table(self):
        """Rows 15/30/60: the last validation each had made by then (or when the first came);
        120: the state at the end of the budget; then speed, peak RSS, test half of the best checkpoint."""
        rows = []
        for mark in (15, 30, 60):
            cells = [[str(mark)]]
            for who in ("lm", "torch"):
                r = self.last_before(who, mark)
                first = (self.lm if who == "lm" else self.torch)[0]
                if r is not None:
                    cells.append([self.m(r["metric"]), str(r["epoch"]), n(self.minutes(r), 1)])
                else:
                    cells.append([n(self.minutes(first), 1)] if mark == 15 else [])
            rows.append(cells)
        last, end = self.lm[-1], self.torch[-1]
        rows.append([["120"],
                     [self.m(self.run["lm_state_at_120min"]["metric"]), n(self.stop["elapsed_s"] / 60, 1), n(self.stop["step"]),
                      str(last["epoch"]), n(self.minutes(last), 1), self.m(last["metric"])],
                     [self.m(end["metric"]), n(end["step"]), n(self.minutes(end), 1)]])
        lm_speed, torch_speed = self.speed("lm"), self.speed("torch")
        rows.append([[], [n(lm_speed), n(lm_speed / torch_speed, 2)], [n(torch_speed)]])
        rss = self.run["peak_rss_mb"]
        rows.append([[], [n(rss["lm"])], [n(rss["torch"])]])
        best = min(self.lm, key=lambda r: r["metric"])
        rows.append([[str(best["epoch"])], [self.m(self.test["metric"]), n(self.test["temperature"], 2)], []])
        return rows

    def equal_time_table(self):
        a, b = self.curve("lm"), self.curve("torch")
        rows = []
        for mark in (15, 30, 60, 120):
            x, y = self.at(a, mark), self.at(b, mark)
            if mark == 120:                               # both read where the budget ended
                x, y = self.run["lm_state_at_120min"]["metric"], self.torch[-1]["metric"]
            rows.append([[str(mark)], [self.m(x)] if x is not None else [], [self.m(y)] if y is not None else [],
                         [pct_lower(x, y)] if x is not None and y is not None else []])
        final = self.torch[-1]
        t = self.when(a, final["metric"])
        rows.append([[n(self.minutes(final), 0), self.m(final["metric"])], [n(t, 1)], [], []])
        return rows

    def validation_lists(self):
        """lm's validations with their temperature range; PyTorch's, then its value at the mark."""
        lm_vals = [self.m(r["metric"]) for r in self.lm]
        temps = [r["temperature"] for r in self.lm]
        full = [r for r in self.torch if r["step"] % epoch_shape(self.level, self.batch, self.bptt)[1] == 0]
        out = ["1", str(self.lm[-1]["epoch"])] + lm_vals + [n(min(temps), 2), n(max(temps), 2)]
        out += ["1", str(full[-1]["epoch"])] + [self.m(r["metric"]) for r in full]
        out += [self.m(self.torch[-1]["metric"]), "120"]
        return out

    def agreement(self):
        """Largest difference of the two at the same epoch (relative for words, in bpc for chars)."""
        torch_by_epoch = {r["epoch"]: r["metric"] for r in self.torch
                          if r["step"] % epoch_shape(self.level, self.batch, self.bptt)[1] == 0}
        pairs = [(r["metric"], torch_by_epoch[r["epoch"]]) for r in self.lm if r["epoch"] in torch_by_epoch]
        if self.level == "word":
            return max(abs(a / b - 1) for a, b in pairs) * 100
        return max(abs(a - b) for a, b in pairs)


# ---------------------------------------------------------------- parameter counts (COMPARISON, BENCHMARKS)

def recurrent_params(cell, d, m):
    """One layer of input width m and state d: the LEM (inp2hid 4d, hid2hid 3d, transform_z d, with
    biases) and PyTorch's LSTM (4 gates) and GRU (3 gates), two bias vectors each."""
    if cell in ("lem", "lstm"):
        return 4 * d * m + 4 * d * d + 8 * d
    if cell == "gru":
        return 3 * d * m + 3 * d * d + 6 * d
    raise ValueError(cell)


def lm_params(cell, d, layers, vocab=10000, embedding=None, tied=True):
    m = embedding or d
    total = vocab * m + (0 if tied else vocab * d) + vocab
    for layer in range(layers):
        total += recurrent_params(cell, d, m if layer == 0 else d)
    return total


def kws_params(cell, d, features=80, classes=12):
    return recurrent_params(cell, d, features) + classes * d + classes


# ---------------------------------------------------------------- the tables

TABLES = {}


def table(table_id):
    def register(f):
        TABLES[table_id] = ("table", f)
        return f
    return register


def text(table_id):
    def register(f):
        TABLES[table_id] = ("text", f)
        return f
    return register


PRESETS = {  # Sources/lm/Presets.swift: --epochs, --average-after, --average-at
    "word": dict(batch=64, bptt=70, epochs=966, after=48, at=773),
    "char": dict(batch=128, bptt=150, epochs=766, after=19, at=306),
}


@table("repro-preset-steps")
def _():
    rows = []
    for level in ("word", "char"):
        p = PRESETS[level]
        w = epoch_shape(level, p["batch"], p["bptt"])[1]
        turns = lambda epochs: n(epochs * w / 200, 1)
        rows.append([None, [str(w)], [str(p["epochs"]), n(p["epochs"] * w), turns(p["epochs"])],
                     [str(p["after"]), n(p["after"] * w), turns(p["after"])],
                     [str(p["at"]), n(p["at"] * w), turns(p["at"])]])
    return rows


@table("repro-old-new")
def _():
    rows = []
    for preset in ("old", "new"):
        r = one(R + "old-vs-new-preset.jsonl", preset=preset)
        vals = [[n(v, 1)] for v in r["valid_ppl_by_epoch"]]
        fifth = [n(r["after_10min"]["ppl"], 1)] if r["after_10min"]["epoch"] == 5 else []
        rows.append([None] + vals + [fifth, [n(r["test_half_ppl"], 1)]])
    return rows


@text("repro-old-new-gain")
def _():
    old, new = (one(R + "old-vs-new-preset.jsonl", preset=p)["valid_ppl_by_epoch"] for p in ("old", "new"))
    gains = [100 * (1 - b / a) for a, b in zip(old, new)]
    return [n(min(gains)), n(max(gains))]


def short_pair_table(rel):
    rows = []
    for r in figures(rel, what="valid_at_mark"):
        rows.append([[str(r["mark_min"])], [n(r["lm_ppl"], 1), str(r["lm_epoch"])],
                     [n(r["torch_ppl"], 1), str(r["torch_epoch"])], [pct_lower(r["lm_ppl"], r["torch_ppl"])]])
    s = one(rel, what="speed")
    rows.append([[], [n(s["lm_tokens_per_s"])], [n(s["torch_tokens_per_s"])], [n(s["lm_tokens_per_s"] / s["torch_tokens_per_s"], 2)]])
    rss = one(rel, what="peak_rss_mb")
    rows.append([[], [n(rss["lm"])], [n(rss["torch"])], []])
    t = one(rel, what="test_half")
    rows.append([[], [n(t["lm_ppl"], 1), n(t["temperature"], 2)], [], []])
    return rows


def agreement_text(rel):
    out = []
    for epoch, a, b in one(rel, what="epoch_agreement")["pairs"]:
        out += [n(a, 1), n(b, 1), str(epoch)]
    return out


@table("repro-word30")
def _():
    rows = short_pair_table(R + "word-30min.jsonl")
    w = one(R + "word-30min.jsonl", what="wall_minutes")
    rows.insert(-1, [[], [n(w["lm"], 1)], [n(w["torch"], 1)], []])
    return rows


@text("repro-word30-agree")
def _():
    return agreement_text(R + "word-30min.jsonl")


@table("repro-word60")
def _():
    return short_pair_table(R + "word-60min.jsonl")


@text("repro-word60-agree")
def _():
    return agreement_text(R + "word-60min.jsonl")


for _pair, _name in (("char-120min", "char1024"), ("char512-120min", "char512"), ("word-120min", "word120")):
    TABLES[f"repro-{_name}"] = ("table", lambda p=_pair: Pair(p).marks_table())
    TABLES[f"repro-{_name}-equal-time"] = ("table", lambda p=_pair: Pair(p).equal_time_table())
    TABLES[f"repro-{_name}-validations"] = ("text", lambda p=_pair: Pair(p).validation_lists())


@text("repro-stops")
def _():
    pairs = [Pair(p) for p in ("word-120min", "char-120min", "char512-120min")]
    return [n(p.stop["elapsed_s"], 1) for p in pairs] + [str(len(p.lm)) for p in pairs]


@text("repro-char1024-agree")
def _():
    p = Pair("char-120min")
    out = []
    for a, b in zip(p.lm[:3], p.torch[:3]):
        out += [n(a["metric"], 4), n(b["metric"], 4)]
    return out + ["1", "3"]


@text("repro-char512-agree")
def _():
    return [n(Pair("char512-120min").agreement(), 3)]


@text("repro-char512-speed")
def _():
    p = Pair("char512-120min")
    other = p.run["other_machine_speed"]
    return [n(p.speed("lm") / p.speed("torch"), 2), n(other["ratio"], 1), k(other["lm_chars_per_s"] / 1000, 1),
            k(other["torch_chars_per_s"] / 1000, 1)]


@text("repro-word120-agree")
def _():
    p = Pair("word-120min")
    by_epoch = {r["epoch"]: r["metric"] for r in p.lm}
    earlier = {e: a for e, a, _ in one(R + "word-60min.jsonl", what="epoch_agreement")["pairs"]}
    earlier[19] = one(R + "word-60min.jsonl", what="valid_at_mark", mark_min=60)["lm_ppl"]
    for e, v in earlier.items():
        if n(by_epoch[e], 1) != n(v, 1):
            raise LogError(f"word-120min epoch {e}: {by_epoch[e]:.1f}, the 60-minute note has {v}")
    return [n(p.agreement(), 1)] + [n(earlier[e], 1) for e in (4, 9, 11, 19)] + ["4", "9", "11", "19"]


@text("repro-word120-slope")
def _():
    p = Pair("word-120min")
    by_epoch = {r["epoch"]: r["metric"] for r in p.lm}
    last = p.lm[-1]["epoch"]
    a, b = last - 10, last - 4
    return [str(a), str(last), n(by_epoch[a], 1), n(by_epoch[last], 1), n((by_epoch[a] - by_epoch[last]) / 10, 2),
            str(b), str(last), n((by_epoch[b] - by_epoch[last]) / 4, 2)]


PROJECTIONS = [  # (pair, skip, target): the rows of the projection table
    ("word-120min", 1, 72.8), ("word-120min", 17, 72.8), ("word-120min", 25, 72.8),
    ("char-120min", 1, 1.25), ("char-120min", 2, 1.25),
    ("char512-120min", 1, 1.25), ("char512-120min", 8, 1.25),
]


def projection(pair, skip, target):
    pc = load_project_curve()
    p = Pair(pair)
    rows = pc.read_validations(os.path.join(ROOT, R + p.run["lm_log"]))
    used = rows[skip:]
    to_loss = math.log if p.level == "word" else (lambda v: v * math.log(2))
    to_metric = math.exp if p.level == "word" else (lambda v: v / math.log(2))
    c, a, alpha, rms = pc.fit([r[0] for r in used], [to_loss(r[2]) for r in used])
    steps_per_second = rows[-1][0] / rows[-1][1]
    reach = None
    if to_loss(target) > c:
        reach = (a / (to_loss(target) - c)) ** (1 / alpha)
    return dict(p=p, rows=rows, used=used, floor=to_metric(c), at_200k=to_metric(c + a * 200_000 ** -alpha),
                rms=rms, reach=reach, hours=None if reach is None else reach / steps_per_second / 3600,
                steps_per_second=steps_per_second)


def steps_label(s):
    return f"{s / 1e6:.2f}M" if s >= 1e6 else f"{s / 1e3:.0f}k"


@table("repro-projection")
def _():
    out = []
    previous = None
    for pair, skip, target in PROJECTIONS:
        f = projection(pair, skip, target)
        p = f["p"]
        epochs = {r["step"]: r["epoch"] for r in p.lm}
        first = [] if pair == previous else ["120", str(p.lm[-1]["epoch"]), n(p.lm[-1]["step"])]
        if pair == "char512-120min" and pair != previous:
            first = ["512"] + first
        previous = pair
        reach = [n(target, 1 if p.level == "word" else 2)]
        if f["reach"] is not None:
            reach += [steps_label(f["reach"]), "200k", n(f["hours"])]
        out.append([first, [str(epochs[f["used"][0][0]]), str(epochs[f["used"][-1][0]])], [p.m(f["floor"])],
                    [p.m(f["at_200k"])], reach])
    return out


@text("repro-projection-spread")
def _():
    fits = [projection(*row) for row in PROJECTIONS]
    shares = [100 * Pair(pair).lm[-1]["step"] / 200_000 for pair in ("char-120min", "word-120min")]
    return [n(min(f["rms"] for f in fits), 4), n(max(f["rms"] for f in fits), 4), n(min(shares), 1), n(max(shares), 1)]


@table("repro-recipe-hours")
def _():
    rows = []
    for pair in ("word-120min", "char-120min", "char512-120min"):
        f = projection(pair, 1, 72.8 if pair.startswith("word") else 1.25)
        rows.append([None, [n(f["steps_per_second"], 3)], [n(200_000 / f["steps_per_second"] / 3600, 1)]])
    bench = "docs/benchmarks/logs/issue15-rounds-2026-12-02.jsonl"
    for shape, tokens in (("word", 64 * 70), ("char", 128 * 150)):
        speeds = one(bench, what="training", shape=shape)["lem"]
        hours = sorted(200_000 * tokens / s / 3600 for s in speeds)
        rows.append([None, [n(min(speeds)), n(max(speeds))], [n(hours[0], 1), n(hours[1], 1)]])
    return rows


@text("readme-ptb")
def _():
    w60 = one(R + "word-60min.jsonl", what="valid_at_mark", mark_min=60)
    s60 = one(R + "word-60min.jsonl", what="speed")
    w = Pair("word-120min")
    c = Pair("char-120min")
    out = [n(w.run["lm_state_at_120min"]["metric"], 1), n(w.torch[-1]["metric"], 1), "120", n(w.speed("lm") / w.speed("torch"), 2)]
    out += [n(w60["lm_ppl"], 1), n(w60["torch_ppl"], 1), str(w60["mark_min"]), n(s60["lm_tokens_per_s"] / s60["torch_tokens_per_s"], 2)]
    out += [n(c.run["lm_state_at_120min"]["metric"], 3), n(c.torch[-1]["metric"], 3), "120"]
    out += [n(w.test["metric"], 1), n(c.test["metric"], 3)]
    return out


@text("readme-eval-streams")
def _():
    rel = R + "eval-streams.jsonl"
    char = figures(rel, level="char", model="hidden 1024, briefly trained")
    word = figures(rel, level="word", model="the 10-minute preset model")
    epoch = one(rel, level="char", what="training minutes per char epoch (approximate)")
    out = ["1024"]
    for r in char:
        out += ([str(r["streams"])] if r["streams"] > 1 else ["1"]) + [n(r["seconds"], 1)] + ([n(r["metric_change"], 4)] if "metric_change" in r else [])
    out += [n(epoch["minutes"]), n(epoch["validation_share_pct"])]
    for r in word:
        out += ([str(r["streams"])] if r["streams"] > 1 else ["1"]) + [n(r["seconds"], 1)] + ([n(r["metric_change"], 1)] if "metric_change" in r else [])
    return out


# ---------------------------------------------------------------- BENCHMARKS

B = "docs/benchmarks/logs/"


@table("bench-results")
def _():
    rel = B + "results-2026-11-21.jsonl"
    peak = max(log(rel)[0]["sgemm_peak_gflops"]["same_run"])
    rows = []
    for name in ("word training", "char training", "kws training"):
        r = one(rel, row=name)
        rows.append([None, [n(r["torch_lem"])], [n(r["torch_lstm"])], [n(r["lem"]), str(r["lem_pct_peak"])],
                     [n(r["lem"] / r["torch_lem"], 2)], [sig(peak * 1e3 / r["mflop_per_unit"], 3)]])
    r = one(rel, row="word sampling")
    rows.append([None, [n(r["torch_lem"])], [n(r["torch_lstm"])], [n(r["lem"])], [n(r["lem"] / r["torch_lem"], 2)], [n(r["bound_memory"])]])
    rows.append([None, [], [], [n(one(rel, row="char sampling")["lem"])], [], []])
    r = one(rel, row="kws one clip")
    rows.append([None, [n(r["torch_lem_model_only"], 1)], [n(r["torch_lstm"], 2)], [n(r["lem_wav_features_model"], 2)],
                 [n(r["torch_lem_model_only"] / r["lem_wav_features_model"])], []])
    rows.append([None, [], [], [n(one(rel, row="kws 100 WAVs as a batch")["lem"])], [], []])
    rows.append([None, [], [], [n(one(rel, row="MFCC")["lem"])], [], []])
    same = log(rel)[0]["sgemm_peak_gflops"]
    rows.append([None, [n(same["torch_mm"], 1)], [], [n(same["same_run"][0], 1), n(same["same_run"][1], 1)], [], []])
    r = one(rel, row="peak RSS")
    rows.append([None, [], [], [n(r["word"]), n(r["char"]), n(r["kws"])], [], []])
    return rows


@table("bench-optimisations")
def _():
    rel = B + "optimisations-2026-11-21.jsonl"
    s = lambda step: one(rel, step=step)
    rows = [
        [None, [n(s("SkylakeX kernels at start-up")["all_factor"])], [], [], []],
        [None, [], [], [], []],
        [None, [k(s("data-parallel replicas")["word_k"][0], 1), k(s("data-parallel replicas")["word_k"][1], 1)], [], [k(s("data-parallel replicas")["kws_k_to"])], []],
        [None, [], [], [], [n(v) for v in s("sgemv for single rows")["sampling"]]],
        [None, [], [], [k(v) for v in s("16-lane gate math, compare-and-blend clamping")["kws_k"]], []],
        [None, [k(s("transposed weight copies")["word_k_to"], 1)], [k(s("transposed weight copies")["char_k_to"], 1)], [], []],
        [None, [], [], [], [n(s("no transposes for single steps")["sampling_to"])]],
        [None, [], [n(s("threaded BLAS for d > 512")["char_pct"])], [], []],
    ]
    r = s("gate math really inlined")
    rows.append([None, [k(v, 1) for v in r["word_k"]], [k(v, 1) for v in r["char_k"]], [k(v) for v in r["kws_k"]], []])
    r = s("gate columns reordered")
    rows.append([None, [], [k(v, 2) for v in r["char_k"]] + [n(v) for v in r["char_rss_mb"]],
                 [k(v) for v in r["kws_k"]] + [n(v) for v in r["kws_rss_mb"]], []])
    rows.append([None, [], [], [k(v) for v in s("per-step products gate by gate when B*d^2 <= 1e6")["kws_k"]], []])
    r = s("small weight gradients every ~512 rows")
    rows.append([None, [], [], [k(r["kws_k_from"])] + [k(v) for v in r["kws_k_to"]], []])
    r = s("no input copies")
    rows.append([None, [], [], [k(v) for v in r["kws_k_to"]] + [n(r["kws_rss_mb_to"])], []])
    r = s("biases added by the gate math")
    rows.append([None, [], [], [k(v) for v in r["kws_k_to"]] + [n(v) for v in r["kws_rss_mb"]], []])
    rows.append([None, [k(v, 1) for v in s("decoder bias gradient in the softmax pass")["word_k"]], [], [], []])
    r = s("kws classify")
    rows.append([None, [], [], [], [n(r["one_clip_ms"][0], 2), n(r["one_clip_ms"][1][0], 2), n(r["one_clip_ms"][1][1], 2)]
                 + [n(v) for v in r["files_per_s"]]])
    rows.append([None, [], [n(v) for v in s("exact evaluation of a large layer")["chars_per_s"]], [], []])
    return rows


@table("bench-quality")
def _():
    rel = B + "quality-2026-11-21.jsonl"
    q = lambda run: one(rel, run=run)
    w, c = q("word ptb_dev"), q("char ptb_dev")
    rows = [[None, [n(v) for v in w["valid_ppl"]] + [n(w["test_ppl"], 1), str(w["best_epoch"]), n(w["torch_lem_test_ppl"])],
             [n(w["wall_s"], 1), n(w["first_session_wall_s"], 1), n(w["first_session_train_s_per_epoch"], 1), n(w["torch_wall_s_approx"])]],
            [None, [n(v, 3) for v in c["valid_bpc"]] + [n(c["test_bpc"], 3)], [n(c["train_s_per_epoch"], 1), n(c["valid_s_per_epoch"])]]]
    a, b = q("kws log-mel reaugment (second session)"), q("kws log-mel reaugment (first session)")
    at = lambda r: [x for key in ("at10", "at20", "at30", "at40", "at50") if key in r for x in (n(r[key], 1), key[2:])]
    rows.append([None, [n(a["best_valid"], 1), str(a["best_epoch"]), n(a["test"], 1)] + at(b) + [n(b["best_valid"], 1), n(b["test"], 1)],
                 mmss(a["wall_s"]) + [k(a["frames_per_s"] / 1000)] + [n(b["features_s"], 1), n(b["train_s_per_epoch"], 1)] + mmss(b["wall_s"])])
    r = q("kws log-mel no augment (first session)")
    rows.append([None, at(r) + [n(r["best_valid"], 1), n(r["test"], 1)], [n(r["wall_s"])]])
    r = q("kws mfcc google12 reaugment (first session)")
    rows.append([None, at(r) + [n(r["best_valid"], 1), n(r["test"], 1)], [n(r["features_s"], 1), n(r["train_s_per_epoch"], 1)] + mmss(r["wall_s"])])
    r = q("kws default mfcc 40x101 (first session)")
    rows.append([None, [n(r["best_valid"], 1), "120", n(r["best_valid_120_epochs"], 1)], []])
    r = q("authors' pipeline (issue 4's figures)")
    rows.append([None, at(r) + [n(r["best_valid"], 1)], [n(r["features_s"]), n(r["s_per_epoch"], 1), n(r["total_s_approx"])]])
    return rows


@table("bench-lstm-gru")
def _():
    rel = B + "lstm-gru-2026-12-01.jsonl"
    rows = []
    for shape in ("word", "kws", "char"):
        r = [x for x in figures(rel, shape=shape) if "lem_lstm" in x][0]
        lem = [x for x in figures(rel, shape=shape) if "lem_lem" in x]
        ratios = [a / b for a, b in zip(r["lem_lstm"], r["torch_lstm"])]
        gru = r.get("lem_gru") or [v * 1000 for v in r.get("lem_gru_k", [])] or [r["lem_gru_k_approx"] * 1000]
        gru_cell = ([n(v) for v in r["lem_gru"]] if "lem_gru" in r else
                    [k(v, 1) for v in r["lem_gru_k"]] if "lem_gru_k" in r else [k(r["lem_gru_k_approx"])])
        gru_ratios = [g / r["torch_gru"][0] for g in gru]
        rows.append([None, [n(v) for v in r["lem_lstm"]], [n(v) for v in r["torch_lstm"]], [n(v, 2) for v in ratios],
                     gru_cell, [n(v) for v in r["torch_gru"]], [n(v, 2) for v in gru_ratios],
                     [n(min(lem[0]["lem_lem"])), n(max(lem[0]["lem_lem"]))] if lem else []])
    return rows


def mpi_shape_parameters():
    """Parameters of the three shapes the MPI rows train (their gradient is what the allreduce moves)."""
    return {"word": lm_params("lem", 256, 1), "char": lm_params("lem", 1024, 1, vocab=50, embedding=200, tied=False),
            "kws": kws_params("lem", 128)}


@table("bench-mpi")
def _():
    rel = B + "mpi-and-step-product-2026-12-02.jsonl"
    sizes = mpi_shape_parameters()
    rows = []
    for shape in ("word", "char", "kws"):
        r = one(rel, what="mpi", shape=shape)
        one_ms, two_ms = 1000 * r["batch_units"] / r["one_process"], 1000 * r["batch_units"] / r["two_ranks"]
        d = 1 if one_ms < 100 else 0
        grad_mb = sizes[shape] * 4 / 1e6
        if n(grad_mb, 2 if grad_mb < 1 else 1) != n(r["gradient_mb"], 2 if grad_mb < 1 else 1):
            raise LogError(f"{rel}: gradient {r['gradient_mb']} MB for {shape}, the parameter count gives {grad_mb:.3f}")
        rows.append([None, [n(r["one_process"]), n(one_ms, d)], [n(r["two_ranks"]), n(two_ms, d)],
                     [n(r["two_ranks"] / r["one_process"], 2)], [n(r["allreduce_ms"], 2 if r["allreduce_ms"] < 10 else 1),
                                                              n(100 * r["allreduce_ms"] / two_ms, 1)],
                     [n(grad_mb, 2 if grad_mb < 1 else 1)]])
    return rows


@table("bench-mpi-scaling")
def _():
    rel = B + "mpi-and-step-product-2026-12-02.jsonl"
    sizes = mpi_shape_parameters()
    rows = []
    for shape in ("word", "char", "kws"):
        r = one(rel, what="mpi", shape=shape)
        t1 = r["batch_units"] / r["one_process"]
        s = sizes[shape] * 4
        bw = lambda machines: 20 * (machines - 1) * s * 8 / t1 / 1e9
        rows.append([None, [n(s / 1e6, 2 if s < 1e6 else 1)], [sig(t1, 3)]] + [[sig(bw(m), 2)] for m in (2, 4, 8, 16)])
    return rows


@table("bench-step-product")
def _():
    rel = B + "mpi-and-step-product-2026-12-02.jsonl"
    rng = lambda v: [str(v[0]), str(v[1])]
    fwd, bwd = (one(rel, what="step_product", product=p) for p in ("forward [128,1024]x[4096,1024]T", "backward [128,4096]x[4096,1024]"))
    return [[None, rng(fwd["openblas_gflops"]), rng(fwd["onednn_packed_gflops"]), rng(fwd["onednn_sgemm_gflops"])],
            [None, rng(bwd["openblas_gflops"]), rng(bwd["onednn_packed_gflops"]), []]]


def char_mflop():
    """Multiply-adds of a char LEM or LSTM step per token (input, recurrent, decoder) × 2 × 3 (forward + backward)."""
    return 6 * (4 * 1024 * 200 + 4 * 1024 * 1024 + 50 * 1024) / 1e6


@table("bench-step-training")
def _():
    rel = B + "mpi-and-step-product-2026-12-02.jsonl"
    lstm, lem = one(rel, what="char training", cell="lstm"), one(rel, what="char training", cell="lem")
    gflops = [x * char_mflop() / 1e3 for x in lstm["after"]]
    return [[None, [n(v) for v in lstm["before"]], [n(v) for v in lstm["after"]] + [n(min(gflops)), n(max(gflops))]
             + [str(v) for v in lstm["pct_peak_after"]], [n(v) for v in lstm["torch_before"] + lstm["torch_after"]]],
            [None, [n(v) for v in lem["before"]], [n(v) for v in lem["after"]], []]]


@text("bench-step-ratios")
def _():
    rel = B + "mpi-and-step-product-2026-12-02.jsonl"
    lstm, lem = one(rel, what="char training", cell="lstm"), one(rel, what="char training", cell="lem")
    before = [a / b for a, b in zip(lstm["before"], lstm["torch_before"])]
    after = [a / b for a, b in zip(lstm["after"], lstm["torch_after"])]
    gain = [100 * (a / b - 1) for a, b in zip(lem["after"], lem["before"])]
    return [n(min(before), 2), n(max(before), 2), n(min(after), 2), n(max(after), 2), n(min(gain)), n(max(gain))]


I15 = B + "issue15-rounds-2026-12-02.jsonl"


@table("bench-rounds-training")
def _():
    rows = []
    r = one(I15, what="training", shape="kws")   # frames/s recorded to the thousand: the ratio is the note's
    rows.append([None, [k(v) for v in r["lem_k"]], [k(v) for v in r["torch_lem_k"]], [k(v) for v in r["torch_lstm_k"]],
                 [n(v, 2) for v in r["ratio_best_peer"]], [str(v) for v in r["pct_peak"]]])
    for shape in ("word", "char"):
        r = one(I15, what="training", shape=shape)
        best = [a / max(b, c) for a, b, c in zip(r["lem"], r["torch_lstm"], r["torch_lem"])]
        ratio = [n(v, 2) for v in best]
        if shape == "char":
            ratio += [n(a / b, 2) for a, b in zip(r["lem"], r["torch_lem"])]
        rows.append([None, [n(v) for v in r["lem"]], [n(v) for v in r["torch_lem"]], [n(v) for v in r["torch_lstm"]],
                     ratio, [str(v) for v in r["pct_peak"]]])
    return rows


@table("bench-profile")
def _():
    c, w = one(I15, what="profile", shape="char"), one(I15, what="profile", shape="word")
    kw = one(I15, what="profile", shape="kws")
    return [[None, [n(c["per_step_onednn"])], [n(c["whole_sequence_openblas"]), n(c["packing"], 1)], [n(c["gate_math"])],
             [n(c["kernel"]), n(c["page_fault_buffers_gb"], 1), n(c["page_faults"], 1), n(c["openmp_spin"])]],
            [None, [n(kw["per_step_libxsmm"])], [n(kw["whole_sequence_openblas"]), n(kw["packing"], 1)],
             [n(kw["ours"]), n(kw["gate_math"]), n(kw["batch_copy"], 1), n(kw["adam"], 1)], []],
            [None, [n(w["per_step_libxsmm"], 1)], [n(w["whole_sequence_openblas"]), n(w["sgemm_kernel"]), n(w["packing"], 1)],
             [n(w["ours"], 1), n(w["softmax_ce"], 1)], []]]


@table("bench-small-products")
def _():
    r = one(I15, what="small_products")
    rng = lambda v: [str(v[0]), str(v[1])]
    return [[None, rng(r["openblas_gflops"]), rng(r["libxsmm_gflops"]), rng(r["onednn_gflops"]) + [str(r["onednn_first_call_gflops"])]]]


@table("bench-int8")
def _():
    w = one(I15, what="int8", row="word sampling")
    ratios = [b / a for a, b in zip(w["float"], w["int8"])]
    rows = [[None, [n(v) for v in w["float"]], [n(v) for v in w["int8"]], [n(min(ratios), 2), n(max(ratios), 2), n(w["goal_ratio"], 1)],
             [str(w["torch_lem"][0]), str(w["torch_lem"][1]), str(w["torch_lstm"][0]), str(w["torch_lstm"][1])]]]
    c = one(I15, what="int8", row="char sampling")
    rows.append([None, [k(v, 1) for v in c["float_k"]], [k(v, 1) for v in c["int8_k"]], [n(v, 1) for v in c["ratio"]], []])
    c = one(I15, what="int8", row="kws classify one clip")
    rows.append([None, [n(v, 2) for v in c["float_ms"]], [n(v, 2) for v in c["int8_ms"]] + [n(c["goal_ms"], 1)], [], []])
    c = one(I15, what="int8", row="kws classify 100 WAVs")
    rows.append([None, [k(v, 1) for v in c["float_k"]], [k(v, 1) for v in c["int8_k"]], [], []])
    for row in ("listen log-mel", "listen mfcc"):
        c = one(I15, what="int8", row=row)
        rows.append([None, [str(v) for v in c["float_x"]], [str(v) for v in c["int8_x"]], [], []])
    return rows


@text("bench-int8-quality")
def _():
    q = one(I15, what="int8 quality")
    return [n(q["word_run_minutes"]), n(q["word_model_valid_ppl"], 1), n(q["word_float_ppl"], 3), n(q["word_int8_ppl"], 3),
            n(100 * (q["word_int8_ppl"] / q["word_float_ppl"] - 1), 2), "60", n(q["kws_test_float"], 2), n(q["kws_n"]),
            n(q["kws_all_float"], 2), n(q["kws_all_int8"], 2)] + [n(v, 1) for v in q["ckpt_word_mb"]] + [n(v) for v in q["ckpt_kws_kb"]]


@table("readme-speed")
def _():
    def span(v, f=n):
        return [f(min(v)), f(max(v))]
    kws, word, char = (one(I15, what="training", shape=s) for s in ("kws", "word", "char"))
    best = lambda r: [a / max(b, c) for a, b, c in zip(r["lem"], r["torch_lstm"], r["torch_lem"])]
    ws = one(I15, what="int8", row="word sampling")
    clip = one(I15, what="int8", row="kws classify one clip")
    return [
        [None, span(word["torch_lem"]), span(word["torch_lstm"]), span(word["lem"]) + span(best(word), lambda v: n(v, 2)) + span(word["pct_peak"], str)],
        [None, span(char["torch_lem"]), span(char["torch_lstm"]),
         span(char["lem"]) + span(best(char), lambda v: n(v, 2)) + span([a / b for a, b in zip(char["lem"], char["torch_lem"])], lambda v: n(v, 2))
         + span(char["pct_peak"], str)],
        [None, span(kws["torch_lem_k"], k), span(kws["torch_lstm_k"], k), span(kws["lem_k"], k) + span(kws["ratio_best_peer"], lambda v: n(v, 2))
         + span(kws["pct_peak"], str)],
        [None, [str(v) for v in ws["torch_lem"]], [str(v) for v in ws["torch_lstm"]], span(ws["float"][2:]) + span(ws["int8"][2:])],
        [None, [], [], [n(v, 2) for v in clip["float_ms"]] + sorted({n(v, 2) for v in clip["int8_ms"][2:]})],
    ]


@text("readme-int8")
def _():
    q = one(I15, what="int8 quality")
    w = one(I15, what="int8", row="word sampling")
    ratios = [b / a for a, b in zip(w["float"], w["int8"])]
    return [n(q["word_float_ppl"], 2), n(q["word_int8_ppl"], 2), n(100 * (q["word_int8_ppl"] / q["word_float_ppl"] - 1), 2),
            "1", n(min(ratios), 2), n(max(ratios), 2)]


@text("readme-kws-int8")
def _():
    q = one(I15, what="int8 quality")
    return [n(q["kws_test_float"], 2), n(q["kws_all_float"], 2), n(q["kws_all_int8"], 2)]


# ---------------------------------------------------------------- COMPARISON

C = "docs/comparison/logs/first-round.jsonl"


@table("cmp-ptb-1layer")
def _():
    rows = []
    for cell in ("lem", "lstm", "gru"):
        r = one(C, what="ptb word", layers=1, cell=cell)
        rows.append([["1", str(r["hidden"])], [n(lm_params(cell, r["hidden"], 1))], [n(r["tokens_per_s"])],
                     [n(r["best_valid_ppl"], 1)], [n(r["test_ppl"], 1)]])
    return rows


@text("cmp-ptb-speed")
def _():
    rows = {c: one(C, what="ptb word", layers=1, cell=c)["tokens_per_s"] for c in ("lem", "lstm", "gru")}
    gains = [100 * (rows["lem"] / rows[c] - 1) for c in ("gru", "lstm")]
    bench = B + "lstm-gru-2026-12-01.jsonl"
    w = [x for x in figures(bench, shape="word")]
    lem = [x for x in w if "lem_lem" in x][0]["lem_lem"]
    other = [x for x in w if "lem_lstm" in x][0]
    return ["20", n(min(gains)), n(max(gains)), "64"] + [k(v, 1) for v in other["lem_gru_k"]] + [
        k(min(lem) / 1000, 1), k(max(lem) / 1000, 1), k(min(other["lem_lstm"]) / 1000, 1), k(max(other["lem_lstm"]) / 1000, 1)]


@table("cmp-ptb-2layers")
def _():
    rows = []
    for cell, lr in (("lem", 0.002), ("lem", 0.0007), ("lstm", None), ("gru", None)):
        rs = [r for r in figures(C, what="ptb word", layers=2, cell=cell) if lr is None or r.get("lr") == lr]
        r = rs[0]
        lr_value = r.get("lr", 0.002)
        valid = [n(r["best_valid_ppl"], 1 if r["best_valid_ppl"] < 900 else 0)]
        if "diverged_at_step_approx" in r:
            valid.append(str(r["diverged_at_step_approx"]))
        test = [n(r["test_ppl"], 1)] if "test_ppl" in r else []
        if cell == "lstm":
            test = [n(one(C, what="torch load", cell="2x lstm")["lm_eval_ppl"], 1)]
        rows.append([["2", str(r["hidden"]), f"{lr_value:g}"], [n(lm_params(cell, r["hidden"], 2))], valid, test])
    return rows


@table("cmp-torch-load")
def _():
    return [[None, [f"{r['lm_eval_ppl']:.6f}"], [f"{r['torch_ppl']:.6f}"]]
            for r in (one(C, what="torch load", cell=c) for c in ("lem", "lstm", "gru", "2x lstm"))]


@table("cmp-adding-1000")
def _():
    rows = []
    for cell in ("lem", "lstm", "gru"):
        r = one(C, what="adding", length=1000, cell=cell)
        rows.append([[], [f"{r['best_mse']:g}"], [n(r["below_0_05_at_step"])] if "below_0_05_at_step" in r else [],
                     [n(r["s_per_step"], 3)] if "s_per_step" in r else []])
    return rows


@table("cmp-adding-2000")
def _():
    rows = []
    for cell in ("lem", "lstm", "gru"):
        r = one(C, what="adding", length=2000, cell=cell)
        mse = r["best_mse"]
        rows.append([[], [n(mse, 5 if mse < 0.01 else 4)],
                     [n(r["below_0_05_from_step"])] if "below_0_05_from_step" in r else []])
    return rows


@text("cmp-adding-2000-gap")
def _():
    lem, gru = (one(C, what="adding", length=2000, cell=c) for c in ("lem", "gru"))
    return ["0.05", n(lem["below_0_05_from_step"] - gru["below_0_05_from_step"]), n(lem["best_mse"] / gru["best_mse"], 1)]


@table("cmp-kws")
def _():
    rows = []
    for cell in ("lem", "lstm", "gru"):
        r = one(C, what="kws", cell=cell)
        rows.append([[str(r["hidden"])], [n(kws_params(cell, r["hidden"]))], [n(r["best_valid"], 2)], [n(r["test"], 2)]])
    return rows


# ---------------------------------------------------------------- STREAMING

S = "docs/streaming/logs/dev-2026-12-02.jsonl"


@table("stream-det")
def _():
    rows = []
    for model in ("base", "snr", "hard1"):
        r = one(S, what="det", model=model)
        at = r["stream30"].get("at_0_5")
        rows.append([None, [n(r["clip_accuracy"], 2)] if "clip_accuracy" in r else [],
                     [n(v, 1) for v in r["stream30"]["miss_at_fa"]],
                     [n(at["miss"], 1), n(at["fa_per_hour"])] if at else [],
                     [n(v, 1) for v in r["stream120"]["miss_at_fa"]]])
    return rows


@text("stream-hard-gain")
def _():
    snr, hard = (one(S, what="det", model=m) for m in ("snr", "hard1"))
    gains = [a - b for key in ("stream30", "stream120") for a, b in zip(snr[key]["miss_at_fa"], hard[key]["miss_at_fa"])]
    return [n(min(gains), 1), n(max(gains), 1)]


@table("stream-full-size")
def _():
    r = one(S, what="full size corpus")
    re_ = r["reaugment"]
    return [[None, [n(r["clips"]), n(r["train"]), n(r["valid"]), n(r["test"])] + [n(v) for v in r["real"]], []],
            [None, [n(r["features_s"], 1)], [n(re_["features_s"], 1)]],
            [None, [n(r["epoch_s"], 1), k(r["frames_per_s_k"])], []],
            [None, [], [n(re_["draw_s_approx"])]],
            [None, [n(r["peak_rss_gb"], 1)], [n(re_["peak_rss_gb"], 1), n(re_["decoded_clips_gb"])]]]


G12 = "docs/streaming/logs/google12-10h.jsonl"
G12_MODELS = ("logmel", "emb")


@table("stream-g12-10h")
def _():
    """Per model: test clip accuracy, then the 10-hour stream's miss rate (interpolated) and false
    alarms at each budget of the DET sweep."""
    rows = []
    for m in G12_MODELS:
        points = {p["fa_per_hour_limit"]: p for p in one(G12, id=f"test-{m}-sweep")["eval"]["operating_points"]}
        rows.append([None, [n(100 * one(G12, id=f"clips-{m}")["eval"]["accuracy"], 1)]]
                    + [[n(100 * points[x]["miss_rate_interpolated"], 1), str(points[x]["false_alarms"])]
                       if points[x].get("threshold") is not None else [] for x in WAKE_LIMITS])
    return rows


@table("stream-g12-decided")
def _():
    """Per model: the averaging chosen on validation and the validation stream's miss rate at
    ≤ 1 FA/h; the decision layer saved from that sweep (per-keyword thresholds for 1 FA/h in all)
    on the 10-hour test stream: miss rate, false alarms per hour, and the false alarms by source."""
    rows = []
    for m in G12_MODELS:
        valid = one(G12, id=f"valid-{m}-decision")["eval"]
        at1 = {p["fa_per_hour_limit"]: p for p in valid["operating_points"]}[1]
        test = one(G12, id=f"test-{m}-decided")["eval"]
        src = test["false_alarm_sources"]
        rows.append([None, [n(valid["average_ms"])], [n(100 * at1["miss_rate_interpolated"], 1)],
                     [n(100 * test["miss_rate"], 1), n(test["fa_per_hour"], 1)],
                     [str(src["other_speech"]), str(src["other_keyword"]), str(src["noise"])]])
    return rows


@table("stream-scan")
def _():
    r = one(S, what="listen row")
    return [[None, [n(r["logmel_x"])], [n(r["logmel_ms"], 2)]], [None, [n(r["mfcc_x"])], [n(r["mfcc_ms"], 2)]]]


@text("stream-scan-limit")
def _():
    r = one(S, what="listen row")
    return [n(r["before_logmel_x"]), n(r["goal_x"]), n(r["sgemm_share_pct"]), n(r["features_share_pct"]), n(r["steps"]),
            n(r["goal_gflops"] * 1e3 / r["goal_windows_per_s"]), n(r["goal_x"]), n(r["goal_windows_per_s"]),
            n(r["goal_gflops"]), n(r["batch"])] + [str(v) for v in log(S)[0]["sgemm_peak_gflops"]["range"]] + [
            n(r["per_step_share_of_peak_pct"]), n(r["live_ms_per_window"], 1)]


@text("readme-kws-streams")
def _():
    base, hard = (one(S, what="det", model=m)["stream30"]["at_0_5"]["miss"] for m in ("base", "hard1"))
    return ["0.5", n(base, 1), n(hard, 1), "30", "10"]


@text("readme-kws-size")
def _():
    r = one(S, what="full size corpus")
    return [str(r["copies"]), k(r["clips"] / 1000, 1), k(r["train"] / 1000, 1), n(r["peak_rss_gb"], 1), n(r["epoch_s"]), "2",
            n(r["reaugment"]["peak_rss_gb"], 1), n(r["reaugment"]["draw_s_approx"])]


# ---------------------------------------------------------------- the paper's sequence tasks (docs/paper/logs)

P = "docs/paper/logs/"


class SeqPair:
    """A `seq train --task` / train_seq_pytorch.py pair run side by side: the two raw logs (seq's
    filtered to its valid/test/stop records) and their manifest line."""

    def __init__(self, run_id):
        runs = [r for r in log(P + "runs.jsonl") if r.get("record") == "run" and r.get("id") == run_id]
        if len(runs) != 1:
            raise LogError(f"{P}runs.jsonl: no run {run_id}")
        self.run = runs[0]
        self.lem = [r for r in log(P + self.run["lem_log"]) if r.get("event") == "valid"]
        self.torch = [r for r in log(P + self.run["torch_log"]) if r.get("event") == "valid"]
        if not self.lem or not self.torch:
            raise LogError(f"{run_id}: a log without validations")

    @staticmethod
    def by(rows, minutes):
        """The last validation made by `minutes` of training (None before the first)."""
        done = [r for r in rows if r["elapsed_s"] / 60 <= minutes + 1e-9]
        return done[-1] if done else None

    def marks_table(self, marks, percent=True):
        rows = []
        fmt = (lambda v: n(100 * v, 2)) if percent else (lambda v: sig(v, 3))
        for m in marks:
            a, b = self.by(self.lem, m), self.by(self.torch, m)
            rows.append([None, [fmt(a["metric"]), str(a["epoch"])] if a else [], [fmt(b["metric"]), str(b["epoch"])] if b else []])
        return rows

    def pair_table(self, marks):
        """Rows: the last validation by each mark; the state at the budget's end (lem: `seq eval` of
        the resumable state, from the manifest; PyTorch: its final validation); the speeds."""
        rows = self.marks_table(marks)
        end = self.run["lem_state_at_mark"]
        last = self.torch[-1]
        # Whole epochs PyTorch finished within the budget: from its stop record (train_seq_pytorch.py
        # with --state), or, in logs without one, the last validation's epoch (run on a partial epoch) less one.
        stops = [r for r in log(P + self.run["torch_log"]) if r.get("event") == "stop"]
        batches = -(-self.run["train_sequences_per_epoch"] // self.run["batch"])
        torch_epochs = stops[-1]["step"] // batches if stops else last["epoch"] - 1
        rows.append([None, [n(100 * end["metric"], 2), str(self.lem[-1]["epoch"])], [n(100 * last["metric"], 2), str(torch_epochs)]])
        lem, torch, ratio = self.speed_ratio()
        rows.append([None, [n(lem, 1)], [n(torch, 1), n(ratio, 2)]])
        return rows

    def speed_ratio(self):
        """Sequences per training second of each side (from its last validation), and their ratio."""
        per = self.run["train_sequences_per_epoch"]
        lem = self.lem[-1]["epoch"] * per / self.lem[-1]["elapsed_s"]
        torch = self.torch[-1]["step"] * self.run["batch"] / self.torch[-1]["elapsed_s"]
        return lem, torch, lem / torch


TABLES["paper-smnist"] = ("table", lambda: SeqPair("smnist-40min").pair_table((10, 20, 30)))
TABLES["paper-psmnist"] = ("table", lambda: SeqPair("psmnist-40min").pair_table((10, 20, 30)))
TABLES["paper-ncifar"] = ("table", lambda: SeqPair("ncifar-95min").pair_table((20, 40, 60, 80)))
TABLES["paper-ncifar-chunked"] = ("table", lambda: SeqPair("ncifar-chunked").pair_table((100, 110, 120, 130, 140, 150, 160)))


@text("paper-ncifar-takeoff")
def _():
    """When each side left chance (the first validation above 20 %): lem's epoch, step and minutes;
    PyTorch's last epoch and minutes, still at chance."""
    p = SeqPair("ncifar-chunked")
    first = [r for r in p.lem if r["metric"] > 0.2][0]
    above = [r for r in p.torch if r["metric"] > 0.2]
    if above:
        raise LogError("ncifar-chunked: PyTorch left chance too; the text says it did not")
    last = p.torch[-1]
    return [str(first["epoch"]), n(first["step"]), n(first["elapsed_s"] / 60), n(100 * first["metric"], 1),
            n(100 * p.run["lem_state_at_mark"]["metric"], 1), n(p.lem[-1]["elapsed_s"] / 60),
            str(last["epoch"]), n(last["step"]), n(100 * max(r["metric"] for r in p.torch), 1)]


@text("paper-smnist-epochs")
def _():
    p = SeqPair("smnist-40min")
    out = []
    for e in (1, 2, 3):
        a = [r for r in p.lem if r["epoch"] == e][0]
        b = [r for r in p.torch if r["epoch"] == e][0]
        out += [n(100 * a["metric"], 1), n(100 * b["metric"], 1), str(e)]
    lem_epoch = p.lem[-1]["elapsed_s"] / p.lem[-1]["epoch"]
    per_epoch = -(-p.run["train_sequences_per_epoch"] // p.run["batch"])     # batches of a full epoch
    full = [r for r in p.torch if r["step"] == r["epoch"] * per_epoch]
    torch_epoch = full[-1]["elapsed_s"] / full[-1]["epoch"]
    return out + [n(p.speed_ratio()[2], 1), "120", n(120 * torch_epoch / 3600, 1), n(120 * lem_epoch / 3600, 1)]


@table("paper-psmnist-chunked")
def _():
    """psMNIST resumed on two cores after the 40-minute one-core run: every validation from the
    end of that chunk on (epoch, training minutes, cores, valid accuracy)."""
    run = [r for r in log(P + "runs.jsonl") if r.get("record") == "run" and r.get("id") == "psmnist-chunked"]
    if len(run) != 1:
        raise LogError(f"{P}runs.jsonl: no run psmnist-chunked")
    one_core_until = run[0]["chunks"][0]["until_elapsed_s"]
    rows, previous = [], 0.0
    for r in log(P + run[0]["lem_log"]):
        if r.get("event") == "valid" and r["epoch"] < 10:
            previous = r["elapsed_s"]
        if r.get("event") == "valid" and r["epoch"] >= 10:
            cores = ["1"] if r["elapsed_s"] <= one_core_until else ["2"] if previous > one_core_until else ["1", "2"]   # "1, then 2"
            previous = r["elapsed_s"]
            rows.append([[str(r["epoch"])], [n(r["elapsed_s"] / 60, 1)], cores, [n(100 * r["metric"], 2)]])
    return rows


@table("paper-speed")
def _():
    rows = []
    records = [r for r in log(P + "seq-vs-pytorch.jsonl") if r.get("record") != "provenance"]
    for config in ("smnist", "ncifar", "eigenworms", "heart-rate", "fhn"):
        lem = [r for r in records if r["config"] == config and r["impl"] == "lem"]
        torch = [r for r in records if r["config"] == config and r["impl"] == "pytorch-lem"]
        if len(lem) != 2 or len(torch) != 2:
            raise LogError(f"seq-vs-pytorch.jsonl: expected two rounds of {config} for each side")
        mean = lambda rs, key: sum(r[key] for r in rs) / len(rs)
        a, b = mean(lem, "steps_per_s"), mean(torch, "steps_per_s")
        shape = [n(lem[0]["steps"]), str(lem[0]["batch"]), str(lem[0]["hidden"])]
        rows.append([None, shape, [n(a)], [n(b)], [n(a / b, 2 if a / b < 10 else 1)],
                     [n(max(r["peak_rss_mb"] for r in lem)), n(max(r["peak_rss_mb"] for r in torch))]])
    return rows


@text("paper-speed-per-step")
def _():
    records = [r for r in log(P + "seq-vs-pytorch.jsonl") if r.get("config") == "eigenworms"]
    per = lambda impl: 1e6 / (sum(r["steps_per_s"] for r in records if r["impl"] == impl) / 2)
    return ["8", "32", n(per("lem"), 2), n(per("pytorch-lem"), 1)]


@text("paper-psmnist-rss")
def _():
    rss = SeqPair("psmnist-40min").run["peak_rss_mb"]
    return [n(rss["lem"]), n(rss["pytorch"]), "94", "2", "40"]


@table("paper-shapes")
def _():
    rows = []
    for task, shape in (("eigenworms", ["181", "39", "39", "17,984", "6", "8", "32"]), ("heart-rate", ["5,565", "1,192", "1,192", "4,000", "2", "32", "128"])):
        r = one(P + "shapes.jsonl", what="shape_run", task=task)
        rows.append([shape, [str(r["threads"])], [n(r["peak_rss_mb"])], [n(r["wall_seconds"], 1)], [n(r["steps_per_s"])]])
    return rows


def fhn_runs(impl):
    return [r for r in figures(P + "fhn-runs.jsonl", what="run") if r.get("impl") == impl]


def median(xs):
    xs = sorted(xs)
    m = len(xs) // 2
    return xs[m] if len(xs) % 2 else (xs[m - 1] + xs[m]) / 2


@table("paper-fhn")
def _():
    lem, torch = fhn_runs("lem"), fhn_runs("pytorch")
    spread = lambda xs: [sig(median(xs), 2), sig(min(xs), 2), sig(max(xs), 2)]
    return [
        [None, [str(len(lem))], [str(len(torch))]],
        [None, spread([r["best"] for r in lem]), spread([r["best"] for r in torch])],
        [None, spread([r["test"] for r in lem]), spread([r["test_at_best"]["rmse"] for r in torch])],
        [None, [], spread([r["test_at_best"]["rmse_last_batch_of_128"] for r in torch])],
        [None, [n(median([r["train_seconds"] for r in lem]), 1)], [n(median([r["train_seconds"] for r in torch]))]],
    ]


@text("paper-fhn-equal-time")
def _():
    """FitzHugh-Nagumo at equal time: all of lem's seeds against one PyTorch run's training time,
    the seed chosen by validation RMSE, its test RMSE against each PyTorch run's."""
    lem, torch = fhn_runs("lem"), fhn_runs("pytorch")
    total = sum(r["train_seconds"] for r in lem)
    chosen = min(lem, key=lambda r: r["best"])
    one = min(r["train_seconds"] for r in torch)
    tests = sorted(r["test_at_best"]["rmse"] for r in torch)
    return [str(len(lem)), n(total), n(one), str(chosen["seed"]), sig(chosen["best"], 2), sig(chosen["test"], 2), n(len(lem) and 1024)] \
        + [sig(t, 2) for t in tests]


# ---------------------------------------------------------------- markdown

NUMBER = re.compile(r"(?<![\w.])[−-]?\d[\d,]*(?:\.\d+)?[kM]?(?![\w])")
MARK = re.compile(r"<!--\s*figures:\s*([\w.-]+)\s*-->")
END = "<!-- /figures -->"


def numbers(s):
    s = re.sub(r"<!--.*?-->", " ", s)
    s = re.sub(r"\]\([^)]*\)", "]", s)                 # link targets
    s = re.sub(r"`[^`]*`", lambda m: " " if re.search(r"\d", m.group()) else m.group(), s)   # code spans: flags, not figures
    out = []
    for m in NUMBER.finditer(s):
        out.append(m.group().rstrip(","))
    return out


def norm(tokens):
    return [t.replace(",", "").replace("−", "-") for t in tokens]


def split_row(line):
    cells = line.strip().replace("\\|", "\x00").strip("|").split("|")
    return [c.replace("\x00", "|").strip() for c in cells]


def find_marks():
    """[(doc, line number, id, kind, block)] for every marker in the docs."""
    found = []
    for doc in DOCS:
        with open(os.path.join(ROOT, doc)) as f:
            lines = f.read().split("\n")
        for i, line in enumerate(lines):
            for m in MARK.finditer(line):
                rest = line[m.end():]
                if not rest.strip():                    # alone on its line: the table below
                    j = i + 1
                    rows = []
                    while j < len(lines) and lines[j].lstrip().startswith("|"):
                        rows.append((j + 1, lines[j]))
                        j += 1
                    found.append((doc, i + 1, m.group(1), "table", rows))
                elif line[:m.start()].strip() in ("", "-", "*"):
                    found.append((doc, i + 1, m.group(1), "line-start", None))
                else:                                    # inline: to the end of the paragraph or list item
                    block = [rest]
                    j = i + 1
                    while j < len(lines) and lines[j].strip() and not re.match(r"\s*([-*] |\||#|<!--)", lines[j]) and END not in block[-1]:
                        block.append(lines[j])
                        j += 1
                    joined = "\n".join(block)
                    following = MARK.search(joined)                 # the next marked sentence ends this one
                    if following:
                        joined = joined[:following.start()]
                    if END in joined:
                        joined = joined[:joined.index(END)]
                    found.append((doc, i + 1, m.group(1), "text", joined))
    return found


W = "docs/wakewords/logs/alexa-10h.jsonl"
WAKE_LIMITS = (0.1, 0.5, 1, 2, 5)


def wake_points(rid):
    """A detector's miss rate (interpolated on its DET sweep, %) and false alarms at each budget."""
    r = one(W, id=rid)["eval"]
    points = {p["fa_per_hour_limit"]: p for p in r["operating_points"]}
    cells = []
    for limit in WAKE_LIMITS:
        p = points[limit]
        cells.append([n(100 * p["miss_rate_interpolated"], 1), str(p["false_alarms"])] if p.get("threshold") is not None else [])
    return cells


PS_SENSITIVITIES = (15, 20, 25, 30, 35)


def pocketsphinx_best(limit, log_path=W):
    """PocketSphinx gives one (miss rate, false alarms) point per sensitivity: the lowest miss rate
    among the points within the budget, and its false alarms."""
    within = [e for e in (one(log_path, id=f"pocketsphinx-s{s}")["eval"] for s in PS_SENSITIVITIES) if e["fa_per_hour"] <= limit]
    if not within:
        return []
    best = min(within, key=lambda e: (e["miss_rate"], e["fa_per_hour"]))
    return [n(100 * best["miss_rate"], 1), str(best["false_alarms"])]


@table("wake-alexa-10h")
def _():
    rows = [[None] + wake_points(rid) for rid in ("logmel-lem-v1", "logmel-lem-v1-decided", "embedding-lem-decided", "embedding-lem-80ms",
                                                   "openwakeword-alexa", "logmel-lem-v0")]
    rows.insert(5, [None] + [pocketsphinx_best(limit) for limit in WAKE_LIMITS])
    return rows


def pocketsphinx_rows(log_path):
    """PocketSphinx's point at each sensitivity: missed (of the keywords), false alarms per hour,
    median latency."""
    rows = []
    for s in PS_SENSITIVITIES:
        e = one(log_path, id=f"pocketsphinx-s{s}")["eval"]
        lat = e.get("latency_ms")
        rows.append([[str(s)], [n(100 * e["miss_rate"], 1), str(round(e["miss_rate"] * e["keywords"])), str(e["keywords"])],
                     [n(e["fa_per_hour"], 2), str(e["false_alarms"])], [n(lat["median"])] if lat else []])
    return rows


@table("wake-pocketsphinx")
def _():
    return pocketsphinx_rows(W)


@table("wake-latency")
def _():
    rows = []
    for log_path, rid in ((W, "embedding-lem-80ms"), (W, "openwakeword-alexa"), (J, "logmel-lem-decided"), (J, "embedding-lem-decided")):
        points = {p["fa_per_hour_limit"]: p for p in one(log_path, id=rid)["eval"]["operating_points"]}
        rows.append([None] + [[n(points[x]["latency_ms_median"])] if points[x].get("threshold") is not None else [] for x in (0.5, 1, 5)])
    return rows


J = "docs/wakewords/logs/jarvis-10h.jsonl"
JARVIS_ROWS = ("logmel-lem-decided", "embedding-lem-decided", "openwakeword-hey-jarvis")


@table("wake-jarvis-10h")
def _():
    rows = []
    for rid in JARVIS_ROWS:
        points = {p["fa_per_hour_limit"]: p for p in one(J, id=rid)["eval"]["operating_points"]}
        rows.append([None] + [[n(100 * points[x]["miss_rate_interpolated"], 1), str(points[x]["false_alarms"])]
                              if points[x].get("threshold") is not None else [] for x in WAKE_LIMITS])
    rows.append([None] + [pocketsphinx_best(limit, J) for limit in WAKE_LIMITS])
    return rows


@table("wake-pocketsphinx-jarvis")
def _():
    return pocketsphinx_rows(J)


@table("wake-jarvis-decided")
def _():
    rows = []
    for rid in JARVIS_ROWS:
        r = one(J, id=rid)
        e = r["eval"]
        d = r.get("decided_row") or {"threshold": e["threshold"], "miss_rate": e["miss_rate"], "misses": round(e["miss_rate"] * e["keywords"]),
                                     "fa_per_hour": e["fa_per_hour"], "false_alarms": e["false_alarms"]}
        rows.append([None, [n(d["threshold"], 2)], [n(100 * d["miss_rate"], 1), str(int(d["misses"])), str(e["keywords"])],
                     [n(d["fa_per_hour"], 2), str(int(d["false_alarms"]))]])
    return rows


@table("wake-jarvis-validation")
def _():
    rows = []
    for rid in ("valid-logmel-decision", "valid-embedding-decision"):
        r = one(J, id=rid)["eval"]
        points = {p["fa_per_hour_limit"]: p for p in r["operating_points"]}
        rows.append([None] + [[n(100 * points[x]["miss_rate_interpolated"], 1)] if points[x].get("threshold") is not None else [] for x in (0.1, 0.5, 1)]
                    + [[n(r["decision"]["thresholds"]["jarvis"], 2)]])
    return rows


@table("wake-alexa-decided")
def _():
    rows = []
    for rid in ("logmel-lem-v1-decided", "embedding-lem-decided", "openwakeword-alexa"):
        r = one(W, id=rid)["eval"]
        src = r["false_alarm_sources"]
        rows.append([None, [n(r["threshold"], 2)], [n(100 * r["miss_rate"], 1), str(round(r["miss_rate"] * r["keywords"])), str(r["keywords"])],
                     [n(r["fa_per_hour"], 2), str(r["false_alarms"])], [str(src["noise"])], [str(src["other_speech"])]])
    return rows


def validation_rows(ids):
    """Miss rates (%) at 0.1, 0.5 and 1 FA/h on the validation stream, one row per record."""
    rows = []
    for rid in ids:
        points = {p["fa_per_hour_limit"]: p for p in one(W, id=rid)["eval"]["operating_points"]}
        rows.append([None] + [[n(100 * points[x]["miss_rate_interpolated"], 1)] if points[x].get("threshold") is not None else [] for x in (0.1, 0.5, 1)])
    return rows


@table("wake-alexa-validation")
def _():
    return validation_rows(("valid-a1000-c1", "valid-a1000-c2", "valid-a300-c1", "valid-a300-c2"))


@table("wake-embedding-validation")
def _():
    return validation_rows(("valid-a300-c1", "valid-embedding-decision"))


@text("wake-headline")
def _():
    ours = {p["fa_per_hour_limit"]: p for p in one(W, id="embedding-lem-decided")["eval"]["operating_points"]}
    oww = {p["fa_per_hour_limit"]: p for p in one(W, id="openwakeword-alexa")["eval"]["operating_points"]}
    jarvis = {p["fa_per_hour_limit"]: p for p in one(J, id="embedding-lem-decided")["eval"]["operating_points"]}
    return [n(100 * ours[1]["miss_rate_interpolated"], 1), "1", n(100 * oww[1]["miss_rate_interpolated"], 1), n(100 * jarvis[1]["miss_rate_interpolated"], 1)]


@table("wake-cost")
def _():
    rows = []
    for rid in ("cost-logmel-lem", "cost-embedding-lem", "cost-embedding-lem-80ms", "cost-embedding-lem-80ms-blocks", "cost-openwakeword", "cost-pocketsphinx"):
        r = one(W, id=rid)
        rows.append([None, [n(r["percent_of_one_core"], 2)], [n(r["ms_per_decision"], 2)]])
    return rows


# ---------------------------------------------------------------- docs/ONLINE.md

O = "docs/online/logs/online.jsonl"
ONLINE_STREAMS = ("linear", "switching", "fhn-drift")
ONLINE_CELLS = ("lem", "lstm", "gru", "lru")


def online_runs(**match):
    """The run records of the online log whose fields equal `match`."""
    return cmp_runs(O, **match)


def switch_cost(run):
    """Mean over the regime switches (after the first regime) of the prequential MSE of the first
    report after the switch divided by that of the last report before it."""
    period, reports = run["period"], run["reports"]
    by_step = {r[0]: r[1] for r in reports}
    every = reports[1][0] - reports[0][0]
    ratios = []
    for switch in range(period, reports[-1][0], period):
        after, before = by_step.get(switch + every), by_step.get(switch)
        if after is not None and before:
            ratios.append(after / before)
    return sum(ratios) / len(ratios)


@table("online-cells")
def _():
    rows = []
    for kind in ONLINE_STREAMS:
        for cell in ONLINE_CELLS:
            runs = online_runs(phase="evaluation", stream=kind, cell=cell)
            if len(runs) != 3:
                raise LogError(f"{O}: {kind} {cell}: {len(runs)} evaluation runs, expected 3")
            mse = [1000 * r["summary"]["mse"] for r in runs]
            row = [None, None, [sig(runs[0]["lr"], 1)], [n(sum(mse) / 3, 2)], [n(min(mse), 2)], [n(max(mse), 2)]]
            row.append([n(sum(switch_cost(r) for r in runs) / 3, 2)] if runs[0]["period"] else [])
            rows.append(row)
    return rows


@table("online-tuning")
def _():
    rows = []
    for kind in ONLINE_STREAMS:
        for cell in ONLINE_CELLS:
            runs = sorted(online_runs(phase="tuning", stream=kind, cell=cell), key=lambda r: r["lr"])
            rows.append([None, None] + [[n(1000 * r["summary"]["mse"], 2)] for r in runs])
    return rows


@text("online-persistence")
def _():
    out = []
    for kind in ONLINE_STREAMS:
        runs = online_runs(phase="evaluation", stream=kind)
        out.append(n(1000 * sum(r["summary"]["persistence_mse"] for r in runs) / len(runs), 1))
    return out


OL = "docs/online/logs/online-labels.jsonl"
LABEL_STREAMS = ("switching", "fhn-drift")


def labelled_runs(**match):
    return cmp_runs(OL, **match)


@table("online-labels-cells")
def _():
    rows = []
    for kind in LABEL_STREAMS:
        for cell in ONLINE_CELLS:
            runs = labelled_runs(phase="evaluation", stream=kind, cell=cell)
            if len(runs) != 3:
                raise LogError(f"{OL}: {kind} {cell}: {len(runs)} evaluation runs, expected 3")
            acc = [100 * r["summary"]["accuracy"] for r in runs]
            rows.append([None, None, [sig(runs[0]["lr"], 1)], [n(sum(acc) / 3, 1)], [n(max(acc), 1)], [n(min(acc), 1)]])
    return rows


@table("online-labels-tuning")
def _():
    rows = []
    for kind in LABEL_STREAMS:
        for cell in ONLINE_CELLS:
            runs = sorted(labelled_runs(phase="tuning", stream=kind, cell=cell), key=lambda r: r["lr"])
            rows.append([None, None] + [[n(100 * r["summary"]["accuracy"], 1)] for r in runs])
    return rows


@text("online-labels-majority")
def _():
    return [n(100 * sum(r["summary"]["majority_accuracy"] for r in runs) / len(runs), 1)
            for runs in (labelled_runs(phase="evaluation", stream=k) for k in LABEL_STREAMS)]


# ---------------------------------------------------------------- COMPARISON.md: the protocol done right

CMP_FHN = "docs/comparison/logs/fhn-cells.jsonl"


def cmp_runs(path, **match):
    """The run records of the log at `path` whose fields equal `match` (every runs log's helper)."""
    rows = [r for r in log(path) if r.get("record") == "run" and all(r.get(k) == v for k, v in match.items())]
    if not rows:
        raise LogError(f"{path}: no run record with {match}")
    return rows


def cmp_cells(path):
    return [c["cell"] for c in log(path) if c.get("record") == "choice"]


def cmp_cell_rows(path, figure, speed=False):
    """Per cell of a `run_cell_comparison.py` log: hidden, parameters, the chosen rate, the seeds'
    test figure (mean, best, worst: min and max for an error, max and min for an accuracy) and
    their best validation figure at 25/50/100 % of the budget (mean), and the epochs run (with
    `speed`, then the training throughput, mean of the seeds); `figure` formats one value."""
    rows = []
    for cell in cmp_cells(path):
        runs = cmp_runs(path, phase="seed", cell=cell)
        test = [r["test"] for r in runs]
        lower = runs[0]["lower_is_better"]
        mean = lambda xs: sum(xs) / len(xs)
        # A seed with no validation yet at a mark (its first epoch ends later) leaves the mean open.
        by = lambda runs, key: None if any(r[key] is None for r in runs) else [figure(mean([r[key] for r in runs]))]
        rows.append([None, [str(runs[0]["hidden"])], [n(runs[0]["parameters"])], [sig(runs[0]["lr"], 1)],
                     [figure(mean(test))], [figure(min(test) if lower else max(test))], [figure(max(test) if lower else min(test))],
                     by(runs, "best_valid_by_25pct"), by(runs, "best_valid_by_50pct"),
                     [figure(mean([r["best_valid"] for r in runs]))], [n(mean([r["epochs"] for r in runs]))]]
                    + ([[n(mean([r["train_units_per_s"] for r in runs]))]] if speed else []))
    return rows


def cmp_tuning_rows(path, figure):
    """Per cell: the tuning seed's best validation figure at each rate any cell tried (the
    table's columns); a rate a cell did not run is not checked (the doc says "—")."""
    grid = sorted({r["lr"] for r in cmp_runs(path, phase="tune")})
    rows = []
    for cell in cmp_cells(path):
        by_rate = {r["lr"]: r for r in cmp_runs(path, phase="tune", cell=cell)}
        rows.append([None] + [[figure(by_rate[lr]["best_valid"])] if lr in by_rate else None for lr in grid])
    return rows


@table("cmp-fhn-cells")
def _():
    return cmp_cell_rows(CMP_FHN, lambda v: sig(v, 2))


@table("cmp-fhn-tuning")
def _():
    return cmp_tuning_rows(CMP_FHN, lambda v: sig(v, 2))


CMP_G12 = "docs/comparison/logs/google12-cells.jsonl"
percent = lambda v: n(100 * v, 1)


@table("cmp-g12-cells")
def _():
    return cmp_cell_rows(CMP_G12, percent)


@table("cmp-g12-tuning")
def _():
    return cmp_tuning_rows(CMP_G12, percent)


CMP_PTB = "docs/comparison/logs/ptb-word-cells.jsonl"


@table("cmp-ptb-cells")
def _():
    return cmp_cell_rows(CMP_PTB, lambda v: n(v, 1), speed=True)


@table("cmp-ptb-tuning")
def _():
    return cmp_tuning_rows(CMP_PTB, lambda v: n(v, 1))


CMP_ADDING = "docs/comparison/logs/adding-T2000-recipe.jsonl"


@table("cmp-adding-recipe")
def _():
    """Per seed of the authors' adding recipe at T = 2000: the first evaluation below 0.05 (or
    none), the best test MSE and the last step's."""
    rows = []
    for r in sorted(cmp_runs(CMP_ADDING), key=lambda r: r["seed"]):
        curve = r["curve"]
        below = [step for step, mse in curve if mse < 0.05]
        rows.append([[str(r["seed"])], [n(below[0]) if below else n(curve[-1][0])],   # "not by <last step>"
                     [sig(min(mse for _, mse in curve), 3)], [sig(curve[-1][1], 3)]])
    return rows


# ---------------------------------------------------------------- BENCHMARKS.md: the cells at seq's shapes

SEQ_CELLS_LOG = "docs/benchmarks/logs/seq-cells-2026-12-04.jsonl"       # before the LRU's 16-lane passes
SEQ_CELLS_LOG_B = "docs/benchmarks/logs/seq-cells-2026-12-04b.jsonl"    # after them (session 16)
CELL_ORDER = ("lem", "lstm", "gru", "lru")


def seq_cell_speeds(path):
    """{config: {cell: mean steps/s over the log's two rounds}}."""
    out = {}
    for config in ("smnist", "eigenworms", "fhn"):
        out[config] = {}
        for cell in CELL_ORDER:
            runs = [r for r in log(path) if r.get("config") == config and r.get("cell") == cell]
            if len(runs) != 2:
                raise LogError(f"{path}: {len(runs)} {config} {cell} rows, expected 2 rounds")
            out[config][cell] = sum(r["steps_per_s"] for r in runs) / len(runs)
    return out


@table("bench-seq-cells")
def _():
    speeds = seq_cell_speeds(SEQ_CELLS_LOG)
    return [[None] + [[n(s[c])] for c in CELL_ORDER] + [[n(s["lru"] / s["lem"], 2)]] for s in speeds.values()]


@table("bench-seq-cells-b")
def _():
    before, after = seq_cell_speeds(SEQ_CELLS_LOG), seq_cell_speeds(SEQ_CELLS_LOG_B)
    return [[None] + [[n(after[k][c])] for c in CELL_ORDER] + [[n(after[k]["lru"] / after[k]["lem"], 2)], [n(after[k]["lru"] / before[k]["lru"], 2)]]
            for k in after]


@text("bench-seq-cells-b-sgemm")
def _():
    return [n([r for r in log(SEQ_CELLS_LOG_B) if r.get("config") == "sgemm"][0]["gflops"], 1)]


def check_logs():
    problems = []
    manifests = {}
    for manifest in glob.glob(os.path.join(ROOT, "docs/*/logs/runs.jsonl")):
        rel = os.path.relpath(manifest, ROOT)
        folder = os.path.dirname(rel)
        for r in log(rel):
            if r.get("record") == "run":
                for key in ("lm_log", "lem_log", "torch_log"):
                    if key in r:
                        manifests[os.path.join(folder, r[key])] = r
                missing = [key for key in PROVENANCE_KEYS if key not in r]
                if missing:
                    problems.append(f"{rel}: run {r.get('id')} lacks {', '.join(missing)}")
    for path in sorted(glob.glob(os.path.join(ROOT, "docs/*/logs/*.jsonl"))):
        rel = os.path.relpath(path, ROOT)
        if rel in manifests or rel.endswith("runs.jsonl"):
            continue
        first = log(rel)[0] if log(rel) else {}
        if first.get("record") != "provenance":
            problems.append(f"{rel}: the first line is not a provenance record, and no runs.jsonl names this log")
            continue
        missing = [key for key in PROVENANCE_KEYS if key not in first]
        if missing:
            problems.append(f"{rel}: its provenance line lacks {', '.join(missing)}")
    for rel in manifests:
        if not os.path.exists(os.path.join(ROOT, rel)):
            problems.append(f"{rel}: named by runs.jsonl but missing")
    return problems


def compare(doc, line, table_id, kind, block, expected):
    problems = []
    if kind == "text":
        got = numbers(block)
        if norm(got) != norm(expected):
            problems.append(f"{doc}:{line}: text '{table_id}': the doc has {got}, the logs give {expected}")
        return problems, 1
    if len(block) < 2:
        return [f"{doc}:{line}: '{table_id}' is not followed by a table"], 0
    rows = block[2:]                                     # header and separator are not read
    if len(rows) != len(expected):
        return [f"{doc}:{line}: table '{table_id}' has {len(rows)} rows, the logs give {len(expected)}"], 0
    cells = 0
    for (row_line, text_), want in zip(rows, expected):
        got_cells = split_row(text_)
        if len(got_cells) != len(want):
            problems.append(f"{doc}:{row_line}: table '{table_id}': {len(got_cells)} cells, expected {len(want)}")
            continue
        for col, (got_cell, want_cell) in enumerate(zip(got_cells, want), 1):
            if want_cell is None:
                continue
            cells += 1
            got = numbers(got_cell)
            if norm(got) != norm(want_cell):
                label = got_cells[0][:40]
                problems.append(f"{doc}:{row_line}: table '{table_id}', row '{label}', column {col}: "
                                f"the doc has {got or 'no number'}, the logs give {want_cell or 'no number'}")
    return problems, cells


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the docs and exit 1 on any difference")
    ap.add_argument("ids", nargs="*", help="only these tables (default: all)")
    args = ap.parse_args()
    try:
        expected = {i: (kind, f()) for i, (kind, f) in TABLES.items() if not args.ids or i in args.ids}
    except LogError as e:
        sys.exit(f"doc_figures: {e}")
    if not args.check:
        for table_id, (kind, rows) in expected.items():
            print(f"== {table_id} ({kind})")
            if kind == "text":
                print("   " + " ".join(rows))
            else:
                for i, row in enumerate(rows, 1):
                    print(f"   row {i}: " + " | ".join("·" if c is None else " ".join(c) or "—" for c in row))
        return
    problems = check_logs()
    marks = find_marks()
    seen = {}
    cells = 0
    for doc, line, table_id, kind, block in marks:
        if table_id not in TABLES:
            problems.append(f"{doc}:{line}: unknown figures id '{table_id}' (known: tools/analysis/doc_figures.py)")
            continue
        seen.setdefault(table_id, []).append(f"{doc}:{line}")
        if kind == "line-start":
            problems.append(f"{doc}:{line}: '{table_id}' starts its line followed by text: markdown renders such a line as raw "
                            "HTML; put the marker after the first word")
            continue
        if TABLES[table_id][0] != kind:
            problems.append(f"{doc}:{line}: '{table_id}' is a {TABLES[table_id][0]} check but marks a {kind}")
            continue
        if table_id in expected:
            p, c = compare(doc, line, table_id, kind, block, expected[table_id][1])
            problems += p
            cells += c
    for table_id in expected:
        if table_id not in seen:
            problems.append(f"'{table_id}': no <!-- figures: {table_id} --> marker in {', '.join(DOCS)}")
        elif len(seen[table_id]) > 1:
            problems.append(f"'{table_id}': marked more than once ({', '.join(seen[table_id])})")
    if problems:
        print("doc figures differ from what the committed logs give:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        print("(python3 tools/analysis/doc_figures.py prints the numbers the logs give)", file=sys.stderr)
        sys.exit(1)
    print(f"doc figures: {len(expected)} marked tables and sentences, {cells} cells, all as the logs give")


if __name__ == "__main__":
    main()
