#!/usr/bin/env python3
"""Make the PyTorch parity fixture of the LRU layer (Orvieto et al. 2023), written from the paper.

The reference below follows the paper's Appendix A (as NicolasZucchet/minimal-LRU's lru/model.py
reproduces it): complex tensors and autograd, a plain loop over time (the paper's parallel scan
computes the same recurrence):

    lambda = exp(-exp(nu_log) + 1j * exp(theta_log))
    h_t    = lambda * h_{t-1} + exp(gamma_log) * (B x_t),   B = B_re + 1j B_im
    y_t    = Re(C h_t) + D * x_t,                           C = C_re + 1j C_im

What it makes (in Tests/LEMModelTests/Fixtures/):

  lru_layer.safetensors   one LRU, H=3 features, N=4 complex states, T=6 steps of B=2 sequences,
                          from a non-zero complex h0

It holds the parameters under the names lem gives them ("layers.0.lru.nu_log", ...), the input
[T, B, H], h0 [B, 2N] (the N real parts then the N imaginary parts of each sequence), the output
[T, B, H], h_n [B, 2N], the weights of the loss L = sum(output*w_out) + sum(h_n*w_h), and the
gradient of L with respect to every parameter, the input and h0 ("grad.<name>").

Conventions as in make_fixtures.py (its helpers are imported): computed in float64 from
float32-rounded inputs and parameters, stored as float32; every gradient is checked against
central finite differences before it is written. The eigenvalues are drawn on the ring
0.5 <= |lambda| <= 0.95 so that six steps keep every term in play.

    pip install torch safetensors && python3 tools/reference/make_lru_fixtures.py
"""

import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures  # noqa: E402
from make_fixtures import describe, f32, fd_check, save  # noqa: E402

make_fixtures.SOURCE = "tools/reference/make_lru_fixtures.py"
PREFIX = "layers.0.lru."


def init_lru(N, H, r_min, r_max, max_phase, gen):
    """The paper's initialisation (App. A), in float64."""
    u1 = torch.rand(N, generator=gen, dtype=torch.float64)
    u2 = torch.rand(N, generator=gen, dtype=torch.float64)
    nu_log = torch.log(-0.5 * torch.log(u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2))
    theta_log = torch.log(max_phase * u2)
    modulus = torch.exp(-torch.exp(nu_log))
    gamma_log = torch.log(torch.sqrt(1 - modulus ** 2))
    return {
        "nu_log": nu_log, "theta_log": theta_log, "gamma_log": gamma_log,
        "B_re": torch.randn(N, H, generator=gen, dtype=torch.float64) / math.sqrt(2 * H),
        "B_im": torch.randn(N, H, generator=gen, dtype=torch.float64) / math.sqrt(2 * H),
        "C_re": torch.randn(H, N, generator=gen, dtype=torch.float64) / math.sqrt(N),
        "C_im": torch.randn(H, N, generator=gen, dtype=torch.float64) / math.sqrt(N),
        "D": torch.randn(H, generator=gen, dtype=torch.float64),
    }


def lru(p, x, h0):
    """x [T, B, H] real, h0 [B, N] complex -> (y [T, B, H], h_T [B, N] complex)."""
    lam = torch.exp(-torch.exp(p["nu_log"]) + 1j * torch.exp(p["theta_log"]))
    b_norm = (p["B_re"] + 1j * p["B_im"]) * torch.exp(p["gamma_log"]).unsqueeze(-1)
    c = p["C_re"] + 1j * p["C_im"]
    h, ys = h0, []
    for t in range(x.shape[0]):
        h = lam * h + x[t].to(torch.complex128) @ b_norm.T
        ys.append((h @ c.T).real + p["D"] * x[t])
    return torch.stack(ys), h


def main():
    T, B, H, N = 6, 2, 3, 4
    gen = torch.Generator().manual_seed(11)
    params = {k: f32(v).requires_grad_() for k, v in init_lru(N, H, 0.5, 0.95, 6.28, gen).items()}
    x = f32(torch.randn(T, B, H, generator=gen, dtype=torch.float64)).requires_grad_()
    h0 = f32(0.5 * torch.randn(B, 2 * N, generator=gen, dtype=torch.float64)).requires_grad_()
    w_out = f32(torch.randn(T, B, H, generator=gen, dtype=torch.float64))
    w_h = f32(torch.randn(B, 2 * N, generator=gen, dtype=torch.float64))

    def loss_fn():
        y, h_n = lru(params, x, torch.complex(h0[:, :N], h0[:, N:]))
        return (y * w_out).sum() + (torch.cat([h_n.real, h_n.imag], dim=1) * w_h).sum()

    loss = loss_fn()
    leaves = {**params, "input": x, "h0": h0}
    grads = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))
    count, worst = fd_check(loss_fn, leaves, grads)
    print(f"finite differences: {count} entries, worst relative error {worst:.2e}")

    with torch.no_grad():
        y, h_n = lru(params, x, torch.complex(h0[:, :N], h0[:, N:]))
    tensors = {PREFIX + k: v.detach() for k, v in params.items()}
    tensors.update({"input": x.detach(), "h0": h0.detach(), "output": y, "h_n": torch.cat([h_n.real, h_n.imag], dim=1),
                    "loss_weight.output": w_out, "loss_weight.h_n": w_h, "loss": loss.detach().reshape(1)})
    for k, g in grads.items():
        tensors["grad." + (PREFIX + k if k in params else k)] = g
    path = save("lru_layer.safetensors", tensors, {"T": T, "B": B, "H": H, "N": N, "prefix": PREFIX})
    describe(path)


if __name__ == "__main__":
    main()
