"""Writing a safetensors file with NumPy alone (float32 tensors and string metadata), for the
scripts beside this file."""
import json
import os
import struct

import numpy as np


def write_safetensors(path, tensors, metadata):
    """Writes `tensors` (name -> array, stored as little-endian float32, in name order) and
    `metadata` (str -> str) to `path`, atomically."""
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".partial", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(path + ".partial", path)
    return offset
