#!/usr/bin/env python3
"""Make the PyTorch reference fixtures for the Swift `lem` package tests.

What it makes (in Tests/LEMModelTests/Fixtures/, relative to the repo root):

  lem_layer.safetensors      one LEM layer over a sequence (m=3, d=5, T=7, B=2,
                             dt=0.7, non-zero y0/z0): parameters, input, outputs,
                             a weighted-sum loss and its gradients with respect to
                             every parameter, the input, y0 and z0.
  lem_layer_dt1.safetensors  the same with dt=1.0, T=4, B=3, m=2, d=4.
  word_lm.safetensors        tiny tied-weight word language model (V=11, d=6, T=5,
                             B=3, dt=1): logits, mean cross-entropy, gradients, then
                             5 Adam steps (lr=0.01, weight_decay=1e-3) with
                             clip_grad_norm_(0.5) before each step.
  classifier.safetensors     tiny sequence classifier, the Google12/kws shape (m=4,
                             d=6, T=8, B=3, C=5, dt=1, y0=z0=0): logits, loss,
                             gradients, then 5 plain Adam steps (lr=0.01).
  sgd_clip.safetensors       the classifier above (same initial parameters, input and
                             labels) trained 3 steps with SGD(lr=0.1) and
                             clip_grad_norm_(0.1).

The LEM cell is tools/reference/lem_reference.py, which restates the authors' cell
(tk-rusch/LEM, src/Google12/network.py).

How to run (from the repo root):

    pip install torch safetensors && python3 tools/reference/make_fixtures.py

Determinism: every fixture seeds torch.manual_seed; everything is computed in
float64. Float inputs and initial parameters are rounded to float32 *before* the
float64 computation, so the stored float32 values are exactly the values the
reference used. Stored results (outputs, losses, gradients, trained parameters)
are float64 results rounded to float32. Integer tensors are stored as int64.
Each file's metadata holds its sizes and settings as strings.

The script also asserts that autograd gradients match central finite differences
(float64, every entry of every parameter and float input; rel err < 1e-6), which
checks the fixture math itself.

torch semantics the Swift side must match (also written into metadata "notes"):
  * clip_grad_norm_(params, c): total = L2 norm over all grads; grads are multiplied
    by c / (total + 1e-6) only when that factor is < 1; it returns the pre-clip total.
  * torch.optim.Adam weight_decay is coupled L2: inside step(), grad += wd * param,
    i.e. after clipping; bias-corrected moments, eps added to sqrt(v_hat).
"""

import copy
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from lem_reference import LEMCell, lem_sequence  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "LEMModelTests", "Fixtures")
SOURCE = "tools/reference/make_fixtures.py"
MAX_BYTES = 100 * 1024

CLIP_NOTE = ("clip_grad_norm_: total=L2 norm of all grads; grads *= c/(total+1e-6) "
             "only if that is < 1; grad_norms are the pre-clip totals")
ADAM_NOTE = ("torch.optim.Adam: weight_decay is coupled L2 (grad += wd*param inside step, "
             "after clipping); m,v bias-corrected; denom = sqrt(v_hat) + eps")

torch.set_default_dtype(torch.float64)


# ----------------------------------------------------------------------------- helpers

def f32(t):
    """Round a float64 tensor through float32 (so the stored value is exact)."""
    return t.float().double()


def round_params_(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(f32(p))


def to_store(t):
    t = t.detach().cpu()
    if t.is_floating_point():
        t = t.to(torch.float32)
    else:
        t = t.to(torch.int64)
    return t.contiguous()


def save(name, tensors, metadata):
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    meta = {k: str(v) for k, v in metadata.items()}
    meta["source"] = SOURCE
    save_file({k: to_store(v) for k, v in tensors.items()}, path, metadata=meta)
    sort_metadata_in_header(path)
    os.chmod(path, 0o644)  # save_file creates the file 0600
    size = os.path.getsize(path)
    assert size < MAX_BYTES, f"{name} is {size} bytes"
    return path


def sort_metadata_in_header(path):
    """Rewrite the safetensors JSON header with the metadata keys sorted.

    save_file writes __metadata__ in hash-map order, which changes from run to run;
    sorting makes the files byte-identical across runs (no spurious git diffs).
    Only the header changes: tensor entries, offsets and the data bytes stay as written.
    """
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # safetensors pads the header with spaces to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + blob[8 + n:])


def fd_check(loss_fn, tensors, grads, h=1e-5, tol=1e-6, floor=1e-3):
    """Central finite differences of loss_fn() w.r.t. every entry of `tensors`.

    tensors: name -> float64 leaf tensor (perturbed in place); grads: name -> autograd grad.
    rel err = |ad - fd| / max(|ad|, |fd|, floor); asserts rel err < tol.
    Returns (number of entries checked, worst rel err).
    """
    worst = 0.0
    count = 0
    with torch.no_grad():
        for name, t in tensors.items():
            flat = t.view(-1)
            g = grads[name].reshape(-1)
            for i in range(flat.numel()):
                orig = flat[i].item()
                flat[i] = orig + h
                lp = loss_fn().item()
                flat[i] = orig - h
                lm = loss_fn().item()
                flat[i] = orig
                fd = (lp - lm) / (2 * h)
                ad = g[i].item()
                rel = abs(ad - fd) / max(abs(ad), abs(fd), floor)
                assert rel < tol, f"FD mismatch {name}[{i}]: autograd {ad!r} vs fd {fd!r} (rel {rel:.3g})"
                worst = max(worst, rel)
                count += 1
    return count, worst


def param_dict(module):
    return dict(module.named_parameters())


def train(model, loss_fn, make_opt, steps, clip=None):
    """Train a deep copy of `model` `steps` steps on loss_fn(model).

    Returns (losses [steps+1]: loss before each step and after the last,
             grad_norms [steps] (pre-clip totals; only if clip), trained model).
    """
    model = copy.deepcopy(model)
    params = list(model.parameters())
    opt = make_opt(params)
    losses, norms = [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model)
        losses.append(loss.item())
        loss.backward()
        if clip is not None:
            norms.append(torch.nn.utils.clip_grad_norm_(params, clip).item())
        opt.step()
    with torch.no_grad():
        losses.append(loss_fn(model).item())
    return torch.tensor(losses), torch.tensor(norms), model


# ----------------------------------------------------------------------------- models

class LayerModel(nn.Module):
    def __init__(self, m, d, dt):
        super().__init__()
        self.lem = LEMCell(m, d, dt)


class TiedDecoder(nn.Module):
    """Holds only the decoder bias; the decoder weight is embedding.weight (tied)."""

    def __init__(self, V):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(V))


class WordLM(nn.Module):
    def __init__(self, V, d, dt):
        super().__init__()
        self.embedding = nn.Embedding(V, d)
        self.lem = LEMCell(d, d, dt)
        self.decoder = TiedDecoder(V)
        with torch.no_grad():
            self.embedding.weight.uniform_(-0.1, 0.1)
            self.decoder.bias.add_(0.1 * torch.randn(V))  # zeros + 0.1*randn

    def forward(self, tokens, y0, z0):
        emb = F.embedding(tokens, self.embedding.weight)  # [T, B, d]
        out, yT, zT = lem_sequence(self.lem, emb, y0, z0)
        T, B, d = out.shape
        logits = out.reshape(T * B, d) @ self.embedding.weight.t() + self.decoder.bias
        return logits, yT, zT


class Classifier(nn.Module):
    def __init__(self, m, d, C, dt):
        super().__init__()
        self.lem = LEMCell(m, d, dt)
        self.classifier = nn.Linear(d, C)  # nn.Linear default init

    def forward(self, x):
        B = x.shape[1]
        d = self.lem.nhid
        y0 = torch.zeros(B, d)
        z0 = torch.zeros(B, d)
        _, yT, _ = lem_sequence(self.lem, x, y0, z0)
        return self.classifier(yT)


# ----------------------------------------------------------------------------- fixture 1

def make_layer(filename, seed, dt, T, B, m, d):
    torch.manual_seed(seed)
    model = LayerModel(m, d, dt)
    with torch.no_grad():
        # Reference init, then every weight matrix (not the biases) is scaled by 2.0
        # so the gates are not all near sigmoid(0) = 0.5 and tanh is not near-linear.
        for name, p in model.named_parameters():
            if name.endswith(".weight"):
                p.mul_(2.0)
    round_params_(model)
    x = f32(torch.randn(T, B, m)).requires_grad_()
    y0 = f32(0.5 * torch.randn(B, d)).requires_grad_()
    z0 = f32(0.5 * torch.randn(B, d)).requires_grad_()
    lw_out = f32(torch.randn(T, B, d))
    lw_y = f32(torch.randn(B, d))
    lw_z = f32(torch.randn(B, d))

    def forward():
        out, yT, zT = lem_sequence(model.lem, x, y0, z0)
        loss = (out * lw_out).sum() + (yT * lw_y).sum() + (zT * lw_z).sum()
        return loss, out, yT, zT

    loss, out, yT, zT = forward()
    params = param_dict(model)
    leaves = dict(params)
    leaves.update({"input": x, "y0": y0, "z0": z0})
    names = list(leaves)
    grads = dict(zip(names, torch.autograd.grad(loss, [leaves[n] for n in names])))

    n, worst = fd_check(lambda: forward()[0], leaves, grads)
    print(f"  {filename}: FD check {n} entries, worst rel err {worst:.2e}")

    tensors = {}
    tensors.update(params)
    tensors.update({"input": x, "y0": y0, "z0": z0,
                    "output": out, "y_final": yT, "z_final": zT,
                    "loss_weight.output": lw_out, "loss_weight.y_final": lw_y,
                    "loss_weight.z_final": lw_z,
                    "loss": loss.reshape(1)})
    for k in names:
        tensors["grad." + k] = grads[k]
    meta = {"dt": dt, "T": T, "B": B, "m": m, "d": d, "seed": seed,
            "weight_scale": "2.0 (weight matrices only, after the reference init)",
            "loss": "sum(output*loss_weight.output) + sum(y_final*loss_weight.y_final) "
                    "+ sum(z_final*loss_weight.z_final)",
            "compute_dtype": "float64 (stored as float32)"}
    return save(filename, tensors, meta)


# ----------------------------------------------------------------------------- fixture 2

def make_word_lm(filename, seed=2):
    V, d, T, B, dt = 11, 6, 5, 3, 1.0
    lr, wd, clip, steps = 0.01, 1e-3, 0.5, 5
    torch.manual_seed(seed)
    model = WordLM(V, d, dt)
    round_params_(model)
    y0 = f32(0.3 * torch.randn(B, d)).requires_grad_()
    z0 = f32(0.3 * torch.randn(B, d)).requires_grad_()
    tokens = torch.randint(0, V, (T, B), dtype=torch.int64)
    targets = torch.randint(0, V, (T, B), dtype=torch.int64)

    def loss_of(mdl, y_init, z_init):
        logits, yT, zT = mdl(tokens, y_init, z_init)
        return F.cross_entropy(logits, targets.reshape(T * B)), logits, yT, zT

    loss, logits, yT, zT = loss_of(model, y0, z0)
    params = param_dict(model)
    assert list(params) == ["embedding.weight",
                            "lem.inp2hid.weight", "lem.inp2hid.bias",
                            "lem.hid2hid.weight", "lem.hid2hid.bias",
                            "lem.transform_z.weight", "lem.transform_z.bias",
                            "decoder.bias"], list(params)
    leaves = dict(params)
    leaves.update({"y0": y0, "z0": z0})
    names = list(leaves)
    grads = dict(zip(names, torch.autograd.grad(loss, [leaves[n] for n in names])))
    n, worst = fd_check(lambda: loss_of(model, y0, z0)[0], leaves, grads)
    print(f"  {filename}: FD check {n} entries, worst rel err {worst:.2e}")

    y0c, z0c = y0.detach(), z0.detach()
    losses, norms, trained = train(
        model, lambda mdl: loss_of(mdl, y0c, z0c)[0],
        lambda ps: torch.optim.Adam(ps, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd),
        steps, clip=clip)
    assert abs(losses[0].item() - loss.item()) < 1e-12

    tensors = {}
    tensors.update(params)
    tensors.update({"y0": y0, "z0": z0, "tokens": tokens, "targets": targets,
                    "logits": logits, "loss": loss.reshape(1),
                    "y_final": yT, "z_final": zT})
    for k in names:
        tensors["grad." + k] = grads[k]
    tensors["adam.losses"] = losses
    tensors["adam.grad_norms"] = norms
    for k, p in trained.named_parameters():
        tensors["adam." + k] = p
    meta = {"lr": lr, "weight_decay": wd, "clip": clip, "steps": steps,
            "V": V, "d": d, "T": T, "B": B, "dt": dt, "seed": seed,
            "betas": "0.9,0.999", "eps": "1e-08",
            "model": "tied: logits = y_t @ embedding.weight^T + decoder.bias; "
                     "logits row = t*B + b; loss = mean cross-entropy over T*B",
            "adam_losses": "loss before step 1..5, then loss after step 5 (same batch, same y0,z0)",
            "notes": CLIP_NOTE + " | " + ADAM_NOTE,
            "compute_dtype": "float64 (stored as float32)"}
    return save(filename, tensors, meta)


# ----------------------------------------------------------------------------- fixtures 3, 4

def classifier_setup(seed=3):
    m, d, T, B, C, dt = 4, 6, 8, 3, 5, 1.0
    torch.manual_seed(seed)
    model = Classifier(m, d, C, dt)
    round_params_(model)
    x = f32(torch.randn(T, B, m))
    labels = torch.randint(0, C, (B,), dtype=torch.int64)
    sizes = {"m": m, "d": d, "T": T, "B": B, "C": C, "dt": dt, "seed": seed}
    return model, x, labels, sizes


def make_classifier(filename):
    lr, steps = 0.01, 5
    model, x, labels, sizes = classifier_setup()
    x = x.clone().requires_grad_()

    def loss_of(mdl, inp):
        logits = mdl(inp)
        return F.cross_entropy(logits, labels), logits

    loss, logits = loss_of(model, x)
    params = param_dict(model)
    leaves = dict(params)
    leaves["input"] = x
    names = list(leaves)
    grads = dict(zip(names, torch.autograd.grad(loss, [leaves[n] for n in names])))
    n, worst = fd_check(lambda: loss_of(model, x)[0], leaves, grads)
    print(f"  {filename}: FD check {n} entries, worst rel err {worst:.2e}")

    xc = x.detach()
    losses, _, trained = train(model, lambda mdl: loss_of(mdl, xc)[0],
                               lambda ps: torch.optim.Adam(ps, lr=lr), steps)
    assert abs(losses[0].item() - loss.item()) < 1e-12

    tensors = {}
    tensors.update(params)
    tensors.update({"input": x, "labels": labels, "logits": logits, "loss": loss.reshape(1)})
    for k in names:
        tensors["grad." + k] = grads[k]
    tensors["adam.losses"] = losses
    for k, p in trained.named_parameters():
        tensors["adam." + k] = p
    meta = dict(sizes)
    meta.update({"lr": lr, "steps": steps, "weight_decay": 0.0, "clip": "none",
                 "betas": "0.9,0.999", "eps": "1e-08",
                 "model": "y0=z0=0; logits = classifier(y_T); loss = mean cross-entropy over B",
                 "adam_losses": "loss before step 1..5, then loss after step 5",
                 "notes": ADAM_NOTE,
                 "compute_dtype": "float64 (stored as float32)"})
    return save(filename, tensors, meta)


def make_sgd_clip(filename):
    lr, clip, steps = 0.1, 0.1, 3
    model, x, labels, sizes = classifier_setup()

    def loss_of(mdl):
        return F.cross_entropy(mdl(x), labels)

    losses, norms, trained = train(model, loss_of,
                                   lambda ps: torch.optim.SGD(ps, lr=lr), steps, clip=clip)
    tensors = dict(param_dict(model))
    tensors.update({"input": x, "labels": labels,
                    "sgd.losses": losses, "sgd.grad_norms": norms})
    for k, p in trained.named_parameters():
        tensors["sgd." + k] = p
    meta = dict(sizes)
    meta.update({"lr": lr, "clip": clip, "steps": steps,
                 "optimizer": "torch.optim.SGD(lr=0.1), no momentum, no weight decay",
                 "model": "same as classifier.safetensors (same initial params, input, labels)",
                 "sgd_losses": "loss before step 1..3, then loss after step 3",
                 "notes": CLIP_NOTE,
                 "compute_dtype": "float64 (stored as float32)"})
    return save(filename, tensors, meta)


# ----------------------------------------------------------------------------- main

def describe(path):
    print(f"{os.path.relpath(path, REPO)}  ({os.path.getsize(path)} bytes)")
    with safe_open(path, framework="pt") as f:
        meta = f.metadata()
        for k in f.keys():
            t = f.get_tensor(k)
            assert torch.isfinite(t.double()).all() if t.is_floating_point() else True, k
            print(f"    {k:32s} {str(t.dtype):14s} {list(t.shape)}")
        print("    metadata:", ", ".join(f"{k}={v}" for k, v in sorted(meta.items())
                                        if k not in ("notes", "model", "loss")))


def main():
    print("making fixtures (with finite-difference checks) ...")
    paths = [
        make_layer("lem_layer.safetensors", seed=1, dt=0.7, T=7, B=2, m=3, d=5),
        make_layer("lem_layer_dt1.safetensors", seed=11, dt=1.0, T=4, B=3, m=2, d=4),
        make_word_lm("word_lm.safetensors"),
        make_classifier("classifier.safetensors"),
        make_sgd_clip("sgd_clip.safetensors"),
    ]
    print()
    for p in paths:
        describe(p)


if __name__ == "__main__":
    main()
