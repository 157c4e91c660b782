#!/usr/bin/env python3
"""Projects a validation curve to a target perplexity / bits per character (docs/REPRODUCTION.md).

    python3 tools/analysis/project_curve.py char.ckpt.metrics.jsonl --target 1.25
    python3 tools/analysis/project_curve.py docs/reproduction/logs/word-120min-lm.metrics.jsonl --target 72.8 --skip 17
    python3 tools/analysis/project_curve.py torch-word.jsonl --target 72.8 --total-steps 200000

Reads the validations of an `lm train` metrics log (<checkpoint>.metrics.jsonl: records with
"event": "valid") or of `tools/reference/train_ptb_pytorch.py --json`: a run's raw log, never
points read back off a plotted curve (docs/REPRODUCTION.md's projection table comes from the
committed raw logs, and tools/analysis/doc_figures.py recomputes it with this file's fit). It fits the validation
cross-entropy L (nats per token) against optimizer steps s with a saturating power law,

    L(s) = L_inf + A * s^(-alpha),

least squares in L over every validation (alpha on a grid of 0.005, L_inf and A exactly for
each alpha). It prints the fit, the curve's value at --total-steps (lamb's 200k), and the step
and training hours at which the fit reaches --target (or that it never does: L_inf above it),
the hours from the run's own steps per training second. The same fit on the later half of the
validations shows how much the answer depends on the early, fast-falling part.

What a projection cannot know: the recipe's weight averaging (lamb's, from epoch 48 / 19 without
improvement) lowers the curve once it starts, and the paper's figure is on the standard test
split; a power law through the first hours of a 200k-step recipe is a guess with error bars,
not a forecast. The metric is perplexity for word logs, bits per character for char logs
(--level, or guessed from the values: above 20 means perplexity).
"""

import argparse
import json
import math
import sys


def read_validations(path):
    """[(step, training seconds, metric)] in the order of the log, one per validation."""
    rows = []
    try:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{path}:{n}: not JSON ({e})")
                # lm train and train_ptb_pytorch.py --json write validations alike.
                if r.get("event") == "valid" and "elapsed_s" in r:
                    rows.append((r["step"], r["elapsed_s"], r["metric"]))
    except OSError as e:
        sys.exit(f"{path}: {e.strerror}")
    by_step = {}
    for step, seconds, metric in rows:          # a resumed run may repeat a validation: keep the last
        by_step[int(step)] = (seconds, metric)
    return [(s, *by_step[s]) for s in sorted(by_step)]


def fit(steps, losses):
    """(L_inf, A, alpha, rms) minimising sum (L_inf + A s^-alpha - L)^2."""
    best = None
    for i in range(1, 600):
        alpha = 0.005 * i
        x = [s ** -alpha for s in steps]
        n, sx, sy = len(x), sum(x), sum(losses)
        sxx = sum(v * v for v in x)
        sxy = sum(v * y for v, y in zip(x, losses))
        det = n * sxx - sx * sx
        if det <= 0:
            continue
        a = (n * sxy - sx * sy) / det
        c = (sy - a * sx) / n
        sse = sum((c + a * v - y) ** 2 for v, y in zip(x, losses))
        if best is None or sse < best[3]:
            best = (c, a, alpha, sse)
    c, a, alpha, sse = best
    return c, a, alpha, math.sqrt(sse / len(steps))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log")
    ap.add_argument("--target", type=float, required=True, help="perplexity (word) or bits per character (char)")
    ap.add_argument("--level", choices=["word", "char"])
    ap.add_argument("--total-steps", type=int, default=200_000, help="the recipe's length (lamb: 1,000 turns of 200 steps)")
    ap.add_argument("--skip", type=int, default=1, help="leave out this many first validations (the first epoch is far from any law)")
    args = ap.parse_args()

    rows = read_validations(args.log)
    level = args.level or ("word" if rows and rows[0][2] > 20 else "char")
    to_loss = (lambda m: math.log(m)) if level == "word" else (lambda m: m * math.log(2))
    to_metric = (lambda l: math.exp(l)) if level == "word" else (lambda l: l / math.log(2))
    unit = "perplexity" if level == "word" else "bpc"
    if len(rows) < args.skip + 4:
        sys.exit(f"{args.log}: {len(rows)} validations; a fit needs at least {args.skip + 4}")
    last_step, last_seconds, last_metric = rows[-1]
    steps_per_second = last_step / last_seconds
    print(f"{args.log}: {len(rows)} validations, last {unit} {last_metric:.4g} at step {last_step} "
          f"({last_seconds / 3600:.2f} training hours, {steps_per_second:.3f} steps/s)")

    used = rows[args.skip:]
    for name, part in (("all", used), ("later half", used[len(used) // 2:])):
        if len(part) < 4:
            print(f"  {name}: {len(part)} validations, too few to fit")
            continue
        c, a, alpha, rms = fit([r[0] for r in part], [to_loss(r[2]) for r in part])
        at_total = to_metric(c + a * args.total_steps ** -alpha)
        line = (f"  fit on {name} ({len(part)} points, steps {part[0][0]}-{part[-1][0]}): "
                f"{unit}(s) = {to_metric(c):.4g} floor, alpha {alpha:.3f}, rms {rms:.4f} nats; "
                f"{at_total:.4g} at step {args.total_steps}")
        target = to_loss(args.target)
        if target <= c:
            line += f"; never reaches {args.target} (floor {to_metric(c):.4g})"
        else:
            s = (a / (target - c)) ** (1 / alpha)
            line += f"; reaches {args.target} at step {s:,.0f} = {s / steps_per_second / 3600:,.1f} training hours"
        print(line)


if __name__ == "__main__":
    main()
