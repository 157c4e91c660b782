#!/usr/bin/env bash
# Refactoring check: trains the same short runs with two builds of the tools and compares the
# checkpoints byte for byte (same seed, same thread count). A refactor that changes no arithmetic
# writes identical files (resume files: identical but for the recorded training seconds); any difference is printed with the file that differs.
#
#   tools/analysis/same-checkpoints.sh OLD_BIN_DIR NEW_BIN_DIR [DATA_ROOT]
#
# DATA_ROOT holds ptb_dev/ and speech_commands_dev/ (default ../shared/data, the development copies).
set -euo pipefail
old=${1:?usage: same-checkpoints.sh OLD_BIN_DIR NEW_BIN_DIR [DATA_ROOT]}
new=${2:?usage: same-checkpoints.sh OLD_BIN_DIR NEW_BIN_DIR [DATA_ROOT]}
data=$(cd "${3:-../shared/data}" && pwd)
old=$(cd "$old" && pwd); new=$(cd "$new" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

runs=(
  "lm-word-lem|lm train --data $data/ptb_dev --hidden 64 --embedding 64 --batch 8 --bptt 20 --max-steps 12 --eval-streams 4"
  "lm-word-lamb|lm train --data $data/ptb_dev --preset ptb-word --hidden 64 --embedding 64 --batch 8 --bptt 20 --max-steps 12"
  "lm-char-lstm2|lm train --data $data/ptb_dev --level char --cell lstm --layers 2 --hidden 48 --batch 8 --bptt 30 --max-steps 12"
  "lm-word-gru|lm train --data $data/ptb_dev --cell gru --hidden 64 --embedding 64 --batch 8 --bptt 20 --max-steps 12 --eval-streams 4"
  "kws-lem|kws train --data $data/speech_commands_dev --hidden 32 --batch 20 --max-steps 8"
  "kws-gru2|kws train --data $data/speech_commands_dev --cell gru --layers 2 --hidden 32 --batch 20 --max-steps 8"
  # hidden 512 and 32 streams per replica on two workers: the per-step products on packed weights (oneDNN)
  "lm-char-lem512|lm train --data $data/ptb_dev --level char --hidden 512 --embedding 32 --batch 64 --bptt 20 --max-steps 3"
  "adding-lem|adding train --cell lem --length 50 --steps 20 --eval-every 10 --test-size 20"
)
status=0
for run in "${runs[@]}"; do
  name=${run%%|*}; cmd=${run#*|}
  tool=${cmd%% *}; args=${cmd#* }
  for side in old new; do
    dir="$work/$side/$name"; mkdir -p "$dir"
    bin=$([ $side = old ] && echo "$old" || echo "$new")
    if [ "$tool" = adding ]; then
      # adding keeps no checkpoint: its curve without the minutes column is what must agree.
      # (run in its folder: a build that keeps checkpoints writes adding.ckpt there)
      (cd "$dir" && LEM_THREADS=2 "$bin/$tool" $args --csv curve.csv >out.txt 2>err.txt \
        && cut -d, -f1,3 curve.csv >curve.ckpt) || { echo "$name ($side) failed:"; tail -3 "$dir/err.txt"; status=1; }
    else
      (LEM_THREADS=2 "$bin/$tool" $args --checkpoint "$dir/run.ckpt" >"$dir/out.txt" 2>"$dir/err.txt") || { echo "$name ($side) failed:"; tail -3 "$dir/err.txt"; status=1; }
    fi
  done
  # What the checkpoints compute, float and int8: a sample (lm) or the probabilities of clips (kws).
  for side in old new; do
    dir="$work/$side/$name"; bin=$([ $side = old ] && echo "$old" || echo "$new")
    [ -f "$dir/run.ckpt" ] || continue
    case $tool in
      lm) for p in "" --int8; do "$bin/lm" sample --checkpoint "$dir/run.ckpt" --length 30 --seed 3 $p >>"$dir/outputs.ckpt" 2>&1; done ;;
      kws) all=("$data"/speech_commands_dev/yes/*.wav)
           for p in "" --int8; do "$bin/kws" classify --checkpoint "$dir/run.ckpt" --top 3 $p "${all[@]:0:3}" >>"$dir/outputs.ckpt" 2>&1; done ;;
    esac
  done
  for f in $(cd "$work/old/$name" && ls *.ckpt *.resume 2>/dev/null); do
    if python3 "$(dirname "$0")/same_tensors.py" "$work/old/$name/$f" "$work/new/$name/$f"; then echo "same   $name/$f"
    else echo "DIFFER $name/$f"; status=1; fi
  done
done
exit $status
