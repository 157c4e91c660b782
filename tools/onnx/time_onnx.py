#!/usr/bin/env python3
"""onnxruntime's latency of one call of an exported model at batch 1 (docs/DEPLOYING.md): one token
of an `lm export`, one clip of a `kws export` (features, or raw audio with --raw-audio), zero
states, median over --repeats calls after a warm-up, on --threads intra-op threads.

    python3 tools/onnx/time_onnx.py ptb-word.onnx --threads 1
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("model")
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--repeats", type=int, default=500)
parser.add_argument("--frames", type=int, default=0, help="frames of a features model's clip (default: its metadata's)")
args = parser.parse_args()
options = ort.SessionOptions()
options.intra_op_num_threads = args.threads
options.inter_op_num_threads = 1
sess = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
meta = sess.get_modelmeta().custom_metadata_map
rng = np.random.default_rng(1)
feeds = {}
for i in sess.get_inputs():
    if i.name == "tokens":
        feeds[i.name] = np.array([[1]], np.int64)
    elif i.name == "features":
        frames = args.frames or int(meta["lem.frames_per_clip"])
        feeds[i.name] = rng.standard_normal((1, frames, i.shape[2])).astype(np.float32)
    elif i.name == "audio":
        feeds[i.name] = (0.1 * rng.standard_normal((1, i.shape[1]))).astype(np.float32)
    else:
        feeds[i.name] = np.zeros((i.shape[0], 1, i.shape[2]), np.float32)
for _ in range(10):
    sess.run(None, feeds)
times = []
for _ in range(args.repeats):
    t = time.perf_counter()
    sess.run(None, feeds)
    times.append(time.perf_counter() - t)
print(json.dumps({"model": args.model, "input": sess.get_inputs()[0].name, "cell": meta.get("lem.cell"),
                  "hidden": int(meta.get("lem.hidden_size", 0)), "threads": args.threads, "repeats": args.repeats,
                  "median_ms": 1e3 * float(np.median(times)), "onnxruntime": ort.__version__}))
