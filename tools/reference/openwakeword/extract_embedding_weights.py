#!/usr/bin/env python3
"""Google's speech_embedding weights, read once from openWakeWord 0.5.1's embedding_model.onnx,
written as the safetensors file the native front end loads (Sources/Audio/Resources/).

    pip install openwakeword==0.5.1 onnx numpy
    python3 tools/reference/openwakeword/extract_embedding_weights.py

The ONNX file is checked against its sha256 in the wheel's RECORD (the version the front end's
fixtures were made with). Tensors: conv{i}.weight [out, in, time, mel] and conv{i}.bias
(i = 0 … 19; batch norm already folded in by tf2onnx; conv19 has no bias), float32. The
metadata carries the provenance and the licence (FRONTEND-SPEC.md section 2).
"""
import hashlib
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_file import write_safetensors  # noqa: E402

EXPECTED_SHA256 = "70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f"
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
OUT = os.path.join(ROOT, "Sources", "Audio", "Resources", "speech-embedding.safetensors")


def main():
    import openwakeword
    path = os.path.join(os.path.dirname(openwakeword.__file__), "resources", "models", "embedding_model.onnx")
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    if digest != EXPECTED_SHA256:
        sys.exit(f"{path}: sha256 {digest}, expected {EXPECTED_SHA256} (openwakeword==0.5.1)")
    model = onnx.load(path)
    init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    tensors = {}
    for i in range(20):
        prefix = "model/conv2d" + ("" if i == 0 else f"_{i}")
        if i < 19:
            tensors[f"conv{i}.weight"] = init[f"{prefix}/Conv2D_weights_fused_bn"]
            tensors[f"conv{i}.bias"] = init[f"{prefix}/Conv2D_bias_fused_bn"]
        else:
            tensors[f"conv{i}.weight"] = init[f"{prefix}/Conv2D/ReadVariableOp:0"]
    # The order of the convolutions in the graph is the order above (FRONTEND-SPEC.md section 5).
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert [n.input[1] for n in convs] == [
        ("model/conv2d" + ("" if i == 0 else f"_{i}") + ("/Conv2D_weights_fused_bn" if i < 19 else "/Conv2D/ReadVariableOp:0")) for i in range(20)
    ], "unexpected convolution order"
    metadata = {
        "source": "openwakeword==0.5.1 resources/models/embedding_model.onnx, sha256 " + EXPECTED_SHA256,
        "origin": "Google's speech_embedding TFHub module (https://tfhub.dev/google/speech_embedding/1, arXiv 2002.01322), "
                  "re-implemented by openWakeWord with the module's weights (its notebook converting_google_speech_embedding_model.ipynb)",
        "licence": "Apache-2.0 (Google's speech_embedding module, as openWakeWord's README states; openWakeWord's code is Apache-2.0)",
        "layout": "conv{i}.weight [out, in, time, mel], conv{i}.bias [out]; batch norm folded; conv19 without bias",
    }
    offset = write_safetensors(OUT, tensors, metadata)
    print(f"{OUT}: {len(tensors)} tensors, {offset:,} bytes of weights")


if __name__ == "__main__":
    main()
