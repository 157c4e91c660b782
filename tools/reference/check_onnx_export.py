#!/usr/bin/env python3
"""Checks an ONNX export of `lm`, `kws` or `seq` in onnxruntime against the tool itself
(docs/DEPLOYING.md).

kws: `kws classify --json --top <all> --save-features F.npy CLIPS` gives the tool's probabilities
and the features it computed; onnxruntime runs the exported model on those features (all clips
as one batch from zero states) and the largest difference of any probability is printed. Then
streaming: each clip fed a few frames at a time, the state passed from call to call, against the
whole clip at once. An export made with `kws export --raw-audio` gets the clips themselves
(16-bit mono WAVs at the model's rate, read here as kws reads them).

lm: `lm eval --json --logit-scale 1 --file TEXT` gives the tool's perplexity; onnxruntime runs
the exported model over the same tokens (the metadata's tokenisation and vocabulary) as one
stream from a zero state, in windows with the state carried, and the relative difference of the
perplexities is printed. Then streaming: the first tokens one at a time against one window.

seq: `seq eval --predictions --file DATA.npz` gives the tool's class probabilities (a classifier)
or predictions (a regressor) per sequence; onnxruntime runs the exported model on the file's `x`
as one batch from zero states, and the largest difference is printed. Then streaming: the
sequences fed a few steps at a time with the state carried, against the whole sequences.

Each prints one JSON object with the figures (and --time adds onnxruntime's latency of one clip /
one token at batch 1, one thread) and exit 1 when a tolerance is exceeded.

    python3 tools/reference/check_onnx_export.py kws --kws .build/release/kws \\
        --checkpoint kws.ckpt --onnx kws.onnx clips/*.wav
    python3 tools/reference/check_onnx_export.py lm --lm .build/release/lm \\
        --checkpoint ptb.ckpt --onnx ptb.onnx --file ptb/ptb.test.txt
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import wave

import numpy as np
import onnxruntime as ort


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def metadata(sess):
    return sess.get_modelmeta().custom_metadata_map


def zero_state(sess, batch):
    """Zeros for every state input of the model ([layers, batch, hidden])."""
    state = {}
    for i in sess.get_inputs():
        if i.name.startswith("state_"):
            state[i.name] = np.zeros((i.shape[0], batch, i.shape[2]), np.float32)
    return state


def run(sess, feeds):
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def next_state(outputs):
    return {k[: -len("_out")]: v for k, v in outputs.items() if k.endswith("_out")}


def median_seconds(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def read_clip(path, length, rate):
    """A 16-bit mono WAV at the model's rate as kws reads it: int16 / 32768, zeros after it or cut."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1 or w.getframerate() != rate:
            raise SystemExit(f"check_onnx_export: {path}: a raw-audio check reads 16-bit mono WAV at the model's {rate} Hz only "
                             f"(this one: {8 * w.getsampwidth()}-bit, {w.getnchannels()} channel(s), {w.getframerate()} Hz)")
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float32) / 32768
    return np.pad(x, (0, max(0, length - len(x))))[:length]


def check_kws(args):
    sess = session(args.onnx, args.threads)
    meta = metadata(sess)
    labels = json.loads(meta["lem.labels"])
    raw = sess.get_inputs()[0].name == "audio"
    with tempfile.TemporaryDirectory() as tmp:
        features_path = os.path.join(tmp, "features.npy")
        out = subprocess.run([args.kws, "classify", "--checkpoint", args.checkpoint, "--json", "--top", str(len(labels)),
                              "--save-features", features_path] + args.files, check=True, capture_output=True, text=True).stdout
        features = np.load(features_path)
    tool = []
    for line in out.splitlines():
        row = json.loads(line)
        if "top" not in row:
            raise SystemExit(f"check_onnx_export: kws classify gave no probabilities for {row.get('file')}: {row}")
        p = {t["label"]: t["probability"] for t in row["top"]}
        tool.append([p[label] for label in labels])
    tool = np.array(tool, np.float64)
    assert tool.shape[0] == features.shape[0], (tool.shape, features.shape)

    if raw:
        # The front end in the graph: raw clips in, no state.
        audio = np.stack([read_clip(f, sess.get_inputs()[0].shape[1], int(meta["lem.sample_rate"])) for f in args.files])
        whole = run(sess, {"audio": audio})
        diff = float(np.abs(whole["probabilities"].astype(np.float64) - tool).max())
        agree = int((whole["probabilities"].argmax(1) == tool.argmax(1)).sum())
        result = {"kind": "kws", "input": "audio", "onnx": args.onnx, "clips": int(audio.shape[0]), "cell": meta.get("lem.cell"),
                  "layers": int(meta.get("lem.layers", 0)), "max_abs_diff_probabilities": diff, "same_top_label": agree,
                  "tolerance": args.tolerance}
        if args.time:
            one = {"audio": audio[:1]}
            result["onnxruntime_seconds_per_clip"] = median_seconds(lambda: sess.run(None, one), args.repeats)
            result["onnxruntime_threads"] = args.threads
        print(json.dumps(result))
        return diff <= args.tolerance

    whole = run(sess, {"features": features, **zero_state(sess, features.shape[0])})
    diff = float(np.abs(whole["probabilities"].astype(np.float64) - tool).max())
    agree = int((whole["probabilities"].argmax(1) == tool.argmax(1)).sum())

    # Streaming: chunks of --chunk frames, the state carried.
    streamed_diff = 0.0
    for b in range(min(features.shape[0], args.stream_clips)):
        state = zero_state(sess, 1)
        clip = features[b : b + 1]
        for start in range(0, clip.shape[1], args.chunk):
            o = run(sess, {"features": clip[:, start : start + args.chunk], **state})
            state = next_state(o)
        streamed_diff = max(streamed_diff, float(np.abs(o["probabilities"] - whole["probabilities"][b : b + 1]).max()))

    result = {"kind": "kws", "onnx": args.onnx, "clips": int(features.shape[0]), "features": list(features.shape[1:]),
              "cell": meta.get("lem.cell"), "layers": int(meta.get("lem.layers", 0)),
              "max_abs_diff_probabilities": diff, "same_top_label": agree, "tolerance": args.tolerance,
              "streamed_clips": min(features.shape[0], args.stream_clips), "stream_chunk_frames": args.chunk,
              "max_abs_diff_streamed_vs_whole": streamed_diff}
    if args.time:
        one = {"features": features[:1], **zero_state(sess, 1)}
        result["onnxruntime_seconds_per_clip"] = median_seconds(lambda: sess.run(None, one), args.repeats)
        result["onnxruntime_threads"] = args.threads
    print(json.dumps(result))
    return diff <= args.tolerance and streamed_diff <= args.tolerance


def tokenize(text, level, vocabulary):
    ids = {t: i for i, t in enumerate(vocabulary)}
    unk = ids.get("<unk>")
    tokens = []
    if level in ("word", "char"):
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for line in lines:
            tokens += line.replace("\t", " ").replace("\r", " ").split()
            tokens.append("<eos>")
    else:
        raise SystemExit("check_onnx_export: --file checks word and char models (a text-level model needs grapheme splitting)")
    out = []
    for t in tokens:
        if t in ids:
            out.append(ids[t])
        elif unk is not None:
            out.append(unk)
        else:
            raise SystemExit(f"check_onnx_export: token {t!r} is not in the vocabulary")
    return np.array(out, np.int64)


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def check_lm(args):
    sess = session(args.onnx, args.threads)
    meta = metadata(sess)
    vocabulary = json.loads(meta["lem.vocabulary"])
    out = subprocess.run([args.lm, "eval", "--checkpoint", args.checkpoint, "--file", args.file, "--json", "--logit-scale", "1"],
                         check=True, capture_output=True, text=True).stdout
    tool = json.loads(out.strip().splitlines()[-1])
    with open(args.file, encoding="utf-8") as f:
        ids = tokenize(f.read(), meta["lem.level"], vocabulary)
    # lm eval predicts every token, the first after the start token (<eos>: each line follows a line end).
    ids = np.concatenate([[int(meta["lem.start_token_id"])], ids]).astype(np.int64)
    state = zero_state(sess, 1)
    total, count = 0.0, 0
    for start in range(0, len(ids) - 1, args.window):
        inp = ids[start : min(start + args.window, len(ids) - 1)]
        target = ids[start + 1 : start + 1 + len(inp)]
        o = run(sess, {"tokens": inp[None, :], **state})
        state = next_state(o)
        lp = log_softmax(o["logits"][0])
        total -= float(lp[np.arange(len(target)), target].sum())
        count += len(target)
    ppl = float(np.exp(total / count))
    tool_ppl = float(tool.get("perplexity") or np.exp(tool["cross_entropy"]))
    rel = abs(ppl - tool_ppl) / tool_ppl

    # Streaming: token by token against one window.
    n = min(args.stream_tokens, len(ids))
    window = run(sess, {"tokens": ids[None, :n], **zero_state(sess, 1)})["logits"][0]
    state = zero_state(sess, 1)
    streamed = []
    for t in range(n):
        o = run(sess, {"tokens": ids[None, t : t + 1], **state})
        state = next_state(o)
        streamed.append(o["logits"][0, 0])
    streamed_diff = float(np.abs(np.stack(streamed) - window).max())

    result = {"kind": "lm", "onnx": args.onnx, "file": args.file, "tokens": int(count), "cell": meta.get("lem.cell"),
              "layers": int(meta.get("lem.layers", 0)), "onnxruntime_perplexity": ppl, "lm_eval_perplexity": tool_ppl,
              "tool_tokens": tool.get("tokens"), "relative_difference": rel, "tolerance": args.tolerance,
              "streamed_tokens": n, "max_abs_diff_logits_streamed_vs_window": streamed_diff}
    if args.time:
        one = {"tokens": ids[None, :1], **zero_state(sess, 1)}
        result["onnxruntime_seconds_per_token"] = median_seconds(lambda: sess.run(None, one), args.repeats)
        result["onnxruntime_threads"] = args.threads
    print(json.dumps(result))
    return rel <= args.tolerance and streamed_diff <= args.stream_tolerance


def check_seq(args):
    x = np.load(args.file)["x"].astype(np.float32)
    if x.ndim == 2:
        x = x[:, :, None]
    out = subprocess.run([args.seq, "eval", "--checkpoint", args.checkpoint, "--file", args.file, "--predictions", "--json"],
                         capture_output=True, text=True, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith('{"')]
    rows = sorted((r for r in rows if "sequence" in r), key=lambda r: r["sequence"])
    sess = session(args.onnx, args.threads)
    outputs = run(sess, {"features": x, **zero_state(sess, x.shape[0])})
    if "probabilities" in outputs:
        tool = np.array([r["probabilities"] for r in rows], np.float32)
        ours = outputs["probabilities"]
    else:
        tool = np.array([r["prediction"] for r in rows], np.float32)
        ours = outputs["predictions"].reshape(x.shape[0], -1)
    diff = float(np.abs(tool - ours).max())
    # Streaming: chunks of steps with the state carried, against the whole sequences at once.
    state, pieces = zero_state(sess, x.shape[0]), []
    for start in range(0, x.shape[1], args.chunk):
        o = run(sess, {"features": x[:, start:start + args.chunk], **state})
        state = next_state(o)
        pieces.append(o["predictions"] if "predictions" in o and o["predictions"].ndim == 3 else None)
        last = o
    key = "probabilities" if "probabilities" in outputs else "predictions"
    streamed = np.concatenate(pieces, axis=1) if pieces[0] is not None else last[key]
    streamed_diff = float(np.abs(streamed - outputs[key]).max())
    result = {"kind": "seq", "onnx": args.onnx, "sequences": int(x.shape[0]), "steps": int(x.shape[1]), "output": key,
              "max_abs_diff": diff, "tolerance": args.tolerance, "streamed_max_abs_diff": streamed_diff}
    print(json.dumps(result))
    return diff <= args.tolerance and streamed_diff <= args.tolerance


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="kind", required=True)
    k = sub.add_parser("kws")
    k.add_argument("--kws", default=".build/release/kws")
    k.add_argument("--checkpoint", required=True)
    k.add_argument("--onnx", required=True)
    k.add_argument("--tolerance", type=float, default=1e-5)
    k.add_argument("--chunk", type=int, default=7, help="frames per streamed call")
    k.add_argument("--stream-clips", type=int, default=10)
    k.add_argument("files", nargs="+")
    l = sub.add_parser("lm")
    l.add_argument("--lm", default=".build/release/lm")
    l.add_argument("--checkpoint", required=True)
    l.add_argument("--onnx", required=True)
    l.add_argument("--file", required=True)
    l.add_argument("--window", type=int, default=200, help="tokens per call (the state carried)")
    l.add_argument("--tolerance", type=float, default=1e-4, help="relative perplexity difference")
    l.add_argument("--stream-tokens", type=int, default=50)
    l.add_argument("--stream-tolerance", type=float, default=1e-4)
    q = sub.add_parser("seq")
    q.add_argument("--seq", default=".build/release/seq")
    q.add_argument("--checkpoint", required=True)
    q.add_argument("--onnx", required=True)
    q.add_argument("--file", required=True, help=".npz with x [N, T, F] (and y, for seq eval)")
    q.add_argument("--tolerance", type=float, default=1e-5)
    q.add_argument("--chunk", type=int, default=7, help="steps per streamed call")
    for p in (k, l, q):
        p.add_argument("--threads", type=int, default=1)
        p.add_argument("--time", action="store_true", help="also time one clip / one token at batch 1")
        p.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    ok = {"kws": check_kws, "lm": check_lm, "seq": check_seq}[args.kind](args)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
