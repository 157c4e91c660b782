#!/usr/bin/env python3
"""The cells compared on one `seq` task the way issue 27 asks: the learning rate chosen per cell
on a small grid by validation (one tuning seed), then several other seeds at the chosen rate,
every run the same wall-clock budget on one pinned core with one thread, and the ranking read at
several fractions of the budget to show whether it still changes.

    python3 tools/analysis/run_cell_comparison.py --task fhn --minutes 1 \\
        --cell lem:16 --cell lstm:16 --cell gru:19 --cell lru:16 \\
        --lr 0.003 --lr 0.009 --lr 0.027 --seeds 2 3 4 --cores 0 1 --out fhn-cells.jsonl

Each `--cell NAME:HIDDEN` gives the hidden size (choose them for equal parameter counts; each
run's count is recorded). The output is JSON lines: a provenance record (commands, machine),
one "run" record per training run (phase "tune" or "seed": cell, hidden, parameters, lr, seed,
the best validation figure and its epoch, the test figure at the best checkpoint, the best
validation figure reached by 25, 50 and 75 % of the budget, epochs and training seconds) and one
"choice" record per cell (the grid's figures and the rate chosen). Lower is better for
regression (RMSE), higher for classification (accuracy): the task's `seq` log says which.
`--tool kws` compares keyword spotters the same way (`kws train --data D --preset google12`
with the cell and rate, plus `--tool-args`; the test figure is `kws eval --split test`'s clip
accuracy of the best checkpoint):

    python3 tools/analysis/run_cell_comparison.py --tool kws --task google12 --data speech_commands_dev \
        --cell lem:128 --cell lstm:128 --cell gru:152 --cell lru:152 --lr 0.0003 --lr 0.00089 --lr 0.0027 \
        --minutes 3 --cores 0 1 --out google12-cells.jsonl

`--tool lm` compares language models (`lm train --data D --level TASK` with a tied embedding of
the hidden size, plus `--tool-args`; the test figure is the perplexity `lm train` reports for its
best checkpoint); `--tune-minutes` gives the tuning runs a shorter budget when runs are long:

    python3 tools/analysis/run_cell_comparison.py --tool lm --task word --data ptb \
        --cell lem:256 --cell lstm:256 --cell gru:264 --cell lru:278 --lr 0.00067 --lr 0.002 --lr 0.006 \
        --tool-args "--tied --batch 20 --bptt 70 --clip 1 --dropout 0.4" --tune-minutes 6.5 --minutes 13 \
        --cores 0 1 --out ptb-word-cells.jsonl

`--tool adding` compares cells on the adding problem (`adding train` with `--tool-args "--length
2000"`; the test figure is the test MSE at the best validation). It needs `adding train`'s own
validation set (`--valid-size`, on branch wip-adding-validation until it is built and merged):
without it the runs would choose on the test sequences.

Runs go two at a time with `--cores 0 1`; the per-run metrics logs stay in --work, and `--reuse`
keeps the finished ones of the same budget (an interrupted comparison goes on). A run whose loss
diverges is recorded with its best validation before it did (`"diverged": true`, no test figure)
and its rate is not chosen.
"""
import argparse
import json
import os
import platform
import queue
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parameter_count(ckpt):
    """The model's parameter count from a checkpoint's safetensors header (every tensor's size)."""
    with open(ckpt, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    total = 0
    for name, t in header.items():
        if name != "__metadata__":
            size = 1
            for d in t["shape"]:
                size *= d
            total += size
    return total


def test_records(ckpt):
    """A finished run's test records: `seq train`'s in its metrics log, or the `kws eval` kept beside it."""
    records = [json.loads(line) for line in open(ckpt + ".metrics.jsonl") if line.strip()]
    tests = [r for r in records if r.get("event") == "test"]
    for r in tests:
        if "tokens" in r and "perplexity" not in r:   # `lm train`'s test record: its metric is the perplexity
            r["perplexity"] = r["metric"]
    if not tests and os.path.exists(ckpt + ".test.json"):
        e = json.load(open(ckpt + ".test.json"))
        tests = [{"event": "test", "accuracy": e["accuracy"], "count": e.get("count", e.get("clips"))}]
    return records, tests


def finished(ckpt):
    """Whether a run's files are those of a finished run (its test record, or its divergence noted)."""
    try:
        return bool(test_records(ckpt)[1]) or os.path.exists(ckpt + ".diverged")
    except (OSError, ValueError):
        return False


def run_one(args, job, core):
    cell, hidden, lr, seed, phase = job
    minutes = args.tune_minutes if phase == "tune" and args.tune_minutes else args.minutes
    name = f"{args.task}-{cell}-h{hidden}-lr{lr:g}-s{seed}-{minutes:g}min"
    ckpt = os.path.join(args.work, name + ".ckpt")
    reused = args.reuse and finished(ckpt)
    if not reused:
        for suffix in ("", ".resume", ".metrics.jsonl", ".diverged", ".test.json"):
            if os.path.exists(ckpt + suffix):
                os.remove(ckpt + suffix)
    common = ["--cell", cell, "--hidden", str(hidden), "--lr", f"{lr:g}", "--seed", str(seed), "--max-minutes", f"{minutes:g}",
              "--checkpoint", ckpt] + (["--steps", "100000000"] if args.tool == "adding" else ["--epochs", "1000000"])
    if args.tool == "adding":
        # The task's length and other settings come in --tool-args (e.g. "--length 2000").
        command = ["taskset", "-c", str(core), args.adding, "train"] + common + args.tool_args.split()
    elif args.tool == "kws":
        command = ["taskset", "-c", str(core), args.kws, "train", "--data", args.data, "--preset", args.task] + common + args.tool_args.split()
    elif args.tool == "lm":
        # Tied embedding of the hidden size (the task names the corpus level: word or char).
        command = ["taskset", "-c", str(core), args.lm, "train", "--data", args.data, "--level", args.task] + common \
            + ["--embedding", str(hidden)] + args.tool_args.split()
    else:
        command = ["taskset", "-c", str(core), args.seq, "train", "--task", args.task] + common \
            + (["--data", args.data] if args.data else []) + args.tool_args.split()
    env = dict(os.environ, LEM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("OPENBLAS_CORETYPE", None)
    if not reused:
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            # A diverged run is a result (its best validation before it diverged), not a failure.
            if "the training loss became" not in done.stderr and "validation gave" not in done.stderr:
                raise SystemExit(f"{name}: {args.tool} train failed ({done.returncode}):\n{done.stderr[-2000:]}")
            open(ckpt + ".diverged", "w").write(done.stderr[-2000:])
        elif args.tool == "kws":
            # The test split's clip accuracy of the best checkpoint (kws train does not test).
            evaluated = subprocess.run(["taskset", "-c", str(core), args.kws, "eval", "--checkpoint", ckpt, "--data", args.data, "--split", "test", "--json"],
                                       env=env, capture_output=True, text=True)
            if evaluated.returncode != 0:
                raise SystemExit(f"{name}: kws eval failed ({evaluated.returncode}):\n{evaluated.stderr[-2000:]}")
            open(ckpt + ".test.json", "w").write(evaluated.stdout)
    diverged = os.path.exists(ckpt + ".diverged")
    records, test = test_records(ckpt)
    valid = [r for r in records if r.get("event") == "valid" and isinstance(r.get("metric"), (int, float))]
    # The direction: from the test record when there is one (regression reports its RMSE,
    # classification its accuracy), else from --higher-is-better.
    key = next((k for k in ("rmse", "mse", "perplexity") if k in test[-1]), "accuracy") if test \
        else ("accuracy" if args.higher_is_better else {"lm": "perplexity", "adding": "mse"}.get(args.tool, "rmse"))
    lower = key != "accuracy"
    base = {"record": "run", "phase": phase, "task": args.task, "cell": cell, "hidden": hidden,
            "parameters": parameter_count(ckpt) if os.path.exists(ckpt) else None, "lr": lr, "seed": seed, "diverged": diverged,
            "budget_minutes": minutes, "metric": key, "lower_is_better": lower, "log": os.path.basename(ckpt) + ".metrics.jsonl",
            "command": " ".join(["LEM_THREADS=1", "OPENBLAS_NUM_THREADS=1"] + command[:3] + [args.tool] + command[4:])}
    if not valid:   # diverged before its first validation
        return {**base, "best_valid": None, "best_epoch": None, "best_valid_by_25pct": None, "best_valid_by_50pct": None,
                "best_valid_by_75pct": None, "test": None, "test_count": None, "epochs": 0, "train_seconds": None}
    best_of = (lambda rows: min(rows, key=lambda r: r["metric"])) if lower else (lambda rows: max(rows, key=lambda r: r["metric"]))
    best = best_of(valid)
    budget = minutes * 60
    marks = {}
    for fraction in (0.25, 0.5, 0.75):
        by = [r for r in valid if r["elapsed_s"] <= fraction * budget]
        marks[f"best_valid_by_{int(fraction * 100)}pct"] = best_of(by)["metric"] if by else None
    # Training throughput (tokens, sequences or clips per second): the median of the log's
    # progress records, so that one slow moment does not move it.
    speeds = sorted(r["units_per_s"] for r in records if r.get("event") == "train" and isinstance(r.get("units_per_s"), (int, float)))
    return {**base, "best_valid": best["metric"], "best_epoch": best["epoch"], **marks,
            "train_units_per_s": speeds[len(speeds) // 2] if speeds else None,
            "test": test[-1][key] if test else None, "test_count": test[-1].get("count") if test else None,
            "epochs": valid[-1]["epoch"], "train_seconds": valid[-1]["elapsed_s"]}


def run_all(args, jobs):
    """Runs `jobs` on the cores, one at a time per core; returns their records in job order."""
    work = queue.Queue()
    for i, job in enumerate(jobs):
        work.put((i, job))
    results = [None] * len(jobs)
    errors = []

    def worker(core):
        while True:
            try:
                i, job = work.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = run_one(args, job, core)
                r = results[i]
                print(f"{r['phase']} {r['cell']} lr {r['lr']:g} seed {r['seed']}: best valid {r['best_valid']} "
                      f"(epoch {r['best_epoch']}), test {r['test']}{' (diverged)' if r['diverged'] else ''}", file=sys.stderr, flush=True)
            except BaseException as e:   # noqa: BLE001 - reported after the others finish
                errors.append(e)

    threads = [threading.Thread(target=worker, args=(c,)) for c in args.cores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tool", choices=["seq", "kws", "lm", "adding"], default="seq",
                    help="seq tasks, keyword spotting (--task is then kws's --preset), language models (--task word or char) "
                         "or the adding problem (--task names the runs; --tool-args gives --length)")
    ap.add_argument("--task", required=True)
    ap.add_argument("--tool-args", default="", help="more flags for every training run (one string)")
    ap.add_argument("--data", help="the task's data folder (not needed for fhn)")
    ap.add_argument("--cell", action="append", required=True, help="NAME:HIDDEN, e.g. lem:16")
    ap.add_argument("--lr", action="append", type=float, required=True, help="a learning rate of the grid (repeat)")
    ap.add_argument("--tune-seed", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--minutes", type=float, default=1)
    ap.add_argument("--tune-minutes", type=float,
                    help="a shorter budget for the tuning runs (default: --minutes), for tasks whose runs are long")
    ap.add_argument("--cores", type=int, nargs="+", default=[0])
    ap.add_argument("--seq", default=os.path.join(ROOT, ".build", "release", "seq"))
    ap.add_argument("--kws", default=os.path.join(ROOT, ".build", "release", "kws"))
    ap.add_argument("--lm", default=os.path.join(ROOT, ".build", "release", "lm"))
    ap.add_argument("--adding", default=os.path.join(ROOT, ".build", "release", "adding"))
    ap.add_argument("--work", default="cell-comparison-runs")
    ap.add_argument("--out", required=True)
    ap.add_argument("--higher-is-better", action="store_true",
                    help="the validation metric is an accuracy (only needed when a run has no test record to say so)")
    ap.add_argument("--reuse", action="store_true", help="keep the finished runs already in --work (an interrupted comparison goes on)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cells = [(c.split(":")[0], int(c.split(":")[1])) for c in args.cell]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), platform.machine())
    out = open(args.out, "w")
    sgemm = subprocess.run(["taskset", "-c", str(args.cores[0]), {"seq": args.seq, "kws": args.kws, "lm": args.lm, "adding": args.seq}[args.tool], "bench", "--config", "sgemm", "--json"],
                           env={k: v for k, v in dict(os.environ, LEM_THREADS="1", OPENBLAS_NUM_THREADS="1").items() if k != "OPENBLAS_CORETYPE"},
                           capture_output=True, text=True)
    peak = json.loads(sgemm.stdout.splitlines()[0])["gflops"] if sgemm.returncode == 0 and sgemm.stdout.strip() else None
    out.write(json.dumps({"record": "provenance", "date": started, "source": "tools/analysis/run_cell_comparison.py, its output as written",
                          "sgemm_peak_gflops": {"values": [peak], "command": f"{args.tool} bench --config sgemm --json, one thread, before the runs"}, "command": " ".join(["python3", "tools/analysis/run_cell_comparison.py"] + sys.argv[1:]),
                          "machine": f"{os.cpu_count()} cores, {cpu}; one thread per run, pinned (taskset), OPENBLAS_CORETYPE unset",
                          "protocol": "learning rate chosen per cell on the grid by the tuning seed's best validation figure (a rate whose run diverged is not chosen); "
                                      "then the other seeds at that rate; every run of a phase the same training-time budget",
                          "budget_minutes": {"tune": args.tune_minutes or args.minutes, "seed": args.minutes}}) + "\n")
    tune = run_all(args, [(c, h, lr, args.tune_seed, "tune") for c, h in cells for lr in args.lr])
    for r in tune:
        out.write(json.dumps(r) + "\n")
    chosen = {}
    for c, h in cells:
        rows = [r for r in tune if (r["cell"], r["hidden"]) == (c, h)]
        scored = [r for r in rows if r["best_valid"] is not None]
        stable = [r for r in scored if not r["diverged"]] or scored      # a rate that diverged is not chosen
        if not stable:
            raise SystemExit(f"{c} (hidden {h}): every rate of the grid diverged before its first validation")
        best = (min if stable[0]["lower_is_better"] else max)(stable, key=lambda r: r["best_valid"])
        chosen[(c, h)] = best["lr"]
        out.write(json.dumps({"record": "choice", "cell": c, "hidden": h, "grid": {f"{r['lr']:g}": r["best_valid"] for r in rows},
                              "diverged": [r["lr"] for r in rows if r["diverged"]],
                              "lr": best["lr"]}) + "\n")
    out.flush()
    for r in run_all(args, [(c, h, chosen[(c, h)], s, "seed") for c, h in cells for s in args.seeds]):
        out.write(json.dumps(r) + "\n")
    out.close()


if __name__ == "__main__":
    main()
