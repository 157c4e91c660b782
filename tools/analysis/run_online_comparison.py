#!/usr/bin/env python3
"""The online-learning comparison of the cells (docs/ONLINE.md): runs `seq online` on the
synthetic streams of `seq make-data` and writes every run's raw output to
docs/online/logs/online.jsonl (a provenance line, then one record per run: the command, the
reports as [step, mse, persistence_mse] over each --report-every steps, and the summary).

Protocol: for each stream kind and cell, the learning rate is chosen from a small grid on a
tuning stream (data seed 11, model seed 1) by the whole-stream prequential MSE; then three model
seeds run on an evaluation stream (data seed 12) with that rate. Every cell: hidden 32, one
layer, an update every 20 steps, clip 1.

    swift build -c release
    python3 tools/analysis/run_online_comparison.py
    python3 tools/analysis/run_online_comparison.py --labels

With --labels the streams are labelled (`make-data --labels`: each vector followed by the regime
that produced it; `seq online --classes`): the rate is chosen by the whole-stream prequential
accuracy, and the log is docs/online/logs/online-labels.jsonl with reports as [step, accuracy,
majority_accuracy].
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SEQ = os.path.join(ROOT, ".build", "release", "seq")
LABELS = "--labels" in sys.argv[1:]
OUT = os.path.join(ROOT, "docs", "online", "logs", "online-labels.jsonl" if LABELS else "online.jsonl")
STREAMS = {"linear": dict(steps=100_000, period=None), "switching": dict(steps=200_000, period=20_000),
           "fhn-drift": dict(steps=300_000, period=30_000)}
CLASSES = {"switching": 2, "fhn-drift": 3}     # labelled streams: the regimes
if LABELS:   # regimes switching ten times as often: how fast each cell notices a switch decides the figure
    STREAMS = {"switching": dict(steps=200_000, period=2_000), "fhn-drift": dict(steps=300_000, period=3_000)}
CELLS = ["lem", "lstm", "gru", "lru"]
RATES = ["1e-3", "3e-3", "1e-2", "3e-2"] if LABELS else ["3e-4", "1e-3", "3e-3", "1e-2"]
REPORT = 2000


def run(kind, cell, lr, data_seed, model_seed):
    s = STREAMS[kind]
    make = [SEQ, "make-data", kind, "--steps", str(s["steps"]), "--seed", str(data_seed), "--out", "-"]
    if s["period"]:
        make += ["--period", str(s["period"])]
    online = [SEQ, "online", "-", "--cell", cell, "--hidden", "32", "--lr", lr, "--window", "20", "--seed", str(model_seed),
              "--report-every", str(REPORT), "--json"]
    if LABELS:
        make.append("--labels")
        online += ["--classes", str(CLASSES[kind])]
    producer = subprocess.Popen(make, stdout=subprocess.PIPE)
    result = subprocess.run(online, stdin=producer.stdout, capture_output=True, text=True)
    producer.stdout.close()
    producer.wait()
    if result.returncode != 0:
        sys.exit(f"{' '.join(online)}: {result.stderr}")
    lines = [json.loads(l) for l in result.stdout.splitlines()]
    keys = ("accuracy", "majority_accuracy") if LABELS else ("mse", "persistence_mse")
    reports = [[r["step"], r[keys[0]], r[keys[1]]] for r in lines if r["event"] == "report"]
    summary = lines[-1]
    return {"record": "run", "stream": kind, "cell": cell, "lr": float(lr), "data_seed": data_seed, "model_seed": model_seed,
            "period": s["period"], "command": " ".join(os.path.relpath(c, ROOT) if c == SEQ else c for c in make) + " | "
            + " ".join(os.path.relpath(c, ROOT) if c == SEQ else c for c in online), "reports": reports, "summary": summary}


def score(r):
    return f"accuracy {r['summary']['accuracy']:.4f}" if LABELS else f"MSE {r['summary']['mse']:.5g}"


def main():
    machine = subprocess.run(["bash", "-c", "lscpu | grep 'Model name' | sed 's/.*: *//'"], capture_output=True, text=True).stdout.strip()
    compacted = "[step, accuracy, majority_accuracy]" if LABELS else "[step, mse, persistence_mse]"
    records = [{"record": "provenance", "source": f"tools/analysis/run_online_comparison.py (raw seq online --json output, reports compacted to {compacted})",
                "command": "python3 tools/analysis/run_online_comparison.py" + (" --labels" if LABELS else ""), "machine": f"{machine}, 2 cores (other jobs running on the machine: speeds are not figures)",
                "sgemm_peak_gflops": 209.2, "date": time.strftime("%Y-%m-%d")}]
    for kind in STREAMS:
        for cell in CELLS:
            tuning = [run(kind, cell, lr, 11, 1) for lr in RATES]
            for r in tuning:
                r["phase"] = "tuning"
                print(f"tuning {kind} {cell} lr {r['lr']}: {score(r)}", flush=True)
            records += tuning
            best = (max(tuning, key=lambda r: r["summary"]["accuracy"]) if LABELS else min(tuning, key=lambda r: r["summary"]["mse"]))["lr"]
            for seed in (1, 2, 3):
                r = run(kind, cell, f"{best:g}", 12, seed)
                r["phase"] = "evaluation"
                print(f"evaluation {kind} {cell} lr {best:g} seed {seed}: {score(r)}", flush=True)
                records.append(r)
    with open(OUT + ".partial", "w") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    os.replace(OUT + ".partial", OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
