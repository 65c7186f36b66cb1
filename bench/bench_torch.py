#!/usr/bin/python3
"""PyTorch's side of `make bench`: the same configurations as bench_step.cpp, the same flags, the same JSON line.

    /usr/bin/python3 bench/bench_torch.py --mode step --name medium --B 16 --T 256 --C 384 --head-size 64 --V 65
    /usr/bin/python3 bench/bench_torch.py --mode perop
    /usr/bin/python3 bench/bench_torch.py --mode gpt --name gpt-cpu --B 12 --T 64 --C 128 --n-head 4 --n-layer 4 --V 65
    /usr/bin/python3 bench/bench_torch.py --mode gpt-sdpa ...   the same, each Head's attention by PyTorch's fused
                                                                F._scaled_dot_product_attention(..., is_causal=True)

A training step is the notebook's Head (nn.Linear key/query/value without bias, scaled, causal, softmax, @ v) with a
Linear(head_size, V) readout, trained with torch.optim.AdamW (its defaults) on fixed random data drawn after
torch.manual_seed(seed) in this order: x = randn(B, T, C), the modules, targets = randint(0, V, (B, T)).
bench_step.cpp draws the same numbers, so the first step's loss must agree. The step's flops are counted as there
(step_flops below mirrors its comment).
A GPT step is the lecture's GPTLanguageModel (tests/fixtures/make_gpt_fixtures.py holds the lecture's classes), built
after torch.manual_seed(seed), then x, y = randint(0, V, (B, T)) twice, as bench_step.cpp does.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
import make_gpt_fixtures as lecture  # noqa: E402  (the lecture's GPT classes)


def sdpa_forward(self, x):
    """The lecture's Head.forward through PyTorch's fused attention (the same function; its own dropout draws)."""
    k, q, v = self.key(x), self.query(x), self.value(x)
    p = self.dropout.p if self.training else 0.0
    return F._scaled_dot_product_attention(q, k, v, None, p, False, True)[0]


class Head(nn.Module):
    """The notebook's version 4 head, scaled by head_size**-0.5 as ag::Head is."""

    def __init__(self, C, head_size):
        super().__init__()
        self.key = nn.Linear(C, head_size, bias=False)
        self.query = nn.Linear(C, head_size, bias=False)
        self.value = nn.Linear(C, head_size, bias=False)
        self.head_size = head_size

    def forward(self, x):
        T = x.shape[1]
        k = self.key(x)  # (B, T, hs)
        q = self.query(x)  # (B, T, hs)
        wei = q @ k.transpose(-2, -1) * self.head_size**-0.5  # (B, T, T)
        wei = wei.masked_fill(torch.tril(torch.ones(T, T)) == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        v = self.value(x)  # (B, T, hs)
        return wei @ v  # (B, T, hs)


class HeadModel(nn.Module):
    def __init__(self, C, head_size, V):
        super().__init__()
        self.head = Head(C, head_size)
        self.readout = nn.Linear(head_size, V)

    def forward(self, x):
        return self.readout(self.head(x))  # (B, T, V)


def quantile(values, q):
    """The value at quantile q, interpolated linearly between neighbours (numpy's default, as bench_step.cpp)."""
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (pos - lo) * (v[hi] - v[lo])


def status_mb(field):
    """A field of /proc/self/status in MB: VmRSS (resident now) or VmHWM (peak resident so far)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def step_flops(a):
    """Matrix-product flops of one step, as in bench_step.cpp: forward F, backward 2F, full T x T products."""
    B, T, C, hs, V = a.B, a.T, a.C, a.head_size, a.V
    forward = 3 * 2 * B * T * C * hs + 2 * 2 * B * T * T * hs + 2 * B * T * hs * V
    return 3 * forward


def time_steps(a, step):
    """The first step's loss, a warm-up, then the measured steps in ms (as time_steps in bench_step.cpp)."""
    loss0 = step().item()
    warmup = 1
    t0 = time.perf_counter()
    while warmup < a.warmup_steps or time.perf_counter() - t0 < a.warmup_seconds:
        step()
        warmup += 1
    ms = []
    t0 = time.perf_counter()
    while len(ms) < a.max_steps and (len(ms) < a.min_steps or time.perf_counter() - t0 < a.seconds):
        s = time.perf_counter()
        step()
        ms.append((time.perf_counter() - s) * 1e3)
    return loss0, warmup, ms


def run_step(a):
    torch.manual_seed(a.seed)
    x = torch.randn(a.B, a.T, a.C)
    model = HeadModel(a.C, a.head_size, a.V)
    targets = torch.randint(0, a.V, (a.B, a.T))
    optimizer = torch.optim.AdamW(model.parameters())  # lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 1e-2

    def step():
        optimizer.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.view(a.B * a.T, a.V), targets.view(a.B * a.T))
        loss.backward()
        optimizer.step()
        return loss

    base_rss = status_mb("VmRSS")
    loss0, warmup, ms = time_steps(a, step)
    median, flops = quantile(ms, 0.5), step_flops(a)
    return {"side": "torch", "mode": "step", "name": a.name, "B": a.B, "T": a.T, "C": a.C,
            "head_size": a.head_size, "V": a.V, "threads": a.threads, "seed": a.seed, "warmup_steps": warmup,
            "steps": len(ms), "loss0": loss0, "median_ms": median, "p10_ms": quantile(ms, 0.1),
            "p90_ms": quantile(ms, 0.9), "gflop": flops / 1e9, "gflops": flops / 1e9 / (median / 1e3),
            "base_rss_mb": round(base_rss, 1), "peak_rss_mb": round(status_mb("VmHWM"), 1)}


def gpt_flops(a):
    """The matrix-product flops of one GPT step, as gpt_flops in bench_step.cpp."""
    B, T, C, V = a.B, a.T, a.C, a.V
    block = 2 * B * T * C * 3 * C + 2 * 2 * B * T * T * C + 2 * B * T * C * C + 2 * 2 * B * T * C * 4 * C
    return 3 * (a.n_layer * block + 2 * B * T * C * V)


def run_gpt(a):
    if a.mode == "gpt-sdpa":
        lecture.Head.forward = sdpa_forward
    torch.manual_seed(a.seed)
    model = lecture.GPTLanguageModel(a.V, a.T, a.C, a.n_head, a.n_layer, a.dropout)
    x, y = torch.randint(0, a.V, (a.B, a.T)), torch.randint(0, a.V, (a.B, a.T))
    optimizer = torch.optim.AdamW(model.parameters())

    def step():
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    base_rss = status_mb("VmRSS")
    loss0, warmup, ms = time_steps(a, step)
    median, flops = quantile(ms, 0.5), gpt_flops(a)
    return {"side": "torch", "mode": a.mode, "name": a.name, "B": a.B, "T": a.T, "C": a.C, "n_head": a.n_head,
            "n_layer": a.n_layer, "dropout": a.dropout, "V": a.V, "threads": a.threads, "seed": a.seed,
            "warmup_steps": warmup, "steps": len(ms), "loss0": loss0, "median_ms": median,
            "p10_ms": quantile(ms, 0.1), "p90_ms": quantile(ms, 0.9), "gflop": flops / 1e9,
            "gflops": flops / 1e9 / (median / 1e3), "tokens_per_s": a.B * a.T / (median / 1e3),
            "base_rss_mb": round(base_rss, 1), "peak_rss_mb": round(status_mb("VmHWM"), 1)}


def run_perop(a):
    """c = a * b; c.backward(ones) on two (4, 8) leaves that require grad: ns per iteration, in batches of 1000."""
    torch.manual_seed(a.seed)
    x = torch.randn(4, 8).requires_grad_()
    y = torch.randn(4, 8).requires_grad_()
    dout = torch.ones(4, 8)
    iters = 1000

    def batch():
        for _ in range(iters):
            c = x * y
            c.backward(dout)

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < a.warmup_seconds:
        batch()
    ns = []
    t0 = time.perf_counter()
    while len(ns) < a.min_steps or time.perf_counter() - t0 < a.seconds:
        s = time.perf_counter()
        batch()
        ns.append((time.perf_counter() - s) * 1e9 / iters)
    return {"side": "torch", "mode": "perop", "threads": a.threads, "batches": len(ns), "iters_per_batch": iters,
            "median_ns": quantile(ns, 0.5), "p10_ns": quantile(ns, 0.1), "p90_ns": quantile(ns, 0.9)}


def main():
    p = argparse.ArgumentParser(description="Times one PyTorch configuration and prints one JSON line.")
    p.add_argument("--mode", choices=["step", "perop", "gpt", "gpt-sdpa"], default="step")
    p.add_argument("--name", default="custom")
    p.add_argument("--B", type=int, default=4)
    p.add_argument("--T", type=int, default=8)
    p.add_argument("--C", type=int, default=32)
    p.add_argument("--head-size", type=int, default=16)
    p.add_argument("--V", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--warmup-seconds", type=float, default=0.3)
    p.add_argument("--warmup-steps", type=int, default=2)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--min-steps", type=int, default=5)
    p.add_argument("--max-steps", type=int, default=2000)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-layer", type=int, default=1)
    p.add_argument("--dropout", type=float, default=0.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    run = {"step": run_step, "perop": run_perop, "gpt": run_gpt, "gpt-sdpa": run_gpt}[a.mode]
    print(json.dumps(run(a)))


if __name__ == "__main__":
    main()
