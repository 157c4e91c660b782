#!/usr/bin/env bash
# seq bench of every cell (LEM, LSTM, GRU, LRU) at the paper tasks' shapes, one thread each,
# interleaved (lem, lstm, gru, lru, then the next shape; then the next round) so that drift hits
# all alike. JSON lines on stdout, one per measurement, each with "round".
#   tools/bench/seq-cells.sh [SEQ_BINARY] [ROUNDS] [SECONDS] > seq-cells.jsonl     (CORE=n pins to core n, default 0)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seq=${1:-$here/.build/release/seq}
rounds=${2:-2}
seconds=${3:-4}
unset OPENBLAS_CORETYPE
LEM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c "${CORE:-0}" "$seq" bench --config sgemm --json \
  | python3 -c 'import json,sys; [print(json.dumps({**json.loads(l), "round": 0})) for l in sys.stdin if l.strip()]'
for round in $(seq 1 "$rounds"); do
  for config in smnist eigenworms fhn; do
    for cell in lem lstm gru lru; do
      LEM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c "${CORE:-0}" "$seq" bench --config "$config" --cell "$cell" --seconds "$seconds" --json \
        | python3 -c 'import json,sys; [print(json.dumps({**json.loads(l), "round": int(sys.argv[1])})) for l in sys.stdin if l.strip()]' "$round"
    done
  done
done
