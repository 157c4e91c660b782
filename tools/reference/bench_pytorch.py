#!/usr/bin/env python3
"""CPU speed of the authors' PyTorch LEM (and of torch.nn.LSTM) on this machine.

The reference numbers for docs/BENCHMARKS.md. The LEM is the authors' cell,
tools/reference/lem_reference.py (a restatement of tk-rusch/LEM's LEMCell:
inp2hid Linear(m, 4d), hid2hid Linear(d, 3d), transform_z Linear(d, d)), run
the way the authors run it: a python loop over the time steps. The LSTM and GRU
rows (--impls lem,lstm,gru) use torch.nn.LSTM / torch.nn.GRU (one layer, same
hidden size; oneDNN kernels) in place of that loop.

Everything is float32 on the CPU with torch.set_num_threads(THREADS) (2 by
default), on random data (no dataset is read).

Configurations (config name: what is timed, figure):

  word-train      tied word LM: Embedding(10000, 256) -> LEM/LSTM(256, 256) ->
                  Linear(256, 10000) whose weight is the embedding's; batch 64,
                  BPTT 70, mean cross-entropy over all 64*70 tokens, no
                  dropout, state carried (detached) from step to step; one
                  step = forward + backward + Adam step.          tokens/s
  char-train      char LM: Embedding(50, 200) -> LEM/LSTM(200, 1024) ->
                  Linear(1024, 50), untied; batch 128, BPTT 150.  tokens/s
  kws-train       the authors' Google12 model, LEM(ninp=80, nhid=128, nout=12)
                  with input dropout 0.03 (tk-rusch/LEM Google12/network.py):
                  126 frames, batch 100, classifier on the last y; the LSTM row
                  is the same input dropout -> nn.LSTM(80, 128) -> Linear(128,
                  12) on the last output.                          frames/s
                  (= 126 * 100 / seconds per step)
  word-sample-b1  the word model at batch 1 under torch.no_grad(): feed one
                  token, 10000 logits, softmax, torch.multinomial, feed the
                  sampled token back; passes of 500 tokens.        tokens/s
  kws-latency-b1  one forward of the kws model (eval mode, no_grad) on a
                  [126, 1, 80] tensor.                              ms per clip
  sgemm-2048      torch.mm of two 2048x2048 float32 matrices, best of 5.
                                                                    GFLOP/s

Contention: another process on the machine slows these figures a lot (with 2
OpenMP threads on 2 cores, one busy core can make a step many times slower,
not just 2x). Every row therefore records "others_cpu": the CPU time used by
other processes during that measurement (from /proc/stat minus this
process's own CPU time) as a fraction of all cores (0 = the machine was ours),
"steal" likewise, the median and minimum step times, and the 1/5/15-minute
load average at its start (which includes this benchmark's own 2 threads).
Run it several times and take the best.

Training timing: WARMUP (2) steps untimed, then steps until at least
--min-time (10) seconds and at least --min-steps (5) steps have been timed;
the figure is work / total timed seconds. char-train (a python loop of 150
steps at hidden 1024, about 4 s per LEM step on a 2-core Xeon) follows the
same rule unless --char-steps N is given, which times exactly N steps after
--char-warmup (default 1) steps, for a slow machine. Each row also records the
seconds per step and the load average when that measurement started.

Usage (from the repo root):

    python3 tools/reference/bench_pytorch.py            # table
    python3 tools/reference/bench_pytorch.py --json     # JSON lines on stdout
    python3 tools/reference/bench_pytorch.py --only word-train,sgemm-2048

    # several runs, then best and median per figure:
    for i in 1 2 3; do
        nice -n -5 python3 tools/reference/bench_pytorch.py --json > /tmp/bench_$i.jsonl
    done
    python3 tools/reference/bench_pytorch.py --summarize /tmp/bench_*.jsonl

With --json, stdout holds only the JSON objects (one per line, keys impl =
"pytorch-lem" / "pytorch-lstm" / "torch", config, the figure (tokens_per_s /
frames_per_s / latency_ms / gflops), and extra detail keys); the header
(versions, CPU, threads, load averages) goes to stderr.
"""

import argparse
import functools
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lem_reference import LEMCell, lem_sequence  # noqa: E402

CONFIGS = ["word-train", "char-train", "kws-train",
           "word-sample-b1", "kws-latency-b1", "sgemm-2048"]

UNITS = {"tokens_per_s": "tokens/s", "frames_per_s": "frames/s",
         "latency_ms": "ms/clip", "gflops": "GFLOP/s"}
# For these figures smaller is better.
LOWER_IS_BETTER = {"latency_ms"}


# ---------------------------------------------------------------- models

class LEMWordLM(nn.Module):
    """Embedding -> LEM (authors' cell, python time loop) -> decoder."""

    def __init__(self, vocab, ninp, nhid, tie):
        super().__init__()
        self.nhid = nhid
        self.encoder = nn.Embedding(vocab, ninp)
        self.cell = LEMCell(ninp, nhid, 1.0)
        self.decoder = nn.Linear(nhid, vocab)
        if tie:
            assert ninp == nhid
            self.decoder.weight = self.encoder.weight

    def init_state(self, batch):
        z = torch.zeros(batch, self.nhid)
        return (z, z.clone())

    def forward(self, tokens, state):
        emb = self.encoder(tokens)                      # [T, B, ninp]
        out, y, z = lem_sequence(self.cell, emb, *state)
        return self.decoder(out), (y, z)                # [T, B, V]

    def step(self, token, state):
        """One token [B] -> logits [B, V] (the sampling path)."""
        y, z = self.cell(self.encoder(token), *state)
        return self.decoder(y), (y, z)


class RNNWordLM(nn.Module):
    """Embedding -> nn.LSTM or nn.GRU (1 layer) -> decoder."""

    def __init__(self, kind, vocab, ninp, nhid, tie):
        super().__init__()
        self.kind = kind
        self.nhid = nhid
        self.encoder = nn.Embedding(vocab, ninp)
        self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(ninp, nhid, 1)
        self.decoder = nn.Linear(nhid, vocab)
        if tie:
            assert ninp == nhid
            self.decoder.weight = self.encoder.weight

    def init_state(self, batch):
        z = torch.zeros(1, batch, self.nhid)
        return (z, z.clone()) if self.kind == "lstm" else z

    def forward(self, tokens, state):
        out, state = self.rnn(self.encoder(tokens), state)
        return self.decoder(out), state

    def step(self, token, state):
        out, state = self.rnn(self.encoder(token).unsqueeze(0), state)
        return self.decoder(out[0]), state


class LEMClassifier(nn.Module):
    """tk-rusch/LEM Google12/network.py `LEM(ninp, nhid, nout, dt=1., drop)`:
    input dropout, the cell over time from y = z = 0, classifier on last y."""

    def __init__(self, ninp, nhid, nout, dt=1.0, drop=0.03):
        super().__init__()
        self.nhid = nhid
        self.cell = LEMCell(ninp, nhid, dt)
        self.dropout = nn.Dropout(drop)
        self.classifier = nn.Linear(nhid, nout)

    def forward(self, input):
        y = input.new_zeros(input.size(1), self.nhid)
        z = input.new_zeros(input.size(1), self.nhid)
        input = self.dropout(input)
        for x in input:
            y, z = self.cell(x, y, z)
        return self.classifier(y)


class RNNClassifier(nn.Module):
    """Same input dropout -> nn.LSTM or nn.GRU(ninp, nhid) -> Linear on the last output."""

    def __init__(self, kind, ninp, nhid, nout, drop=0.03):
        super().__init__()
        self.dropout = nn.Dropout(drop)
        self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(ninp, nhid, 1)
        self.classifier = nn.Linear(nhid, nout)

    def forward(self, input):
        out, _ = self.rnn(self.dropout(input))
        return self.classifier(out[-1])


# ---------------------------------------------------------------- timing

def loadavg():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def cpu_snapshot():
    """(machine busy seconds, steal seconds, this process's CPU seconds, wall)."""
    busy = steal = 0.0
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
        # user nice system idle iowait irq softirq steal ...
        busy = (v[0] + v[1] + v[2] + v[5] + v[6]) / hz
        steal = (v[7] / hz) if len(v) > 7 else 0.0
    except (OSError, ValueError, IndexError):
        pass
    t = os.times()
    return busy, steal, t.user + t.system, time.perf_counter()


def contention(a, b):
    """CPU used by OTHER processes (and steal) between two snapshots, as a
    fraction of all cores: 0 = the machine was ours, 0.5 = one of 2 cores."""
    wall = (b[3] - a[3]) * (os.cpu_count() or 1)
    if wall <= 0:
        return None, None
    others = max(0.0, (b[0] - a[0]) - (b[2] - a[2]))
    return round(others / wall, 3), round((b[1] - a[1]) / wall, 3)


def time_steps(step, warmup, min_steps, min_time):
    """Run `step` warmup times, then until >= min_steps and >= min_time s.
    Returns (timed steps, total seconds, list of per-step seconds)."""
    for _ in range(warmup):
        step()
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
        if len(times) >= min_steps and time.perf_counter() - start >= min_time:
            break
    return len(times), sum(times), times


def bench_lm_train(model, vocab, batch, bptt, warmup, min_steps, min_time):
    gen = torch.Generator().manual_seed(1)
    # A few pre-made random batches, cycled (data making is not timed).
    batches = [torch.randint(0, vocab, (bptt + 1, batch), generator=gen)
               for _ in range(4)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    st = {"state": model.init_state(batch), "i": 0}

    def step():
        data = batches[st["i"] % len(batches)]
        st["i"] += 1
        inp, tgt = data[:-1], data[1:]
        state = st["state"]
        state = state.detach() if torch.is_tensor(state) else tuple(s.detach() for s in state)
        opt.zero_grad()
        logits, state = model(inp, state)
        loss = F.cross_entropy(logits.reshape(-1, vocab), tgt.reshape(-1))
        loss.backward()
        opt.step()
        st["state"] = state

    n, secs, times = time_steps(step, warmup, min_steps, min_time)
    return n * batch * bptt / secs, n, secs, times


def bench_kws_train(model, frames, batch, ninp, nout, warmup, min_steps, min_time):
    gen = torch.Generator().manual_seed(2)
    batches = [(torch.randn(frames, batch, ninp, generator=gen),
                torch.randint(0, nout, (batch,), generator=gen)) for _ in range(4)]
    opt = torch.optim.Adam(model.parameters(), lr=0.00089)
    model.train()
    st = {"i": 0}

    def step():
        x, t = batches[st["i"] % len(batches)]
        st["i"] += 1
        opt.zero_grad()
        loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()

    n, secs, times = time_steps(step, warmup, min_steps, min_time)
    return n * batch * frames / secs, n, secs, times


def bench_sample(model, vocab, tokens, min_passes, min_time):
    model.eval()
    gen = torch.Generator().manual_seed(3)

    def one_pass(count):
        with torch.no_grad():
            state = model.init_state(1)
            tok = torch.zeros(1, dtype=torch.long)
            for _ in range(count):
                logits, state = model.step(tok, state)
                probs = torch.softmax(logits, dim=-1)
                tok = torch.multinomial(probs, 1, generator=gen).view(1)

    one_pass(50)  # warm-up
    n, secs, times = time_steps(lambda: one_pass(tokens), 0, min_passes, min_time)
    return n * tokens / secs, n, secs, times


def bench_latency(model, frames, ninp, min_reps, min_time):
    model.eval()
    x = torch.randn(frames, 1, ninp, generator=torch.Generator().manual_seed(4))

    def step():
        with torch.no_grad():
            model(x)

    n, secs, times = time_steps(step, 5, min_reps, min_time)
    # Median per clip (robust to another process on the machine); mean kept too.
    return statistics.median(times) * 1e3, n, secs, times


def bench_sgemm(n=2048, reps=5):
    gen = torch.Generator().manual_seed(5)
    a = torch.randn(n, n, generator=gen)
    b = torch.randn(n, n, generator=gen)
    torch.mm(a, b)  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / min(times) / 1e9, reps, sum(times), times


# ---------------------------------------------------------------- output

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def fmt_fig(key, v):
    if key == "latency_ms":
        return f"{v:.3f}"
    if key == "gflops":
        return f"{v:.1f}"
    return f"{v:,.0f}"


def run(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    info = sys.stderr if args.json else sys.stdout

    def say(s):
        print(s, file=info, flush=True)

    say(f"# torch {torch.__version__}  mkldnn available: "
        f"{torch.backends.mkldnn.is_available()}  threads: {torch.get_num_threads()}"
        f" (interop {torch.get_num_interop_threads()})")
    say(f"# cpu: {cpu_model()}  ({os.cpu_count()} logical CPUs)  nice: {os.nice(0)}")
    load_start = loadavg()
    say(f"# loadavg at start: {load_start}")

    only = set(args.only.split(",")) if args.only else set(CONFIGS)
    unknown = only - set(CONFIGS)
    if unknown:
        sys.exit(f"unknown config(s): {', '.join(sorted(unknown))}; "
                 f"known: {', '.join(CONFIGS)}")

    rows = []

    snap = {}

    def start():
        snap["la"] = loadavg()
        snap["cpu"] = cpu_snapshot()
        torch.manual_seed(0)

    def emit(impl, config, key, value, n, secs, times):
        others, steal = contention(snap["cpu"], cpu_snapshot())
        rec = {"impl": impl, "config": config, key: round(value, 4),
               "timed_steps": n, "timed_s": round(secs, 3),
               "s_per_step": round(secs / n, 5),
               "median_step_s": round(statistics.median(times), 5),
               "min_step_s": round(min(times), 5),
               "loadavg": snap["la"], "others_cpu": others, "steal": steal}
        if key == "latency_ms":
            rec["mean_ms"] = round(secs / n * 1e3, 4)
        rows.append(rec)
        if args.json:
            print(json.dumps(rec), flush=True)
        else:
            print(f"{impl:14s} {config:16s} {fmt_fig(key, value):>12s} "
                  f"{UNITS[key]:9s} {n:5d} {secs / n:9.4f} "
                  f"{statistics.median(times):9.4f} {min(times):9.4f} "
                  f"{others!s:>6s} {snap['la']}", flush=True)

    if not args.json:
        print(f"{'impl':14s} {'config':16s} {'figure':>12s} {'unit':9s} "
              f"{'steps':>5s} {'s/step':>9s} {'median':>9s} {'min':>9s} "
              f"{'others':>6s} loadavg at start")

    mt, ms, wu = args.min_time, args.min_steps, args.warmup
    impls = [("pytorch-lem", LEMWordLM, LEMClassifier),
             ("pytorch-lstm", functools.partial(RNNWordLM, "lstm"), functools.partial(RNNClassifier, "lstm")),
             ("pytorch-gru", functools.partial(RNNWordLM, "gru"), functools.partial(RNNClassifier, "gru"))]
    wanted = set(args.impls.split(","))
    impls = [i for i in impls if i[0].removeprefix("pytorch-") in wanted]

    for impl, LM, Clf in impls:
        if "word-train" in only:
            start()
            r = bench_lm_train(LM(10000, 256, 256, tie=True), 10000, 64, 70, wu, ms, mt)
            emit(impl, "word-train", "tokens_per_s", *r)
    for impl, LM, Clf in impls:
        if "char-train" in only:
            start()
            if args.char_steps:
                cw, cs, ct = args.char_warmup, args.char_steps, 0.0
            else:
                cw, cs, ct = wu, ms, mt
            r = bench_lm_train(LM(50, 200, 1024, tie=False), 50, 128, 150, cw, cs, ct)
            emit(impl, "char-train", "tokens_per_s", *r)
    for impl, LM, Clf in impls:
        if "kws-train" in only:
            start()
            r = bench_kws_train(Clf(80, 128, 12), 126, 100, 80, 12, wu, ms, mt)
            emit(impl, "kws-train", "frames_per_s", *r)
    for impl, LM, Clf in impls:
        if "word-sample-b1" in only:
            start()
            r = bench_sample(LM(10000, 256, 256, tie=True), 10000, 500, 3, args.short_time)
            emit(impl, "word-sample-b1", "tokens_per_s", *r)
    for impl, LM, Clf in impls:
        if "kws-latency-b1" in only:
            start()
            r = bench_latency(Clf(80, 128, 12), 126, 80, 20, args.short_time)
            emit(impl, "kws-latency-b1", "latency_ms", *r)
    if "sgemm-2048" in only:
        start()
        r = bench_sgemm()
        emit("torch", "sgemm-2048", "gflops", *r)

    say(f"# loadavg at end: {loadavg()}  (start: {load_start})")


# ---------------------------------------------------------------- summary

def figure_key(rec):
    for k in UNITS:
        if k in rec:
            return k
    return None


def summarize(paths):
    """Best and median per (impl, config) over several --json outputs."""
    groups = {}
    order = []
    for p in paths:
        with open(p) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                rec = json.loads(line)
                key = (rec["impl"], rec["config"])
                if key not in groups:
                    groups[key] = []
                    order.append(key)
                groups[key].append(rec)
    print(f"{len(paths)} run(s): {', '.join(paths)}")
    print(f"{'impl':14s} {'config':16s} {'best':>12s} {'median':>12s} "
          f"{'unit':9s} runs  [each run] / [1-min load at start/others_cpu]")
    for key in order:
        recs = groups[key]
        fk = figure_key(recs[0])
        vals = [r[fk] for r in recs]
        best = min(vals) if fk in LOWER_IS_BETTER else max(vals)
        med = statistics.median(vals)
        allv = ", ".join(fmt_fig(fk, v) for v in vals)
        loads = ", ".join(
            (str(r["loadavg"][0]) if r.get("loadavg") else "?")
            + ("/" + str(r["others_cpu"]) if r.get("others_cpu") is not None else "")
            for r in recs)
        print(f"{key[0]:14s} {key[1]:16s} {fmt_fig(fk, best):>12s} "
              f"{fmt_fig(fk, med):>12s} {UNITS[fk]:9s} {len(vals):4d}  "
              f"[{allv}] / [{loads}]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", action="store_true",
                    help="JSON lines on stdout (header on stderr)")
    ap.add_argument("--only", default="",
                    help="comma-separated configs: " + ",".join(CONFIGS))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--impls", default="lem,lstm",
                    help="comma-separated models to time: lem (the authors' cell), lstm, gru")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--min-steps", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=10.0,
                    help="seconds of timed training steps (at least)")
    ap.add_argument("--char-steps", type=int, default=0,
                    help="char-train: time exactly this many steps (0: the general rule)")
    ap.add_argument("--char-warmup", type=int, default=1,
                    help="char-train warm-up steps when --char-steps is given")
    ap.add_argument("--short-time", type=float, default=3.0,
                    help="seconds (at least) for sampling and latency")
    ap.add_argument("--summarize", nargs="+", metavar="JSONL",
                    help="print best/median over the given --json outputs and exit")
    args = ap.parse_args()
    if args.summarize:
        summarize(args.summarize)
    else:
        run(args)


if __name__ == "__main__":
    main()
