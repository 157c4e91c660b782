#!/usr/bin/env python3
"""Make the PyTorch parity fixture of the LRU layer (Orvieto et al. 2023), written from the paper.

The reference (lru_reference.py) follows the paper's Appendix A (as NicolasZucchet/minimal-LRU's lru/model.py
reproduces it): complex tensors and autograd, a plain loop over time (the paper's parallel scan
computes the same recurrence):

    lambda = exp(-exp(nu_log) + 1j * exp(theta_log))
    h_t    = lambda * h_{t-1} + exp(gamma_log) * (B x_t),   B = B_re + 1j B_im
    y_t    = Re(C h_t) + D * x_t,                           C = C_re + 1j C_im

What it makes (in Tests/LEMModelTests/Fixtures/):

  lru_layer.safetensors   one LRU, H=3 features, N=4 complex states, T=6 steps of B=2 sequences,
                          from a non-zero complex h0
  lru_2blocks.safetensors the paper's model body as lem's `--cell lru` stacks it: an encoder
                          (m=3 -> H=6), then two residual blocks x + GLU(GELU(LRU(LayerNorm(x))) * mask)
                          with N = H/2 = 3 complex states each, T=5, B=2, from non-zero states;
                          names encoder.*, layers.<k>.{norm,lru,out1,out2}.*; per block the output
                          [T, B, H], its last step ("h_n" [L, B, H]) and the complex state ("c_n"
                          [L, B, H] = real parts, imaginary parts); loss sum(output*w_out) +
                          sum(h_n*w_h) + sum(c_n*w_c); the dropout masks [L, B, H] (one per sequence
                          and feature for every step, scaled by 1/(1-p)) are inputs

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
from lru_reference import block, lru  # noqa: E402  (the one Python LRU: also check_torch_load.py's)

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


def checked_gradients(what, loss_fn, leaves, floor=1e-3):
    """The loss and autograd's gradient for every leaf, each checked by central finite differences
    (relative error against max(|autograd|, |fd|, floor): a larger model's larger loss needs a larger floor)."""
    loss = loss_fn()
    grads = dict(zip(leaves, torch.autograd.grad(loss, list(leaves.values()))))
    count, worst = fd_check(loss_fn, leaves, grads, floor=floor)
    print(f"{what}, finite differences: {count} entries, worst relative error {worst:.2e}")
    return loss, grads


def make_blocks(T, B, m, H, L, filename, seed, floor=1e-3):
    N = H // 2
    gen = torch.Generator().manual_seed(seed)
    params = {"encoder.weight": torch.randn(H, m, generator=gen, dtype=torch.float64) / math.sqrt(m),
              "encoder.bias": 0.1 * torch.randn(H, generator=gen, dtype=torch.float64)}
    for k in range(L):
        p = f"layers.{k}."
        params[p + "norm.weight"] = 1 + 0.2 * torch.randn(H, generator=gen, dtype=torch.float64)
        params[p + "norm.bias"] = 0.1 * torch.randn(H, generator=gen, dtype=torch.float64)
        for name, v in init_lru(N, H, 0.5, 0.95, 6.28, gen).items():
            params[p + "lru." + name] = v
        for o in ("out1", "out2"):
            params[p + o + ".weight"] = torch.randn(H, H, generator=gen, dtype=torch.float64) / math.sqrt(H)
            params[p + o + ".bias"] = 0.1 * torch.randn(H, generator=gen, dtype=torch.float64)
    params = {k: f32(v).requires_grad_() for k, v in params.items()}
    x = f32(torch.randn(T, B, m, generator=gen, dtype=torch.float64)).requires_grad_()
    c0 = f32(0.5 * torch.randn(L, B, H, generator=gen, dtype=torch.float64)).requires_grad_()
    masks = (torch.rand(L, B, H, generator=gen, dtype=torch.float64) > 0.3).double() / 0.7
    w_out = f32(torch.randn(T, B, H, generator=gen, dtype=torch.float64))
    w_h = f32(torch.randn(L, B, H, generator=gen, dtype=torch.float64))
    w_c = f32(torch.randn(L, B, H, generator=gen, dtype=torch.float64))

    def body():
        u = x @ params["encoder.weight"].T + params["encoder.bias"]
        finals, states = [], []
        for k in range(L):
            u, state = block(params, f"layers.{k}.", u, c0[k], masks[k])
            finals.append(u[-1])
            states.append(state)
        return u, torch.stack(finals), torch.stack(states)

    def loss_fn():
        out, h_n, c_n = body()
        return (out * w_out).sum() + (h_n * w_h).sum() + (c_n * w_c).sum()

    loss, grads = checked_gradients(filename, loss_fn, {**params, "input": x, "c0": c0}, floor)
    with torch.no_grad():
        out, h_n, c_n = body()
    tensors = {k: v.detach() for k, v in params.items()}
    tensors.update({"input": x.detach(), "c0": c0.detach(), "masks": masks, "output": out, "h_n": h_n, "c_n": c_n,
                    "loss_weight.output": w_out, "loss_weight.h_n": w_h, "loss_weight.c_n": w_c, "loss": loss.detach().reshape(1)})
    for k, g in grads.items():
        tensors["grad." + k] = g
    path = save(filename, tensors, {"T": T, "B": B, "m": m, "H": H, "layers": L})
    describe(path)


def main():
    # The widths take every path of the 16-lane passes: H = 6, rows and states partial chunks
    # (N = 3); H = 16, full rows and half-register states (N = 8, FitzHugh-Nagumo's shape);
    # H = 40, rows of 16 + 16 + 8 and states of 16 + 4.
    make_blocks(5, 2, 3, 6, 2, "lru_2blocks.safetensors", 12)
    make_blocks(4, 3, 3, 16, 2, "lru_2blocks_h16.safetensors", 13, floor=1e-2)
    make_blocks(3, 2, 3, 40, 1, "lru_block_h40.safetensors", 14, floor=1e-2)
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

    loss, grads = checked_gradients("one layer", loss_fn, {**params, "input": x, "h0": h0})

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
