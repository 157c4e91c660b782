#!/usr/bin/env bash
# onnxruntime against the tools on the same machine, in one run, interleaved (docs/DEPLOYING.md):
# one token of the paper's PTB word model (vocabulary 10,000, embedding 256 tied, hidden 256) and
# one 1 s clip of its Google12 model (80 log-mels × 126 frames, hidden 128), at batch 1.
#
#   bash tools/bench/onnx-vs-lem.sh OUT.jsonl [ROUNDS] [THREADS]
#
# Ours: `lm bench --config sample-word` (a token through embedding, LEM, decoder and sampling) and
# `kws bench --config classify` (a WAV through decoding, features and the model). onnxruntime:
# exports of models of the same shapes (trained a step on generated data: speed does not depend on
# the weights) timed by tools/onnx/time_onnx.py: the lm export per token, the kws export from
# features (model only) and with --raw-audio (front end + model). Each side gets THREADS threads
# (default 1: LEM_THREADS/OPENBLAS_NUM_THREADS for ours, intra_op_num_threads for onnxruntime).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: onnx-vs-lem.sh OUT.jsonl [ROUNDS] [THREADS]}
rounds=${2:-3}
threads=${3:-1}
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import math, os, random, struct, sys, wave
root = sys.argv[1]
rng = random.Random(3)
words = [f"w{i}" for i in range(9999)]          # + <eos>: a vocabulary of 10,000 as PTB's
for split, n in (("train", 2000), ("valid", 50), ("test", 50)):
    with open(os.path.join(root, f"ptb.{split}.txt"), "w") as f:
        if split == "train":
            for i in range(0, len(words), 20):
                f.write(" " + " ".join(words[i:i + 20]) + " \n")
        for _ in range(n):
            f.write(" " + " ".join(rng.choice(words) for _ in range(10)) + " \n")
def write(path, samples):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        w.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in samples))
for word, f0 in (("yes", 400), ("no", 1200)):
    for i in range(8):
        write(os.path.join(root, "speech", word, f"s{i}_nohash_0.wav"), [0.3 * math.sin(2 * math.pi * f0 * t / 16000) for t in range(16000)])
PY
"$bin/lm" train --data "$work" --hidden 256 --embedding 256 --tied --max-steps 1 --checkpoint "$work/word.ckpt" >/dev/null 2>&1
"$bin/lm" export --checkpoint "$work/word.ckpt" --onnx "$work/word.onnx" >/dev/null
"$bin/kws" train --data "$work/speech" --features logmel --hidden 128 --all-unknown --max-steps 1 --checkpoint "$work/g12.ckpt" >/dev/null 2>&1
"$bin/kws" export --checkpoint "$work/g12.ckpt" --onnx "$work/g12.onnx" >/dev/null
"$bin/kws" export --checkpoint "$work/g12.ckpt" --onnx "$work/g12-audio.onnx" --raw-audio >/dev/null
machine="$(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
for r in $(seq "$rounds"); do
  LEM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$bin/lm" bench --config sample-word --json 2>/dev/null \
    | python3 -c "import json,sys; [print(json.dumps({**json.loads(l), 'side': 'lem', 'round': $r, 'threads': $threads, 'machine': '''$machine'''})) for l in sys.stdin]" >> "$out"
  python3 tools/onnx/time_onnx.py "$work/word.onnx" --threads "$threads" \
    | python3 -c "import json,sys; [print(json.dumps({**json.loads(l), 'side': 'onnxruntime', 'what': 'token', 'round': $r, 'machine': '''$machine'''})) for l in sys.stdin]" >> "$out"
  LEM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$bin/kws" bench --config classify --json 2>/dev/null \
    | python3 -c "import json,sys; [print(json.dumps({**json.loads(l), 'side': 'lem', 'round': $r, 'threads': $threads, 'machine': '''$machine'''})) for l in sys.stdin]" >> "$out"
  for m in g12 g12-audio; do
    python3 tools/onnx/time_onnx.py "$work/$m.onnx" --threads "$threads" \
      | python3 -c "import json,sys; [print(json.dumps({**json.loads(l), 'side': 'onnxruntime', 'what': 'clip', 'round': $r, 'machine': '''$machine'''})) for l in sys.stdin]" >> "$out"
  done
done
"$bin/kws" bench --config sgemm --json 2>/dev/null | python3 -c "import json,sys; [print(json.dumps({**json.loads(l), 'side': 'sgemm', 'machine': '''$machine'''})) for l in sys.stdin]" >> "$out"
echo "onnx-vs-lem: $(wc -l < "$out") rows in $out"
