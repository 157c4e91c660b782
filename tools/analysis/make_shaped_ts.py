#!/usr/bin/env python3
"""Archive-format .ts files of random series at a real dataset's shape, to prove `seq train
--task eigenworms|heart-rate` on data we do not have (EigenWorms, BIDMC32HR): the reader, the
pooling and split, memory and speed at 17,984 x 6 or 4,000 x 2. The values are noise: the
accuracy means nothing.

    python3 tools/analysis/make_shaped_ts.py eigenworms /tmp/ew     # 128 + 131 series, 17,984 x 6, 5 classes
    python3 tools/analysis/make_shaped_ts.py heart-rate /tmp/hr     # 5,565 + 2,384 series, 4,000 x 2, targets
"""
import os
import sys

import numpy as np

SHAPES = {"eigenworms": ("EigenWorms", 128, 131, 17984, 6, ["1", "2", "3", "4", "5"]),
          "heart-rate": ("BIDMC32HR", 5565, 2384, 4000, 2, None)}


def main():
    task, out = sys.argv[1], sys.argv[2]
    name, n_train, n_test, length, dims, classes = SHAPES[task]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1)
    for split, count in (("TRAIN", n_train), ("TEST", n_test)):
        with open(os.path.join(out, f"{name}_{split}.ts"), "w") as f:
            f.write(f"@problemName {name}\n@timeStamps false\n@missing false\n@univariate {'true' if dims == 1 else 'false'}\n")
            f.write(f"@dimensions {dims}\n@equalLength true\n@seriesLength {length}\n")
            f.write(f"@classLabel true {' '.join(classes)}\n" if classes else "@targetLabel true\n")
            f.write("@data\n")
            for _ in range(count):
                x = rng.standard_normal((dims, length)).astype(np.float32)
                label = classes[rng.integers(len(classes))] if classes else f"{rng.uniform(50, 120):.2f}"
                f.write(":".join(",".join(f"{v:.4g}" for v in row) for row in x) + ":" + label + "\n")
        print("wrote", os.path.join(out, f"{name}_{split}.ts"), count, "series")


if __name__ == "__main__":
    main()
