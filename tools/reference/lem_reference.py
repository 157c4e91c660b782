"""Reference LEM (Long Expressive Memory) cell in PyTorch.

This restates the LEM cell of the authors' code, tk-rusch/LEM,
`src/Google12/network.py` (older layout: `Google12/network.py`), written out
here so the fixtures can be regenerated without cloning that repository.
The math and the initialisation are the same:

    i_dt1, i_dt2, i_z, i_y = inp2hid(x).chunk(4, 1)
    h_dt1, h_dt2, h_y      = hid2hid(y).chunk(3, 1)
    ms_dt_bar = dt * sigmoid(i_dt1 + h_dt1)
    ms_dt     = dt * sigmoid(i_dt2 + h_dt2)
    z = (1 - ms_dt)     * z + ms_dt     * tanh(i_y + h_y)
    y = (1 - ms_dt_bar) * y + ms_dt_bar * tanh(transform_z(z) + i_z)

Init: every parameter (weights and biases) ~ uniform(-1/sqrt(nhid), 1/sqrt(nhid)).

`lem_sequence` is the authors' loop `for x in input: y, z = cell(x, y, z)`,
and it also collects every y_t (as the PTB word model does).
The authors' input dropout is left out because the fixtures use no dropout.
"""

import math

import torch
import torch.nn as nn


class LEMCell(nn.Module):
    def __init__(self, ninp, nhid, dt):
        super().__init__()
        self.ninp = ninp
        self.nhid = nhid
        self.dt = dt
        self.inp2hid = nn.Linear(ninp, 4 * nhid)
        self.hid2hid = nn.Linear(nhid, 3 * nhid)
        self.transform_z = nn.Linear(nhid, nhid)
        self.reset_parameters()

    def reset_parameters(self):
        std = 1.0 / math.sqrt(self.nhid)
        for w in self.parameters():
            w.data.uniform_(-std, std)

    def forward(self, x, y, z):
        transformed_inp = self.inp2hid(x)
        transformed_hid = self.hid2hid(y)
        i_dt1, i_dt2, i_z, i_y = transformed_inp.chunk(4, 1)
        h_dt1, h_dt2, h_y = transformed_hid.chunk(3, 1)

        ms_dt_bar = self.dt * torch.sigmoid(i_dt1 + h_dt1)
        ms_dt = self.dt * torch.sigmoid(i_dt2 + h_dt2)

        z = (1. - ms_dt) * z + ms_dt * torch.tanh(i_y + h_y)
        y = (1. - ms_dt_bar) * y + ms_dt_bar * torch.tanh(self.transform_z(z) + i_z)

        return y, z


def lem_sequence(cell, inputs, y, z):
    """Run `cell` over inputs [T, B, ninp] from state (y, z), each [B, nhid].

    Returns (output [T, B, nhid] = stack of y_1..y_T, y_T, z_T).
    """
    ys = []
    for x in inputs:
        y, z = cell(x, y, z)
        ys.append(y)
    return torch.stack(ys, 0), y, z
