#!/usr/bin/env bash
# seq bench against the authors' PyTorch LEM at each paper task's shape, one thread each,
# interleaved (ours, theirs, ours, theirs, ...) so that drift hits both alike. JSON lines on stdout,
# one per measurement, each with "round" and "impl".
#   tools/bench/seq-vs-pytorch.sh [SEQ_BINARY] [ROUNDS] [SECONDS] > seq-vs-pytorch.jsonl
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seq=${1:-$here/.build/release/seq}
rounds=${2:-2}
seconds=${3:-8}
unset OPENBLAS_CORETYPE
for round in $(seq 1 "$rounds"); do
  for config in smnist ncifar eigenworms heart-rate fhn; do
    LEM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c 0 "$seq" bench --config "$config" --seconds "$seconds" --json \
      | python3 -c 'import json,sys; [print(json.dumps({**json.loads(l), "impl": "lem", "round": int(sys.argv[1])})) for l in sys.stdin if l.strip()]' "$round"
    taskset -c 0 python3 "$here/tools/reference/bench_pytorch_seq.py" --only "$config" --threads 1 --min-time "$seconds" --json \
      | python3 -c 'import json,sys; [print(json.dumps({**json.loads(l), "round": int(sys.argv[1])})) for l in sys.stdin if l.strip()]' "$round"
  done
done
