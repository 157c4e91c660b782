#!/usr/bin/env bash
# CI's check of `lm export`, `kws export` and `seq export` in onnxruntime (docs/DEPLOYING.md): tiny
# models of every cell (LEM, LSTM, GRU, LRU; one and two layers; tied and untied; a
# quantised one) trained for a few steps on data made here, exported, and compared with the tools
# by tools/reference/check_onnx_export.py (kws classify's and seq eval's probabilities and
# predictions within 1e-5, lm eval's perplexity within 1e-4 relative, streaming with the state in
# and out against whole sequences).
#
#   bash tools/onnx/check-exports.sh [BIN_DIR]
#
# onnxruntime comes from PyPI; where it cannot be installed the script says so and stops with
# success: the Swift tests (ONNXExportTests) check the graphs' structure and weights either way.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-$(swift build -c release --show-bin-path)}
if ! python3 -c "import onnxruntime, numpy" 2>/dev/null; then
  python3 -m pip install -q onnxruntime numpy >/dev/null 2>&1 || true
fi
if ! python3 -c "import onnxruntime, numpy" 2>/dev/null; then
  echo "check-exports: onnxruntime is not installable here: skipping the onnxruntime comparison (ONNXExportTests checked the graphs)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
# A tiny Speech Commands tree (3 words of tone patterns, 12 clips each, background noise) and a tiny text corpus.
import math, os, random, struct, sys, wave
root = sys.argv[1]
rng = random.Random(7)
def write(path, samples):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", max(-32767, min(32767, int(s * 32767)))) for s in samples))
words = {"up": (300, 900), "down": (900, 300), "go": (500, 500)}
valid, test = [], []
for word, (f0, f1) in words.items():
    for i in range(12):
        n = 16000 - rng.randrange(0, 3000)
        s = [0.4 * math.sin(2 * math.pi * (f0 + (f1 - f0) * t / n / 2) * t / 16000) + 0.02 * rng.uniform(-1, 1) for t in range(n)]
        name = f"{word}/speaker{i % 6}_nohash_{i}.wav"
        write(os.path.join(root, "speech", name), s)
        (valid if i % 6 == 4 else test if i % 6 == 5 else []).append(name)
write(os.path.join(root, "speech", "_background_noise_", "noise.wav"), [0.1 * rng.uniform(-1, 1) for _ in range(16000 * 5)])
open(os.path.join(root, "speech", "validation_list.txt"), "w").write("\n".join(valid) + "\n")
open(os.path.join(root, "speech", "testing_list.txt"), "w").write("\n".join(test) + "\n")
vocab = "the a cat dog sat ran on under mat log and".split()
for split, lines in (("train", 300), ("valid", 40), ("test", 40)):
    with open(os.path.join(root, f"ptb.{split}.txt"), "w") as f:
        for _ in range(lines):
            f.write(" " + " ".join(rng.choice(vocab) for _ in range(rng.randrange(3, 9))) + " \n")
# Sequences for seq: the class is the sign of the first of 20 steps of 2 values (the rest noise);
# the regression target is the sum of the first step's values.
import numpy as np
g = np.random.default_rng(3)
x = g.normal(0, 0.3, (60, 20, 2)).astype(np.float32)
first = g.choice([-1.0, 1.0], 60).astype(np.float32)
x[:, 0, 0] = first
np.savez(os.path.join(root, "seq-classes.npz"), x=x, y=(first > 0).astype(np.int64))
np.savez(os.path.join(root, "seq-targets.npz"), x=x, y=x[:, 0, :].sum(axis=1, keepdims=True))
PY

status=0
check() { python3 tools/reference/check_onnx_export.py "$@" || status=1; }
clips=$(find "$work/speech" -name '*.wav' -not -path '*_background_noise_*' | sort | head -20)
# Each spotter also goes out with the feature front end in the graph (--raw-audio): MFCC (constant
# padding, power spectrum, dB against 1, DCT) and the paper's log-mel (reflect padding, magnitude,
# dB against the clip maximum, per-clip z-score).
for spec in "lem 1 mfcc" "lstm 2 mfcc" "gru 1 mfcc" "lem 2 logmel" "lru 2 mfcc"; do
  set -- $spec
  ckpt="$work/kws-$1-$2.ckpt"
  "$bin/kws" train --data "$work/speech" --cell "$1" --layers "$2" --features "$3" --hidden 8 --epochs 2 --checkpoint "$ckpt" >/dev/null 2>"$work/train.err" \
    || { cat "$work/train.err" >&2; exit 1; }
  "$bin/kws" export --checkpoint "$ckpt" --onnx "$work/kws-$1-$2.onnx"
  check kws --kws "$bin/kws" --checkpoint "$ckpt" --onnx "$work/kws-$1-$2.onnx" $clips
  "$bin/kws" export --checkpoint "$ckpt" --onnx "$work/kws-$1-$2-audio.onnx" --raw-audio
  check kws --kws "$bin/kws" --checkpoint "$ckpt" --onnx "$work/kws-$1-$2-audio.onnx" $clips
done
# A quantised checkpoint goes out with its dequantized weights: onnxruntime computes in float,
# the tool in int8 (activations rounded too), so the tolerance is that of int8 inference.
"$bin/kws" quantize --checkpoint "$work/kws-lem-1.ckpt" --output "$work/kws-lem-1.int8.ckpt" >/dev/null
"$bin/kws" export --checkpoint "$work/kws-lem-1.int8.ckpt" --onnx "$work/kws-int8.onnx"
check kws --kws "$bin/kws" --checkpoint "$work/kws-lem-1.int8.ckpt" --onnx "$work/kws-int8.onnx" --tolerance 0.02 $clips
for spec in "lem 1 --no-tied" "lem 2 --no-tied" "lstm 2 --no-tied" "gru 1 --tied" "lru 2 --tied"; do
  set -- $spec
  ckpt="$work/lm-$1-$2.ckpt"
  "$bin/lm" train --data "$work" --cell "$1" --layers "$2" $3 --hidden 16 --embedding 16 --epochs 1 --checkpoint "$ckpt" >/dev/null 2>"$work/train.err" \
    || { cat "$work/train.err" >&2; exit 1; }
  "$bin/lm" export --checkpoint "$ckpt" --onnx "$work/lm-$1-$2.onnx"
  check lm --lm "$bin/lm" --checkpoint "$ckpt" --onnx "$work/lm-$1-$2.onnx" --file "$work/ptb.test.txt"
done
"$bin/seq" make-data fhn --out "$work/fhn" --train 8 --valid 4 --test 4 --seed 5 >/dev/null
# (LRU blocks: an even width, and an odd one whose packed state has a 0 after the complex values.)
for spec in "lem 1 classes 8" "lstm 2 classes 8" "gru 1 classes 8" "lem 2 targets 8" "gru 1 fhn 8" "lru 2 classes 8" "lru 1 targets 7" "lru 1 fhn 6"; do
  set -- $spec
  ckpt="$work/seq-$1-$2-$3.ckpt"
  if [ "$3" = fhn ]; then data=("$work/fhn/train.npz" "$work/fhn/test.npz"); else data=("$work/seq-$3.npz" "$work/seq-$3.npz"); fi
  "$bin/seq" train --train "${data[0]}" --valid "${data[1]}" --cell "$1" --layers "$2" --hidden "$4" --epochs 2 --checkpoint "$ckpt" >/dev/null 2>"$work/train.err" \
    || { cat "$work/train.err" >&2; exit 1; }
  "$bin/seq" export --checkpoint "$ckpt" --onnx "$work/seq-$1-$2-$3.onnx" >/dev/null
  check seq --seq "$bin/seq" --checkpoint "$ckpt" --onnx "$work/seq-$1-$2-$3.onnx" --file "${data[1]}"
done
[ $status -eq 0 ] && echo "check-exports: every export agrees with its tool in onnxruntime" || echo "check-exports: some export disagrees (above)" >&2
exit $status
