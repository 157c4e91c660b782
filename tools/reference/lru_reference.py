"""The LRU model's body in PyTorch, the one Python version of it (make_lru_fixtures.py computes the
parity fixtures with these functions; check_torch_load.py loads checkpoints into these modules):
Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for Long Sequences", App. A (the
LRU) and App. D.1 (the residual block), with lem's choices: LayerNorm pre-norm (eps 1e-5), the
tanh GELU, N = d // 2 complex states, an encoder only when the input width differs. Parameter
names are lem's (`--cell lru`).

    body = LRUBody(m, d, layers)          # attributes encoder (if m != d), layers[k].{norm, lru, out1, out2}
    y, states = body(x, states)           # x [T, B, m]; states: per layer [B, 2N] (real parts, imaginary parts) or None
"""
import math

import torch
import torch.nn as nn

LRU_NAMES = ("nu_log", "theta_log", "gamma_log", "B_re", "B_im", "C_re", "C_im", "D")


def lru(p, x, h0=None):
    """x [T, B, H] real, h0 [B, N] complex or None -> (y [T, B, H], h_T [B, N] complex):
    lambda = exp(-exp(nu_log) + 1j exp(theta_log)); h_t = lambda * h_{t-1} + exp(gamma_log) * (B x_t);
    y_t = Re(C h_t) + D * x_t (the paper's parallel scan computes the same recurrence)."""
    lam = torch.exp(-torch.exp(p["nu_log"]) + 1j * torch.exp(p["theta_log"]))
    b_norm = (p["B_re"] + 1j * p["B_im"]) * torch.exp(p["gamma_log"]).unsqueeze(-1)
    c = p["C_re"] + 1j * p["C_im"]
    complex_dtype = torch.complex128 if x.dtype == torch.float64 else torch.complex64
    h = torch.zeros(x.shape[1], p["nu_log"].shape[0], dtype=complex_dtype) if h0 is None else h0
    ys = []
    for t in range(x.shape[0]):
        h = lam * h + x[t].to(complex_dtype) @ b_norm.T
        ys.append((h @ c.T).real + p["D"] * x[t])
    return torch.stack(ys), h


def gelu_tanh(v):
    """The paper's JAX nn.gelu (approximate=True): torch's GELU(approximate="tanh")."""
    return 0.5 * v * (1 + torch.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))


def block(p, prefix, x, state=None, mask=None):
    """One residual block, x + GLU(GELU(LRU(LayerNorm(x))) * mask), from the tensors p[prefix + name];
    state [B, 2N] real (real parts, imaginary parts) or None. Returns (output, state after)."""
    n = p[prefix + "lru.nu_log"].shape[0]
    z = nn.functional.layer_norm(x, (x.shape[-1],), p[prefix + "norm.weight"], p[prefix + "norm.bias"], eps=1e-5)
    h0 = None if state is None else torch.complex(state[:, :n], state[:, n:])
    v, h = lru({name: p[prefix + "lru." + name] for name in LRU_NAMES}, z, h0)
    a = gelu_tanh(v) if mask is None else gelu_tanh(v) * mask
    glu = (a @ p[prefix + "out1.weight"].T + p[prefix + "out1.bias"]) * torch.sigmoid(a @ p[prefix + "out2.weight"].T + p[prefix + "out2.bias"])
    return x + glu, torch.cat([h.real, h.imag], dim=1)


class LRU(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        for name in ("nu_log", "theta_log", "gamma_log"):
            setattr(self, name, nn.Parameter(torch.zeros(n)))
        self.B_re, self.B_im = nn.Parameter(torch.zeros(n, d)), nn.Parameter(torch.zeros(n, d))
        self.C_re, self.C_im = nn.Parameter(torch.zeros(d, n)), nn.Parameter(torch.zeros(d, n))
        self.D = nn.Parameter(torch.zeros(d))


class LRUBlock(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d, eps=1e-5)
        self.lru = LRU(d, d // 2)
        self.out1, self.out2 = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x, state=None):
        return block(dict(self.named_parameters()), "", x, state)


class LRUBody(nn.Module):
    def __init__(self, m, d, layers):
        super().__init__()
        if m != d:
            self.encoder = nn.Linear(m, d)
        self.layers = nn.ModuleList(LRUBlock(d) for _ in range(layers))

    def forward(self, x, states=None):
        if hasattr(self, "encoder"):
            x = self.encoder(x)
        out = []
        for k, layer in enumerate(self.layers):
            x, s = layer(x, None if states is None else states[k])
            out.append(s)   # lem's cell-state slot is [B, d]: these 2N values, then a 0 when d is odd
        return x, out
