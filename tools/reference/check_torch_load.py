#!/usr/bin/env python3
"""Load an `lm` checkpoint into torch.nn modules by name (strict) and, given a word-level text,
compute its perplexity in PyTorch, to set beside `lm eval` on the same file.

    python3 tools/reference/check_torch_load.py model.ckpt [--text ptb.test.txt]

The model is rebuilt from the checkpoint's own metadata: nn.Embedding -> nn.LSTM / nn.GRU
(num_layers), one of the authors' LEMCells per layer (attributes lem, lem_l1, ...) or the LRU
model's body (lru_reference.LRUBody: encoder, layers.<k>.{norm, lru, out1, out2}) -> nn.Linear
decoder (tied or not). Every tensor is loaded with load_state_dict(strict=True).
Perplexity is computed as `lm eval` does: one sequential stream from a zero state, the first
token predicted from <eos>, every token of every line plus an <eos> per line.
"""

import argparse
import json
import math
import os
import sys

import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lem_reference import LEMCell  # noqa: E402
from lru_reference import LRUBody  # noqa: E402


class Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        V, m, d, L = cfg["vocabularySize"], cfg["embeddingSize"], cfg["hiddenSize"], cfg.get("layers", 1)
        self.cell, self.layers, self.tied = cfg.get("cell", "lem"), L, cfg["tied"]
        self.embedding = nn.Embedding(V, m)
        if self.cell == "lem":
            self.names = ["lem"] + [f"lem_l{k}" for k in range(1, L)]
            for k, name in enumerate(self.names):
                setattr(self, name, LEMCell(m if k == 0 else d, d, cfg["dt"]))
        elif self.cell == "lru":
            self.body = LRUBody(m, d, L)
            if hasattr(self.body, "encoder"):
                self.encoder = self.body.encoder   # lem names it at the top level
            self.layers = self.body.layers
        else:
            self.rnn = (nn.LSTM if self.cell == "lstm" else nn.GRU)(m, d, num_layers=L)
        self.decoder = nn.Linear(d, V)
        if self.tied:
            del self.decoder.weight

    def forward(self, tokens):
        x = self.embedding(tokens).unsqueeze(1)   # [T, 1, m]
        if self.cell == "lem":
            for name in self.names:
                cell = getattr(self, name)
                y = x.new_zeros(1, cell.nhid)
                z = y.clone()
                outs = []
                for step in x:
                    y, z = cell(step, y, z)
                    outs.append(y)
                x = torch.stack(outs)
        elif self.cell == "lru":
            x, _ = self.body(x)
        else:
            x, _ = self.rnn(x)
        weight = self.embedding.weight if self.tied else self.decoder.weight
        return torch.nn.functional.linear(x[:, 0], weight, self.decoder.bias)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--text", help="word-level text (PTB format) to compute the perplexity of")
    args = ap.parse_args()
    with safe_open(args.checkpoint, "pt") as f:
        meta = f.metadata()
    cfg, tool = json.loads(meta["model"]), json.loads(meta["tool"])
    model = Model(cfg).double()
    state = {k: v.double() for k, v in load_file(args.checkpoint).items()
             if not k.startswith(("optimizer.", "extra."))}
    if model.cell == "lru":   # the body's own copies of encoder/layers (the same modules) are not separate tensors
        state.update({"body." + k: v for k, v in state.items() if k.startswith(("encoder.", "layers."))})
    model.load_state_dict(state, strict=True)  # our names are the module's: embedding., rnn. / lem., decoder.
    print(f"{args.checkpoint}: {cfg.get('layers', 1)} x {cfg.get('cell', 'lem')} loaded with strict=True "
          f"({sum(p.numel() for p in model.parameters()):,} parameters)")
    if not args.text:
        return
    vocab = tool["vocabulary"]["tokens"]
    index = {t: i for i, t in enumerate(vocab)}
    tokens = []
    with open(args.text, encoding="utf-8") as f:
        for line in f:
            tokens += [index[w] if w in index else index["<unk>"] for w in line.split()] + [index["<eos>"]]
    inputs = torch.tensor([index["<eos>"]] + tokens[:-1])
    with torch.no_grad():
        logits = model(inputs)
        nll = torch.nn.functional.cross_entropy(logits, torch.tensor(tokens), reduction="sum").item()
    print(f"{args.text}: perplexity in PyTorch {math.exp(nll / len(tokens)):.6f} over {len(tokens)} tokens")


if __name__ == "__main__":
    main()
