#!/usr/bin/env bash
# Speed of two builds compared as the project compares speed: in one run, interleaved (old, new,
# old, new, …), so that drift on the machine falls on both. Rows: lm word and char training, kws
# training, lm word sampling in int8, and the machine's sgemm peak at the start.
#
#   tools/bench/interleaved.sh OLD_BIN_DIR NEW_BIN_DIR [ROUNDS] [SECONDS] > rounds.jsonl
#
# Prints one JSON object per row and round, with "build" (old/new) and "round" added, then a
# summary per row on standard error (median tokens/s or frames/s of each build and their ratio).
# Measure with OPENBLAS_CORETYPE unset (a user's machine has none): this script unsets it.
set -euo pipefail
old=$(cd "${1:?usage: interleaved.sh OLD_BIN_DIR NEW_BIN_DIR [ROUNDS] [SECONDS]}" && pwd)
new=$(cd "${2:?usage: interleaved.sh OLD_BIN_DIR NEW_BIN_DIR [ROUNDS] [SECONDS]}" && pwd)
rounds=${3:-3}
seconds=${4:-8}
unset OPENBLAS_CORETYPE
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$new/lm" bench --config sgemm --json | sed 's/^{/{"build":"new","round":0,/' | tee -a "$out"
rows=("lm --config word" "lm --config char" "kws --config kws" "lm --config sample-word --int8")
for round in $(seq 1 "$rounds"); do
  for row in "${rows[@]}"; do
    tool=${row%% *}; args=${row#* }
    for build in old new; do
      bin=$([ $build = old ] && echo "$old" || echo "$new")
      "$bin/$tool" bench $args --seconds "$seconds" --json | sed "s/^{/{\"build\":\"$build\",\"round\":$round,/" | tee -a "$out"
    done
  done
done
python3 - "$out" >&2 <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def speed(r):
    for k in ("tokens_per_s", "frames_per_s", "gflops"):
        if k in r: return k, r[k]
    return None, None
groups = {}
for r in rows:
    key, value = speed(r)
    if value is None or r["round"] == 0: continue
    name = r.get("config", "?") + (" int8" if r.get("precision") == "int8" else "")
    groups.setdefault((name, key), {}).setdefault(r["build"], []).append(value)
for (name, key), builds in groups.items():
    o, n = statistics.median(builds.get("old", [0])), statistics.median(builds.get("new", [0]))
    print(f"{name:18s} {key:13s} old {o:12.1f}  new {n:12.1f}  new/old {n / o if o else float('nan'):.3f}  "
          f"(rounds old {builds.get('old')}, new {builds.get('new')})")
PY
