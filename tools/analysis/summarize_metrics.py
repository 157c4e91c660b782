#!/usr/bin/env python3
"""One JSON line per training run, from its metrics log (<checkpoint>.metrics.jsonl, as `seq`,
`lm`, `kws` and `adding` write it, or train_seq_pytorch.py's --json output): the figures a docs
table quotes, so that many runs (seeds) are committed as one small log instead of their full
curves.

    python3 tools/analysis/summarize_metrics.py --lower-is-better seed=1:fhn-s1.ckpt.metrics.jsonl seed=2:...

Each output line: {"record": "figure", "what": "run", <label fields>, "log": file name,
"epochs": validations, "best": best validation metric, "best_epoch", "train_seconds": training
time at the last record, "test": the test record's metric (the run's own, at the best
checkpoint), "test_at_best": train_seq_pytorch.py's test fields at its best validation}.
"""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", help="LABELS:PATH, LABELS = key=value[,key=value]")
    ap.add_argument("--lower-is-better", action="store_true")
    args = ap.parse_args()
    for spec in args.runs:
        labels, path = spec.split(":", 1)
        fields = dict(kv.split("=", 1) for kv in labels.split(",") if kv)
        for k, v in fields.items():
            try:
                fields[k] = int(v)
            except ValueError:
                pass
        rows = [json.loads(l) for l in open(path) if l.strip()]
        valid = [r for r in rows if r.get("event") == "valid"]
        pick = min if args.lower_is_better else max
        best = pick(valid, key=lambda r: r["metric"])
        tests = [r for r in rows if r.get("event") == "test"]
        out = {"record": "figure", "what": "run", **fields, "log": os.path.basename(path), "epochs": len(valid),
               "best": best["metric"], "best_epoch": best["epoch"], "train_seconds": max(r.get("elapsed_s", 0) for r in rows)}
        if tests:
            t = tests[-1]
            out["test"] = t.get("rmse", t.get("accuracy"))
            out["test_count"] = t.get("count")
        at_best = [r for r in valid if "test_rmse" in r]
        if at_best:
            out["test_at_best"] = {"rmse": at_best[-1]["test_rmse"], "rmse_last_batch_of_128": at_best[-1]["test_rmse_last_batch_of_128"],
                                   "epoch": at_best[-1]["epoch"]}
        print(json.dumps(out))


if __name__ == "__main__":
    main()
