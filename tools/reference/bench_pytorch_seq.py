#!/usr/bin/env python3
"""Training speed of the authors' PyTorch LEM at each paper task's shape: the reference for
`seq bench` (docs/PAPER.md, docs/BENCHMARKS.md).

One training step = forward (the authors' python loop over the steps, train_seq_pytorch.py's LEM),
the loss (cross-entropy of the last step's classes, or the mean squared error of one target or
of a target at every step), backward through time and an Adam step, on random data of the
task's shape with the authors' hidden size and batch:

  smnist      784 x 1,     hidden 128, batch 128, 10 classes
  ncifar      1000 x 96,   hidden 128, batch 100, 10 classes
  eigenworms  17984 x 6,   hidden 32,  batch 8,   5 classes
  heart-rate  4000 x 2,    hidden 128, batch 32,  one target
  fhn         1000 x 1,    hidden 16,  batch 32,  a target at every step

Figures: sequence steps per second (T * B / seconds per step), seconds per step, peak resident
memory of the process (ru_maxrss) after the configuration. Timing: 1 warm-up step, then steps
until --min-time seconds (and at least 2 steps).

    python3 tools/reference/bench_pytorch_seq.py --threads 1 --json
    python3 tools/reference/bench_pytorch_seq.py --only eigenworms --threads 2
"""

import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_seq_pytorch import LEM  # noqa: E402

SHAPES = {  # steps, features, hidden, batch, outputs, dt, every step
    "smnist": (784, 1, 128, 128, 10, 0.21, False),
    "ncifar": (1000, 96, 128, 100, 10, 0.44, False),
    "eigenworms": (17984, 6, 32, 8, 5, 0.00017, False),
    "heart-rate": (4000, 2, 128, 32, 1, 0.2371, False),
    "fhn": (1000, 1, 16, 32, 1, 1.0, True),
}


def measure(name, min_time):
    T, m, d, B, K, dt, every = SHAPES[name]
    torch.manual_seed(1)
    model = LEM(m, d, K, dt, every_step=every)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(T, B, m)
    if name in ("smnist", "ncifar", "eigenworms"):
        y, objective = torch.randint(0, K, (B,)), nn.CrossEntropyLoss()
    else:
        y, objective = torch.randn(T, B, K) if every else torch.randn(B, K), nn.MSELoss()

    def step():
        loss = objective(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    step()
    steps, t0 = 0, time.monotonic()
    while steps < 2 or time.monotonic() - t0 < min_time:
        step()
        steps += 1
    per = (time.monotonic() - t0) / steps
    return {"config": name, "impl": "pytorch-lem", "steps_per_s": T * B / per, "ms_per_batch": per * 1000, "steps": T, "batch": B,
            "hidden": d, "features": m, "threads": torch.get_num_threads(), "timed_steps": steps,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma-separated configurations")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--min-time", type=float, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for name in (args.only.split(",") if args.only else SHAPES):
        r = measure(name, args.min_time)
        print(json.dumps(r) if args.json else
              f"{name:12s} {r['steps_per_s']:,.0f} steps/s, {r['ms_per_batch']:.1f} ms per batch ({r['steps']} x {r['batch']}), peak RSS {r['peak_rss_mb']:.0f} MB",
              flush=True)


if __name__ == "__main__":
    main()
