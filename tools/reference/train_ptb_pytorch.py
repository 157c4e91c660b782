#!/usr/bin/env python3
"""The authors' PyTorch LEM trained on PTB with the recipe of `lm train --preset ptb-word|ptb-char`,
for a wall-clock budget, to set `lm`'s perplexity at equal time beside it (docs/REPRODUCTION.md).

    python3 tools/reference/train_ptb_pytorch.py --data ../shared/data/ptb --level word \
        --minutes 30 --threads 2 --json > torch-word.jsonl
    python3 tools/reference/train_ptb_pytorch.py --data ../shared/data/ptb --level char --hidden 512 \
        --minutes 120 --threads 1 --json > torch-char512.jsonl

The recipe is the one `Sources/lm/Presets.swift` documents, written out in PyTorch:
- the model: nn.Embedding -> the authors' LEMCell (lem_reference.py; dt 1) -> decoder (tied
  for words), the authors' initialisation (uniform +-1/sqrt(d); embedding and untied decoder
  +-0.1, decoder bias 0, as pytorch/examples and `lm` do);
- batching as pytorch/examples and `lm`: the training tokens cut into B equal streams, windows
  of T steps, the state carried from window to window;
- dropout: input (embedding) and output a fresh mask per element and step, state dropout one
  mask per sequence per window on the y entering hid2hid;
- loss: mean cross-entropy per token + (lambda/T) * 0.5 * sum(w^2) over every parameter (lamb's
  L2 penalty on a loss summed over the window), clipped at clip/T, Adam at a constant rate;
- weight averaging (the mean of the weights after every step) from `average_after` epochs
  without improvement or epoch `average_at` (lamb's 50 / 25 turns of 200 steps and turn
  800 / 400, in epochs of full PTB, as Presets.swift converts them); validation and the
  reported best use the average;
- every validation: exact, one stream from a zero state, at the softmax temperature lamb's
  search picks (grid 1.06 .. 0.80, step 0.02, stop after two misses, first 50k tokens).

Prints one line (or JSON object) per validation: epoch, step, training seconds, valid loss and
perplexity / bpc, temperature. The JSON lines are also a metrics log for `lm plot`:

    lm plot lm-word.ckpt.metrics.jsonl torch-word.jsonl --x minutes --out word.svg
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lem_reference import LEMCell  # noqa: E402

PRESETS = {
    "word": dict(files=("ptb.train.txt", "ptb.valid.txt"), emb=256, hid=256, tied=True, batch=64, bptt=70, lr=6.843583e-4,
                 clip=4.0, l2=3.3147315e-4, p_in=0.42476248, p_out=0.45676568, p_state=0.19633964, average_after=48, average_at=773),
    "char": dict(files=("ptb.char.train.txt", "ptb.char.valid.txt"), emb=200, hid=1024, tied=False, batch=128, bptt=150, lr=6.582658e-4,
                 clip=1.0, l2=2.6324632e-4, p_in=0.047444744, p_out=0.19081908, p_state=0.18549855, average_after=19, average_at=306),
}
GRID = [1.06 - 0.02 * i for i in range(14)]


def read_tokens(path, vocab=None):
    """Words of every line plus <eos> per line (Mikolov's convention, as `lm`)."""
    tokens = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            tokens += line.split() + ["<eos>"]
    if vocab is None:
        vocab = {w: i for i, w in enumerate(sorted(set(tokens)))}
    unknown = [w for w in set(tokens) if w not in vocab]
    if unknown and "<unk>" not in vocab:
        sys.exit(f"{path}: {len(unknown)} words not in the training vocabulary (e.g. {unknown[0]!r}) and no <unk>")
    return torch.tensor([vocab.get(w, vocab.get("<unk>", 0)) for w in tokens], dtype=torch.long), vocab


class Model(nn.Module):
    def __init__(self, V, c):
        super().__init__()
        self.embedding = nn.Embedding(V, c["emb"])
        self.lem = LEMCell(c["emb"], c["hid"], 1.0)
        self.decoder = nn.Linear(c["hid"], V)
        self.tied, self.c = c["tied"], c
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        if self.tied:
            del self.decoder.weight
        else:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    def forward(self, tokens, y, z, training):
        c = self.c
        x = self.embedding(tokens)                              # [T, B, m]
        if training and c["p_in"] > 0:
            x = nn.functional.dropout(x, c["p_in"])             # per element and step
        state_mask = None
        if training and c["p_state"] > 0:
            keep = 1 - c["p_state"]
            state_mask = torch.bernoulli(torch.full_like(y, keep)) / keep   # one mask per sequence and window
        outs = []
        for step in x:
            y_in = y if state_mask is None else y * state_mask
            # The authors' cell with the dropped y entering hid2hid (the state dropout), the raw y carried.
            cell = self.lem
            i_dt1, i_dt2, i_z, i_y = cell.inp2hid(step).chunk(4, 1)
            h_dt1, h_dt2, h_y = cell.hid2hid(y_in).chunk(3, 1)
            ms_dt_bar = torch.sigmoid(i_dt1 + h_dt1)
            ms_dt = torch.sigmoid(i_dt2 + h_dt2)
            z = (1 - ms_dt) * z + ms_dt * torch.tanh(i_y + h_y)
            y = (1 - ms_dt_bar) * y + ms_dt_bar * torch.tanh(cell.transform_z(z) + i_z)
            outs.append(y)
        o = torch.stack(outs)
        if training and c["p_out"] > 0:
            o = nn.functional.dropout(o, c["p_out"])
        weight = self.embedding.weight if self.tied else self.decoder.weight
        return nn.functional.linear(o, weight, self.decoder.bias), y, z


@torch.no_grad()
def evaluate(model, tokens, eos, window):
    """Summed NLL at every grid temperature over one stream from a zero state, and over the first 50k tokens."""
    d = model.c["hid"]
    y = torch.zeros(1, d)
    z = torch.zeros(1, d)
    inputs = torch.cat([torch.tensor([eos]), tokens[:-1]])
    full = torch.zeros(len(GRID), dtype=torch.float64)
    search = torch.zeros(len(GRID), dtype=torch.float64)
    scales = torch.tensor(GRID).view(-1, 1, 1)
    for start in range(0, len(tokens), window):
        inp = inputs[start:start + window].view(-1, 1)
        tgt = tokens[start:start + window]
        logits, y, z = model(inp, y, z, training=False)
        scaled = logits[:, 0].unsqueeze(0) * scales                          # [G, n, V]
        nll = -torch.log_softmax(scaled, dim=2).gather(2, tgt.view(1, -1, 1).expand(len(GRID), -1, 1))[:, :, 0]
        full += nll.double().sum(1)
        inside = max(0, min(len(tgt), 50_000 - start))
        search += nll[:, :inside].double().sum(1)
    best = 0
    for i in range(1, len(GRID)):
        if search[i] < search[best]:
            best = i
        elif best + 1 < i:
            break
    return full[best].item() / len(tokens), GRID[best]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--level", choices=["word", "char"], default="word")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hidden", type=int, help="state size instead of the preset's (as `lm train --hidden`)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    c = dict(PRESETS[args.level])
    if args.hidden:
        c["hid"] = args.hidden
    train, vocab = read_tokens(os.path.join(args.data, c["files"][0]))
    valid, _ = read_tokens(os.path.join(args.data, c["files"][1]), vocab)
    eos = vocab["<eos>"]
    B, T = c["batch"], c["bptt"]
    n = (len(train) // B) * B
    streams = train[:n].view(B, -1).t().contiguous()              # [length, B]
    model = Model(len(vocab), c)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=c["lr"], betas=(0.9, 0.999), eps=1e-8)
    l2, clip = c["l2"] / T, c["clip"] / T
    average, averaged, best, best_epoch = None, 0, None, 0
    seconds, step, epoch = 0.0, 0, 0
    while seconds < args.minutes * 60:
        epoch += 1
        y = torch.zeros(B, c["hid"])
        z = torch.zeros(B, c["hid"])
        model.train()
        for start in range(0, streams.size(0) - 1, T):
            if seconds >= args.minutes * 60:
                break
            t0 = time.monotonic()
            steps = min(T, streams.size(0) - 1 - start)
            inp, tgt = streams[start:start + steps], streams[start + 1:start + 1 + steps]
            logits, y, z = model(inp, y.detach(), z.detach(), training=True)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1))
            loss = loss + l2 * 0.5 * sum((p * p).sum() for p in params)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, clip)
            opt.step()
            step += 1
            if average is not None:
                for a, p in zip(average, params):
                    a += p.detach().double()
                averaged += 1
            seconds += time.monotonic() - t0
        model.eval()
        if average is not None:
            raw = [p.detach().clone() for p in params]
            for a, p in zip(average, params):
                p.data.copy_((a / averaged).float())
        mean, temperature = evaluate(model, valid, eos, T)
        if average is not None:
            for r, p in zip(raw, params):
                p.data.copy_(r)
        if best is None or mean < best:
            best, best_epoch = mean, epoch
        if average is None and (epoch - best_epoch >= c["average_after"] or epoch >= c["average_at"]):
            average = [torch.zeros_like(p, dtype=torch.float64) for p in params]
        metric = math.exp(mean) if args.level == "word" else mean / math.log(2)
        # "event", "metric" and "elapsed_s" as in lm's metrics log, so `lm plot` draws both runs together.
        row = {"event": "valid", "epoch": epoch, "step": step, "train_seconds": seconds, "elapsed_s": seconds,
               "valid_loss": mean, ("valid_ppl" if args.level == "word" else "valid_bpc"): metric, "metric": metric,
               "temperature": temperature, "averaged": averaged}
        print(json.dumps(row) if args.json else
              f"epoch {epoch} step {step} {seconds / 60:.1f} min: valid {'ppl' if args.level == 'word' else 'bpc'} {metric:.3f} "
              f"(temperature {temperature:.2f}{', averaged' if averaged else ''})", flush=True)


if __name__ == "__main__":
    main()
