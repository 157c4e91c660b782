#!/usr/bin/env python3
"""The authors' PyTorch LEM on the paper's sequence tasks, trained with their recipe for a
wall-clock budget, to set `seq train --task T` beside it at equal time (docs/PAPER.md).

    python3 tools/reference/train_seq_pytorch.py --task smnist --data ../shared/data/mnist \
        --minutes 60 --threads 1 --json > torch-smnist.jsonl
    python3 tools/reference/train_seq_pytorch.py --task fhn --minutes 30 --threads 1 --json > torch-fhn.jsonl
    # a long run in chunks: the state at each epoch's end and at the stop; --minutes is the total
    python3 tools/reference/train_seq_pytorch.py --task ncifar --data ../shared/data/cifar10 --minutes 100 \
        --threads 1 --json --state torch-ncifar.pt >> torch-ncifar.jsonl
    python3 tools/reference/train_seq_pytorch.py --task ncifar --data ../shared/data/cifar10 --minutes 200 \
        --threads 1 --json --state torch-ncifar.pt --resume >> torch-ncifar.jsonl

What it runs is the authors' scripts (tk-rusch/LEM at 833da6b, src/<task>/<task>_task.py,
network.py, utils.py / data.py) restated without torchvision, sktime or a GPU:
- the model: the authors' LEM — LEMCell (lem_reference.py: inp2hid, hid2hid, transform_z, all
  parameters U(+-1/sqrt(d))), a python loop over the steps from zero states, the classifier
  nn.Linear(d, C) with kaiming_normal_ weight, read from the last y (FitzHugh-Nagumo: from
  every y);
- the data and splits exactly as theirs (and as `seq train --task` rebuilds them): pixels / 255
  (ToTensor, no Normalize); sMNIST the 784 pixels in raster order, psMNIST permuted by
  torch.randperm(784) after manual_seed(5544); noisy CIFAR each image's 32 rows laid out
  [R | G | B] (permute(0,2,1,3).reshape(B,32,96)) then the one noise tensor randn(1,968,96);
  the unseeded random_split drawn from the global generator after the model's construction;
  FitzHugh-Nagumo from data.py (np.random.seed(1234), solve_ivp RK45 defaults);
- the optimisation: Adam at their learning rate, their batch, their clipping (sMNIST 1.0, psMNIST
  1.1, none elsewhere), lr / 10 after epoch 100 (sMNIST, psMNIST, noisy CIFAR);
- evaluation every epoch on the validation split (accuracy; FitzHugh-Nagumo RMSE over every
  output of every sequence — the authors' eval() scores only the last batch, which for the
  128 validation sequences in one batch is the same); for FitzHugh-Nagumo, at each new best
  validation, the test set too (the 1,024 sequences generated after train and valid, as
  theirs): the RMSE over all of them and the authors' figure, over the last 128 only.

The minibatch order is drawn from torch's generator each epoch (torch.randperm), as a shuffling
DataLoader does; it is not the authors' exact sequence of batches (that needs their DataLoader's
generator calls and is irrelevant to the figures).

Prints one line (or JSON object) per validation: epoch, training seconds (the clock stops during
validation, as in `seq train`), the metric. The JSON lines are a metrics log for `seq plot`:

    seq plot smnist.ckpt.metrics.jsonl torch-smnist.jsonl --out smnist.svg
"""

import argparse
import gzip
import json
import math
import os
import sys
import signal
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lem_reference import LEMCell  # noqa: E402

RECIPES = {  # hidden, dt, lr, batch, epochs, decay after, clip, inputs, outputs
    "smnist": dict(hid=128, dt=0.21, lr=0.0018, batch=128, epochs=120, decay=100, clip=1.0, ninp=1, nout=10),
    "psmnist": dict(hid=128, dt=0.31, lr=0.0073, batch=128, epochs=120, decay=100, clip=1.1, ninp=1, nout=10),
    "ncifar": dict(hid=128, dt=0.44, lr=0.00322, batch=100, epochs=120, decay=100, clip=None, ninp=96, nout=10),
    "fhn": dict(hid=16, dt=1.0, lr=0.00904, batch=32, epochs=400, decay=None, clip=None, ninp=1, nout=1),
}


class LEM(nn.Module):
    """The authors' network.py LEM: the cell looped over time, a linear read-out."""

    def __init__(self, ninp, nhid, nout, dt, every_step=False):
        super().__init__()
        self.nhid, self.every_step = nhid, every_step
        self.cell = LEMCell(ninp, nhid, dt)
        self.classifier = nn.Linear(nhid, nout)
        nn.init.kaiming_normal_(self.classifier.weight)

    def forward(self, x):  # x [T, B, ninp]
        y = x.new_zeros(x.size(1), self.nhid)
        z = x.new_zeros(x.size(1), self.nhid)
        ys = []
        for xt in x:
            y, z = self.cell(xt, y, z)
            if self.every_step:
                ys.append(y)
        return self.classifier(torch.stack(ys) if self.every_step else y)


def read_idx(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def first_existing(folder, names):
    for n in names:
        p = os.path.join(folder, n)
        if os.path.exists(p):
            return p
    sys.exit(f"{folder}: none of {names}")


def mnist(folder, permuted, model_factory):
    images = read_idx(first_existing(folder, ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"]))
    labels = read_idx(first_existing(folder, ["train-labels-idx1-ubyte", "train-labels-idx1-ubyte.gz"]))
    x = torch.tensor(images.reshape(len(images), 784), dtype=torch.float32) / 255
    torch.manual_seed(5544)
    if permuted:
        perm = torch.randperm(784)
        x = x[:, perm]
    model = model_factory()
    order = torch.randperm(len(x))        # random_split(60000, [57000, 3000]) on the global generator
    n_valid = 3000 if len(x) == 60000 else max(1, len(x) // 20)
    tr, va = order[:len(x) - n_valid], order[len(x) - n_valid:]
    y = torch.tensor(labels.astype(np.int64))
    to_steps = lambda b: b.t().unsqueeze(2)   # [B, 784] -> [784, B, 1]
    return model, (x[tr], y[tr]), (x[va], y[va]), to_steps


def noisy_cifar(folder, model_factory):
    parts, present = [], []
    for k in range(1, 6):
        p = os.path.join(folder, f"data_batch_{k}.bin")
        if os.path.exists(p):
            raw = np.fromfile(p, dtype=np.uint8).reshape(-1, 3073)
            parts.append(raw)
            present += list(range((k - 1) * 10000, (k - 1) * 10000 + len(raw)))
    if not parts:
        sys.exit(f"{folder}: no data_batch_*.bin")
    raw = np.concatenate(parts)
    images = torch.tensor(raw[:, 1:].reshape(-1, 3, 32, 32), dtype=torch.float32) / 255
    labels = torch.tensor(raw[:, 0].astype(np.int64))
    torch.manual_seed(5544)
    model = model_factory()
    order = torch.randperm(50000).tolist()    # random_split(50000, [48000, 2000])
    noise = torch.randn(1, 968, 96)
    position = {g: i for i, g in enumerate(present)}
    tr = torch.tensor([position[g] for g in order[:48000] if g in position])
    va = torch.tensor([position[g] for g in order[48000:] if g in position])
    rows = images.permute(0, 2, 1, 3).reshape(-1, 32, 96)

    def to_steps(b):  # [B, 32, 96] -> [1000, B, 96]
        return torch.cat((b, noise.repeat(b.size(0), 1, 1)), dim=1).permute(1, 0, 2)
    return model, (rows[tr], labels[tr]), (rows[va], labels[va]), to_steps


def fitzhugh_nagumo(model_factory):
    from scipy import integrate

    def rhs(t, x):
        v, w = x
        return [v - v ** 3 / 3.0 - w + 0.5, (1.0 / 50.0) * (v + 0.7 - 0.8 * w)]

    def get_data(n):
        t = np.linspace(0, 400, 1001)
        xs, ys = [], []
        for _ in range(n):
            x0 = np.array([float(np.random.rand(1)[0]) * 2.0 - 1.0, 0.0])
            v = integrate.solve_ivp(rhs, [0, 400], x0, t_eval=t).y[0]
            xs.append(v[:-1])
            ys.append(v[1:])
        return (torch.tensor(np.array(xs), dtype=torch.float32).unsqueeze(2), torch.tensor(np.array(ys), dtype=torch.float32).unsqueeze(2))
    torch.manual_seed(1234)
    np.random.seed(1234)
    train, valid, test = get_data(128), get_data(128), get_data(1024)
    model = model_factory()
    return model, train, valid, test, lambda b: b.permute(1, 0, 2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", choices=sorted(RECIPES), required=True)
    ap.add_argument("--data", help="the task's data folder (MNIST IDX files, CIFAR-10 batches; not for fhn)")
    ap.add_argument("--minutes", type=float, default=30, help="training-time budget (validation not counted)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, help="re-seed torch after the data are made and build the model afresh (another "
                    "initialisation and batch order on the authors' data and split); default: the authors' seeding only")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--state", help="resumable state file: written at every epoch's end and when the run stops "
                    "(the budget, Ctrl-C or SIGTERM), so a long run can go in chunks")
    ap.add_argument("--resume", action="store_true", help="continue from --state (--minutes counts the chunks before too)")
    args = ap.parse_args()
    if args.resume and not args.state:
        ap.error("--resume needs --state")
    torch.set_num_threads(args.threads)
    c = RECIPES[args.task]
    factory = lambda: LEM(c["ninp"], c["hid"], c["nout"], c["dt"], every_step=args.task == "fhn")
    test = None
    if args.task in ("smnist", "psmnist"):
        model, train, valid, to_steps = mnist(args.data, args.task == "psmnist", factory)
    elif args.task == "ncifar":
        model, train, valid, to_steps = noisy_cifar(args.data, factory)
    else:
        model, train, valid, test, to_steps = fitzhugh_nagumo(factory)
    if args.seed is not None:
        torch.manual_seed(args.seed)
        model = factory()
    regression = args.task == "fhn"
    objective = nn.MSELoss() if regression else nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=c["lr"])
    seconds, step, best = 0.0, 0, None
    first_epoch, order, first_start = 1, None, 0
    if args.resume:
        state = torch.load(args.state, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        seconds, step, best = state["seconds"], state["step"], state["best"]
        first_epoch, order, first_start = state["epoch"], state["order"], state["start"]
        print(json.dumps({"event": "resume", "epoch": first_epoch, "step": step, "elapsed_s": seconds}) if args.json
              else f"resuming at epoch {first_epoch}, step {step}, {seconds / 60:.1f} min", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: stopping.append("SIGINT"))

    def save(epoch, order, start):
        if args.state:
            tmp = args.state + ".tmp"
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": torch.get_rng_state(), "seconds": seconds,
                        "step": step, "best": best, "epoch": epoch, "order": order, "start": start}, tmp)
            os.replace(tmp, args.state)

    for epoch in range(first_epoch, c["epochs"] + 1):
        if seconds >= args.minutes * 60 or stopping:
            break
        model.train()
        if order is None:
            order = torch.randperm(len(train[0]))
        for start in range(first_start, len(order), c["batch"]):
            if seconds >= args.minutes * 60 or stopping:
                save(epoch, order, start)
                print(json.dumps({"event": "stop", "epoch": epoch, "step": step, "elapsed_s": seconds, "why": stopping[0] if stopping else "budget"})
                      if args.json else f"stopped at epoch {epoch}, step {step}", flush=True)
                return
            t0 = time.monotonic()
            idx = order[start:start + c["batch"]]
            x, y = to_steps(train[0][idx]), train[1][idx]
            out = model(x)
            loss = objective(out, y.permute(1, 0, 2) if regression else y)
            opt.zero_grad()
            loss.backward()
            if c["clip"]:
                torch.nn.utils.clip_grad_norm_(model.parameters(), c["clip"])
            opt.step()
            step += 1
            seconds += time.monotonic() - t0
        model.eval()
        with torch.no_grad():
            correct, sse, count = 0, 0.0, 0
            for start in range(0, len(valid[0]), 1000):
                x, y = to_steps(valid[0][start:start + 1000]), valid[1][start:start + 1000]
                out = model(x)
                if regression:
                    sse += float(((out - y.permute(1, 0, 2)) ** 2).sum())
                    count += out.numel()
                else:
                    correct += int((out.argmax(1) == y).sum())
                    count += len(y)
        metric = math.sqrt(sse / count) if regression else correct / count
        name = "RMSE" if regression else "accuracy"
        row = {"event": "valid", "epoch": epoch, "step": step, "train_seconds": seconds, "elapsed_s": seconds, "metric": metric, name: metric}
        improved = best is None or (metric < best if regression else metric > best)
        if improved:
            best = metric
        if improved and test is not None:
            # The authors' test figure: at each new best validation. Theirs is the RMSE of the
            # last batch of 128 only (their eval() overwrites its loss per batch); both are logged.
            with torch.no_grad():
                out = model(to_steps(test[0]))
                err = (out - test[1].permute(1, 0, 2)) ** 2
            row["test_rmse"] = float(err.mean().sqrt())
            row["test_rmse_last_batch_of_128"] = float(err[:, -128:].mean().sqrt())
        print(json.dumps(row) if args.json else f"epoch {epoch} step {step} {seconds / 60:.1f} min: valid {name} {metric:.5g}", flush=True)
        if c["decay"] and epoch == c["decay"]:
            for g in opt.param_groups:
                g["lr"] /= 10
        order, first_start = None, 0
        save(epoch + 1, None, 0)


if __name__ == "__main__":
    main()
