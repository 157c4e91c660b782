#!/usr/bin/env python3
"""Fixtures for seq's paper tasks: what the authors' scripts (tk-rusch/LEM at 833da6b) draw from
PyTorch's and NumPy's generators and what SciPy's RK45 gives, so that the Swift rebuilds of their
data pipelines (Sources/SequenceModelling/Tasks/) are tested against the real libraries.

Writes Tests/SequenceModellingTests/Fixtures/authors_data.json:
  psmnist_permutation  torch.manual_seed(5544); torch.randperm(784)       (src/psMNIST)
  smnist_split         random_split(60000 -> 57000/3000) as the authors' sMNIST script draws it:
                       torch.manual_seed(5544), their model built (LEM(1, 128, 10)), then
                       randperm(60000); first and last 100 indices, and a checksum
  psmnist_split        the same after the permutation: randperm(784), the model, randperm(60000)
  ncifar_split         manual_seed(5544), LEM(96, 128, 10), randperm(50000); then the noise
                       torch.randn(1, 968, 96): first 100 indices, and noise statistics and values
  eigenworms_split     sklearn train_test_split(range(259), test_size=0.3, random_state=1234),
                       then the held-out part with test_size=0.5 (valid = its train part)
                       (emulated with numpy RandomState as sklearn's ShuffleSplit does, and
                       checked against sklearn when it is installed)
  heart_rate_split     random_split(7949 -> 5565/2384, generator seeded 123456), then the 2384 ->
                       1192 test / 1192 valid with a fresh generator of the same seed
  fhn_v0               np.random.seed(1234); 1280 draws np.random.rand(1)*2-1 (train, valid, test)
  fhn_trajectories     v of the first 3 training trajectories: solve_ivp (RK45 defaults) on
                       t = linspace(0, 400, 1001)

The model construction order is the authors' LEM module (network.py): LEMCell (inp2hid,
hid2hid, transform_z, then reset_parameters), the classifier Linear, kaiming_normal_ of its
weight. Needs: pip install torch numpy scipy (scikit-learn optional).

Usage (from the repo root):  python3 tools/reference/make_task_fixtures.py
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from scipy import integrate

sys.path.insert(0, os.path.dirname(__file__))
from lem_reference import LEMCell  # noqa: E402


def authors_model(ninp, nhid, nout, dt):
    cell = LEMCell(ninp, nhid, dt)
    classifier = nn.Linear(nhid, nout)
    nn.init.kaiming_normal_(classifier.weight)
    return cell, classifier


def head_tail(xs, n=100):
    return {"count": len(xs), "first": xs[:n], "last": xs[-n:], "sum_of_index_times_value": int(sum(i * v for i, v in enumerate(xs)) % (1 << 61))}


out = {"source": "tk-rusch/LEM 833da6b; torch %s, numpy %s" % (torch.__version__, np.__version__)}

torch.manual_seed(5544)
out["psmnist_permutation"] = torch.randperm(784).tolist()

torch.manual_seed(5544)
authors_model(1, 128, 10, 0.21)
out["smnist_split"] = head_tail(torch.randperm(60000).tolist())

torch.manual_seed(5544)
torch.randperm(784)
authors_model(1, 128, 10, 0.31)
out["psmnist_split"] = head_tail(torch.randperm(60000).tolist())

torch.manual_seed(5544)
authors_model(96, 128, 10, 0.44)
split = torch.randperm(50000).tolist()
noise = torch.randn(1, 968, 96).flatten()
out["ncifar_split"] = head_tail(split)
out["ncifar_noise"] = {"first": noise[:100].tolist(), "last": noise[-100:].tolist(),
                       "mean": float(noise.double().mean()), "std": float(noise.double().std())}

perm = np.random.RandomState(1234).permutation(259)
train, held = perm[78:], perm[:78]
perm2 = np.random.RandomState(1234).permutation(78)
valid, test = held[perm2[39:]], held[perm2[:39]]
try:
    from sklearn.model_selection import train_test_split
    a, b = train_test_split(np.arange(259), test_size=0.3, random_state=1234)
    c, d = train_test_split(b, test_size=0.5, random_state=1234)
    assert list(a) == list(train) and list(c) == list(valid) and list(d) == list(test), "emulation differs from sklearn"
    print("eigenworms split checked against scikit-learn")
except ImportError:
    print("scikit-learn not installed: eigenworms split from the ShuffleSplit emulation")
out["eigenworms_split"] = {"train": train.tolist(), "valid": valid.tolist(), "test": test.tolist()}

p1 = torch.randperm(7949, generator=torch.Generator().manual_seed(123456)).tolist()
p2 = torch.randperm(2384, generator=torch.Generator().manual_seed(123456)).tolist()
rest = p1[5565:]
out["heart_rate_split"] = {"train": head_tail(p1[:5565]), "test": [rest[i] for i in p2[:1192]], "valid": [rest[i] for i in p2[1192:]]}

np.random.seed(1234)
v0 = [float(np.random.rand(1)[0]) * 2.0 - 1.0 for _ in range(1280)]
out["fhn_v0"] = [repr(v) for v in v0]  # strings: read with a correctly rounded parser, bit for bit


def fhn(t, x):
    v, w = x
    return [v - v ** 3 / 3.0 - w + 0.5, (1.0 / 50.0) * (v + 0.7 - 0.8 * w)]


t = np.linspace(0, 400, 1001)
trajectories = []
for k in range(3):
    sol = integrate.solve_ivp(fhn, [0, 400], np.array([v0[k], 0.0]), t_eval=t)
    trajectories.append([float("%.9g" % v) for v in sol.y[0]])
out["fhn_trajectories"] = trajectories

path = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SequenceModellingTests", "Fixtures", "authors_data.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
