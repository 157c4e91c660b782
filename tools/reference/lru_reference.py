"""The LRU model's body as torch.nn modules whose parameter names are lem's (`--cell lru`):
Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks for Long Sequences", App. A (the
LRU) and App. D.1 (the residual block), with lem's choices: LayerNorm pre-norm (eps 1e-5), the
tanh GELU, N = d // 2 complex states, an encoder only when the input width differs.

    body = LRUBody(m, d, layers)          # attributes encoder (if m != d), layers[k].{norm, lru, out1, out2}
    y, states = body(x, states)           # x [T, B, m]; states: per layer [B, 2N] (real parts, imaginary parts) or None
"""
import math

import torch
import torch.nn as nn


class LRU(nn.Module):
    """h_t = lambda * h_{t-1} + exp(gamma_log) * (B x_t);  y_t = Re(C h_t) + D * x_t."""

    def __init__(self, d, n):
        super().__init__()
        self.n = n
        self.nu_log, self.theta_log, self.gamma_log = (nn.Parameter(torch.zeros(n)) for _ in range(3))
        self.B_re, self.B_im = nn.Parameter(torch.zeros(n, d)), nn.Parameter(torch.zeros(n, d))
        self.C_re, self.C_im = nn.Parameter(torch.zeros(d, n)), nn.Parameter(torch.zeros(d, n))
        self.D = nn.Parameter(torch.zeros(d))

    def forward(self, x, state=None):
        lam = torch.exp(-torch.exp(self.nu_log) + 1j * torch.exp(self.theta_log))
        b = (self.B_re + 1j * self.B_im) * torch.exp(self.gamma_log).unsqueeze(-1)
        c = self.C_re + 1j * self.C_im
        complex_dtype = torch.complex128 if x.dtype == torch.float64 else torch.complex64
        h = torch.zeros(x.shape[1], self.n, dtype=complex_dtype) if state is None else torch.complex(state[:, :self.n], state[:, self.n:])
        ys = []
        for t in range(x.shape[0]):
            h = lam * h + x[t].to(complex_dtype) @ b.T
            ys.append((h @ c.T).real + self.D * x[t])
        return torch.stack(ys), torch.cat([h.real, h.imag], dim=1)


class LRUBlock(nn.Module):
    """x + GLU(GELU(LRU(LayerNorm(x))))."""

    def __init__(self, d):
        super().__init__()
        self.norm = nn.LayerNorm(d, eps=1e-5)
        self.lru = LRU(d, d // 2)
        self.out1, self.out2 = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x, state=None):
        v, state = self.lru(self.norm(x), state)
        a = nn.functional.gelu(v, approximate="tanh")
        return x + self.out1(a) * torch.sigmoid(self.out2(a)), state


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
        for k, block in enumerate(self.layers):
            x, s = block(x, None if states is None else states[k])
            # lem's cell-state slot is [B, d]: 2N values, then a 0 when d is odd
            out.append(s)
        return x, out
