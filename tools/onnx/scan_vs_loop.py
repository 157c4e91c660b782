#!/usr/bin/env python3
"""Is a `Loop` faster than the `Scan` `lm/kws export` writes for the LEM? (docs/DEPLOYING.md)

Rewrites every LEM `Scan` of an exported model as the equivalent `Loop` (the step's input slice
gathered by the iteration number, the outputs stacked by the loop), checks that both give the
same outputs, and times both in onnxruntime, interleaved (A, B, A, B), at batch 1 on one thread.

    python3 tools/onnx/scan_vs_loop.py kws-lem.onnx --rounds 4 --repeats 300
"""

import argparse
import json
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, TensorProto


def scan_to_loop(model):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    nodes = []
    for k, node in enumerate(g.node):
        if node.op_type != "Scan":
            nodes.append(node)
            continue
        body = [a.g for a in node.attribute if a.name == "body"][0]
        y0, z0, projected = node.input
        p = f"loop{k}_"
        # Trip count: the time dimension of the projected inputs.
        shape = helper.make_node("Shape", [projected], [p + "shape"])
        zero = helper.make_tensor(p + "zero", TensorProto.INT64, [1], [0])
        g.initializer.append(zero)
        trips = helper.make_node("Gather", [p + "shape", p + "zero"], [p + "trips1"], axis=0)
        squeeze_axes = helper.make_tensor(p + "sq", TensorProto.INT64, [1], [0])
        g.initializer.append(squeeze_axes)
        trips0 = helper.make_node("Squeeze", [p + "trips1", p + "sq"], [p + "trips"])
        # The loop body: (i, cond, y, z) -> (cond, y', z', y'); p_t = projected[i].
        b = onnx.GraphProto()
        b.CopyFrom(body)
        y_in, z_in, p_in = [i.name for i in body.input]
        del b.input[:]
        b.input.extend([helper.make_tensor_value_info(p + "i", TensorProto.INT64, []),
                        helper.make_tensor_value_info(p + "cond_in", TensorProto.BOOL, []),
                        helper.make_tensor_value_info(y_in, TensorProto.FLOAT, None),
                        helper.make_tensor_value_info(z_in, TensorProto.FLOAT, None)])
        b.node.insert(0, helper.make_node("Gather", [projected, p + "i"], [p_in], axis=0))
        b.node.append(helper.make_node("Identity", [p + "cond_in"], [p + "cond_out"]))
        outs = list(b.output)
        del b.output[:]
        b.output.extend([helper.make_tensor_value_info(p + "cond_out", TensorProto.BOOL, [])] + outs)
        loop = helper.make_node("Loop", [p + "trips", ""] + [y0, z0], list(node.output), body=b)
        nodes += [shape, trips, trips0, loop]
    del g.node[:]
    g.node.extend(nodes)
    return m


def feeds(sess, steps):
    out = {}
    for i in sess.get_inputs():
        if i.name == "features":
            out[i.name] = np.random.default_rng(1).standard_normal((1, steps, i.shape[2])).astype(np.float32)
        elif i.name == "tokens":
            out[i.name] = np.zeros((1, steps), np.int64)
        elif i.name == "audio":
            out[i.name] = np.random.default_rng(1).standard_normal((1, i.shape[1])).astype(np.float32) * 0.1
        else:
            out[i.name] = np.zeros((i.shape[0], 1, i.shape[2]), np.float32)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--steps", type=int, default=126, help="sequence length of the timed call")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    scan = onnx.load(args.model)
    loop = scan_to_loop(scan)
    onnx.checker.check_model(loop)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    sessions = {"scan": ort.InferenceSession(scan.SerializeToString(), options, providers=["CPUExecutionProvider"]),
                "loop": ort.InferenceSession(loop.SerializeToString(), options, providers=["CPUExecutionProvider"])}
    f = feeds(sessions["scan"], args.steps)
    outs = {k: s.run(None, f) for k, s in sessions.items()}
    diff = max(float(np.abs(a - b).max()) for a, b in zip(outs["scan"], outs["loop"]))
    times = {"scan": [], "loop": []}
    for _ in range(args.rounds):
        for k, s in sessions.items():
            s.run(None, f)
            t = time.perf_counter()
            for _ in range(args.repeats):
                s.run(None, f)
            times[k].append((time.perf_counter() - t) / args.repeats)
    print(json.dumps({"model": args.model, "steps": args.steps, "max_abs_diff_scan_vs_loop": diff,
                      "seconds_per_call": {k: v for k, v in times.items()},
                      "median_us_per_step": {k: 1e6 * float(np.median(v)) / args.steps for k, v in times.items()},
                      "onnxruntime": ort.__version__, "threads": 1}))


if __name__ == "__main__":
    main()
