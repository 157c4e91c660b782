#!/usr/bin/env python3
"""Make the PyTorch parity fixtures of the LSTM and GRU layers (torch.nn.LSTM / torch.nn.GRU).

What it makes (in Tests/LEMModelTests/Fixtures/):

  lstm_layer.safetensors    nn.LSTM(m=3, d=4, num_layers=1) over T=6 steps of B=2 sequences
                            from a non-zero (h0, c0)
  gru_layer.safetensors     nn.GRU, same sizes, from a non-zero h0
  lstm_2layers.safetensors  nn.LSTM(num_layers=2, dropout=0), T=5, B=2, m=3, d=4
  gru_2layers.safetensors   nn.GRU(num_layers=2, dropout=0), same sizes
  lem_2layers.safetensors   two of the authors' LEMCells stacked (dt=0.8), the second reading the
                            first's y: attributes `lem` and `lem_l1`, as lem names a stacked LEM;
                            "h" is y and "c" is z below

Each holds the parameters under PyTorch's names with the prefix "rnn." (rnn.weight_ih_l0, ...),
the input [T, B, m], h0 (and c0) [L, B, d], the output [T, B, d], h_n (and c_n) [L, B, d], the
weights of the loss L = sum(output*w_out) + sum(h_n*w_h) (+ sum(c_n*w_c)), and the gradient of L
with respect to every parameter, the input and the initial states ("grad.<name>"). The one-layer
files also hold 3 steps of Adam (lr 0.01) with clip_grad_norm_(1.0) before each step on the same
loss: "adam.losses" [4] (before each step and after the last) and the trained parameters
("adam.<name>").

Conventions as in make_fixtures.py (it is imported for its helpers): computed in float64 from
float32-rounded inputs and parameters, stored as float32; every gradient is checked against
central finite differences before it is written. Weight matrices are scaled by 2 after PyTorch's
init so the gates use their whole range.

    pip install torch safetensors && python3 tools/reference/make_rnn_fixtures.py
"""

import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures  # noqa: E402
from make_fixtures import describe, f32, fd_check, round_params_, save, train  # noqa: E402
from lem_reference import LEMCell, lem_sequence  # noqa: E402

make_fixtures.SOURCE = "tools/reference/make_rnn_fixtures.py"  # the "source" metadata entry


class Holder(nn.Module):
    """Puts the RNN's parameters under the prefix "rnn." (as the lem models store them)."""

    def __init__(self, cell, m, d, layers):
        super().__init__()
        self.rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(m, d, num_layers=layers)


class LEMStack(nn.Module):
    """The authors' LEMCell per layer, as attributes lem, lem_l1, ... (lem's parameter names);
    called like nn.LSTM: rnn(x, (h0, c0)) -> (output, (h_n, c_n)) with h = y and c = z."""

    def __init__(self, m, d, layers, dt):
        super().__init__()
        self.names = ["lem"] + [f"lem_l{k}" for k in range(1, layers)]
        for k, name in enumerate(self.names):
            setattr(self, name, LEMCell(m if k == 0 else d, d, dt))

    def forward(self, x, state):
        h0, c0 = state
        hs, cs = [], []
        for k, name in enumerate(self.names):
            x, y, z = lem_sequence(getattr(self, name), x, h0[k], c0[k])
            hs.append(y)
            cs.append(z)
        return x, (torch.stack(hs), torch.stack(cs))


class LEMHolder(nn.Module):
    """Makes `model.rnn` the stack while its parameters keep their top-level names (lem.*, lem_l1.*)."""

    def __init__(self, m, d, layers, dt):
        super().__init__()
        stack = LEMStack(m, d, layers, dt)
        for name in stack.names:
            setattr(self, name, getattr(stack, name))
        self.__dict__["rnn"] = stack  # not a submodule: no second copy of the names


def make(filename, cell, seed, T, B, m, d, layers, adam_steps=0, dt=1.0):
    torch.manual_seed(seed)
    model = LEMHolder(m, d, layers, dt) if cell == "lem" else Holder(cell, m, d, layers)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "weight" in name:
                p.mul_(2.0)
    round_params_(model)
    lstm = cell in ("lstm", "lem")  # both carry a second state (LSTM's c, LEM's z)
    x = f32(torch.randn(T, B, m)).requires_grad_()
    h0 = f32(0.5 * torch.randn(layers, B, d)).requires_grad_()
    c0 = f32(0.5 * torch.randn(layers, B, d)).requires_grad_() if lstm else None
    w_out = f32(torch.randn(T, B, d))
    w_h = f32(torch.randn(layers, B, d))
    w_c = f32(torch.randn(layers, B, d)) if lstm else None

    def forward(mdl=model):
        if lstm:
            out, (hn, cn) = mdl.rnn(x, (h0, c0))
            return (out * w_out).sum() + (hn * w_h).sum() + (cn * w_c).sum(), out, hn, cn
        out, hn = mdl.rnn(x, h0)
        return (out * w_out).sum() + (hn * w_h).sum(), out, hn, None

    loss, out, hn, cn = forward()
    params = dict(model.named_parameters())
    leaves = dict(params)
    leaves.update({"input": x, "h0": h0})
    if lstm:
        leaves["c0"] = c0
    names = list(leaves)
    grads = dict(zip(names, torch.autograd.grad(loss, [leaves[n] for n in names])))
    n, worst = fd_check(lambda: forward()[0], leaves, grads)
    print(f"  {filename}: FD check {n} entries, worst rel err {worst:.2e}")

    tensors = dict(params)
    tensors.update({"input": x, "h0": h0, "output": out, "h_n": hn, "loss_weight.output": w_out,
                    "loss_weight.h_n": w_h, "loss": loss.reshape(1)})
    if lstm:
        tensors.update({"c0": c0, "c_n": cn, "loss_weight.c_n": w_c})
    for k in names:
        tensors["grad." + k] = grads[k]
    if adam_steps:
        losses, _, trained = train(model, lambda mdl: forward(mdl)[0],
                                   lambda ps: torch.optim.Adam(ps, lr=0.01), adam_steps, clip=1.0)
        tensors["adam.losses"] = losses
        for k, p in trained.named_parameters():
            tensors["adam." + k] = p
    loss_text = "sum(output*loss_weight.output) + sum(h_n*loss_weight.h_n)" + (" + sum(c_n*loss_weight.c_n)" if lstm else "")
    meta = {"cell": cell, "layers": layers, "dt": dt, "T": T, "B": B, "m": m, "d": d, "seed": seed,
            "weight_scale": "2.0 (weight matrices only, after PyTorch's init)", "loss": loss_text,
            "adam": f"{adam_steps} steps, lr 0.01, clip_grad_norm_(1.0) before each" if adam_steps else "none",
            "compute_dtype": "float64 (stored as float32)"}
    return save(filename, tensors, meta)


def main():
    print("making LSTM/GRU fixtures (with finite-difference checks) ...")
    paths = [
        make("lstm_layer.safetensors", "lstm", seed=21, T=6, B=2, m=3, d=4, layers=1, adam_steps=3),
        make("gru_layer.safetensors", "gru", seed=22, T=6, B=2, m=3, d=4, layers=1, adam_steps=3),
        make("lstm_2layers.safetensors", "lstm", seed=23, T=5, B=2, m=3, d=4, layers=2),
        make("gru_2layers.safetensors", "gru", seed=24, T=5, B=2, m=3, d=4, layers=2),
        make("lem_2layers.safetensors", "lem", seed=25, T=5, B=2, m=3, d=4, layers=2, dt=0.8),
    ]
    print()
    for p in paths:
        describe(p)


if __name__ == "__main__":
    main()
