#!/usr/bin/env python3
"""Parity fixtures of openWakeWord 0.5.1's front end for Tests/AudioTests (SpeechEmbeddingTests).

    pip install openwakeword==0.5.1 onnxruntime numpy
    python3 tools/reference/openwakeword/make_fixtures.py

For three 2 s signals (white int16 noise of seed 0, a 1 kHz sine, a quiet-then-loud burst), runs
the wheel's melspectrogram.onnx and embedding_model.onnx in onnxruntime (1 thread) as
openWakeWord's AudioFeatures does for a whole clip: one mel call over all samples (its top_db
clamp over that call), `x/10 + 2`, then the embedding of every 76-frame window at a stride of
8 frames. Also one call on a 1,760-sample chunk (the streaming call). Writes one safetensors
file: <name>.audio [32000] (the int16 values as float32), <name>.mel [T, 32], <name>.embeddings
[N, 96].
"""
import os
import sys

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_file import write_safetensors  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
OUT = os.path.join(ROOT, "Tests", "AudioTests", "Fixtures", "openwakeword-frontend.safetensors")


def session(path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    import openwakeword
    models = os.path.join(os.path.dirname(openwakeword.__file__), "resources", "models")
    mel = session(os.path.join(models, "melspectrogram.onnx"))
    emb = session(os.path.join(models, "embedding_model.onnx"))
    rng = np.random.default_rng(0)
    t = np.arange(32000) / 16000
    signals = {
        "noise": rng.integers(-1000, 1000, 32000).astype(np.int16),
        "sine": np.round(8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16),
        "burst": np.concatenate([np.round(30 * rng.standard_normal(16000)), np.round(6000 * rng.standard_normal(16000))]).clip(-32768, 32767).astype(np.int16),
    }
    tensors = {}
    for name, audio in signals.items():
        x = audio.astype(np.float32)[None]
        spec = mel.run(None, {"input": x})[0][0, 0] / 10 + 2                      # [T, 32]
        windows = np.stack([spec[i:i + 76] for i in range(0, spec.shape[0] - 75, 8)])[..., None].astype(np.float32)
        embeddings = emb.run(None, {"input_1": windows})[0].reshape(len(windows), 96)
        tensors[f"{name}.audio"] = x[0]
        tensors[f"{name}.mel"] = spec.astype(np.float32)
        tensors[f"{name}.embeddings"] = embeddings.astype(np.float32)
    chunk = signals["burst"][16000 - 880:16000 + 880].astype(np.float32)[None]  # a streaming call: 1,760 samples across the step
    tensors["chunk.audio"] = chunk[0]
    tensors["chunk.mel"] = (mel.run(None, {"input": chunk})[0][0, 0] / 10 + 2).astype(np.float32)
    write_safetensors(OUT, tensors, {"source": "tools/reference/openwakeword/make_fixtures.py", "openwakeword": "0.5.1", "onnxruntime": ort.__version__})
    print(f"{OUT}: {', '.join(f'{k} {list(v.shape)}' for k, v in sorted(tensors.items()))}")


if __name__ == "__main__":
    main()
