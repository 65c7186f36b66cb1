#!/usr/bin/python3
"""The driver of `make bench`: runs every configuration as its own process, prints tables, writes bench/RESULTS.md.

    /usr/bin/python3 bench/run.py --bin build/bench/bench_step [--libtorch build/bench/bench_libtorch]
        [--examples build/examples --text build/data/fortunes.txt] [--sizes tiny,small] [--out bench/RESULTS.md]

It builds nothing (the Makefile builds bench_step first). Each configuration (a size and a thread count, on our side
and, when Debian's python3-torch imports, on PyTorch's) is a fresh process, so its peak RSS is that configuration's
alone. Then: OpenBLAS sgemm's GFLOP/s on this machine (the peak a step is measured against) and the per-op overhead.
Timings are by wall clock on a machine that may be shared: the CPU time other processes took meanwhile is recorded.
Every configuration runs twice, quiet and beside one busy process the bench starts on the last core (a shared
machine): a 2-thread run may then be at most BUSY_BOUND times slower than 1 thread.
Exits with status 1 if a first-step loss disagrees with PyTorch's (the comparison is then meaningless).
"""
import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
THREADS = (1, 2)
LOSS_RTOL = 1e-5

# name: (B, T, C, head_size, V) and how long to time it. Each step is timed alone; a run warms up for warmup_seconds
# (at least warmup_steps steps, the first of which gives the loss), then measures for `seconds`, at least min_steps
# and at most max_steps steps. The large size takes ~0.5 s a step, so it gets a few steps only.
SIZES = {
    "tiny": ((4, 8, 32, 16, 16), dict(warmup_seconds=0.3, warmup_steps=2, seconds=1, min_steps=5, max_steps=5000)),
    "small": ((32, 64, 128, 32, 64), dict(warmup_seconds=0.3, warmup_steps=2, seconds=1, min_steps=5, max_steps=500)),
    "medium": ((16, 256, 384, 64, 65), dict(warmup_seconds=0.3, warmup_steps=2, seconds=1, min_steps=5, max_steps=100)),
    "large": ((8, 1024, 512, 64, 65), dict(warmup_seconds=0, warmup_steps=2, seconds=3, min_steps=3, max_steps=8)),
}
# The lecture's GPT: name -> (B, T, C, n_head, n_layer, dropout, V) and its timing. PyTorch takes ~3-5 s a
# gpt-lecture step, so that size gets a few steps only.
GPT_SIZES = {
    "gpt-cpu": ((12, 64, 128, 4, 4, 0.0, 65),
                dict(warmup_seconds=0.3, warmup_steps=2, seconds=2, min_steps=5, max_steps=200)),
    "gpt-lecture": ((16, 256, 384, 6, 6, 0.2, 65),
                    dict(warmup_seconds=0, warmup_steps=2, seconds=0, min_steps=3, max_steps=3)),
}
SGEMM_SIZES = (1024, 2048)
# Each configuration runs ROUNDS times, ours and PyTorch's alternating (and swapping which goes first), so that a
# slow spell of this shared machine falls on both sides; the round with the median time is the one reported.
ROUNDS = 3
# With one other process spinning on one of the cores, a 2-thread run may be at most this much slower than 1 thread.
BUSY_BOUND = 1.10
# The fixed cost of one tiny op, forward and backward, that the engine aims at.
PEROP_BOUND_NS = 1000


def run_json(cmd):
    """Runs one configuration and returns its JSON line; stops the whole bench if it fails."""
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def flags(d):
    return [f"--{k.replace('_', '-')}={v}" for k, v in d.items()]


def torch_version():
    """The version of Debian's torch, or None when `import torch` fails."""
    done = subprocess.run([PYTHON, "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def machine():
    """lscpu's model name and core count, the OpenBLAS and compiler versions."""
    info = {}
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        key, _, value = line.partition(":")
        info[key.strip()] = value.strip()
    cores = int(info.get("Core(s) per socket", "0") or 0) * int(info.get("Socket(s)", "1") or 1)

    def version(cmd):
        try:
            return (subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines() or [""])[0].strip()
        except OSError:
            return "?"

    commit = version(["git", "-C", HERE, "rev-parse", "--short", "HEAD"])
    if version(["git", "-C", HERE, "status", "--porcelain", "--", "../engine", "../layers"]) not in ("", "?"):
        commit += " with uncommitted changes in engine/ or layers/"
    return {"model": info.get("Model name", platform.processor()), "cores": cores, "cpus": os.cpu_count(),
            "commit": commit,
            "openblas": version(["pkg-config", "--modversion", "openblas"]), "cxx": version(["g++", "--version"])}


def cpu_seconds():
    """(CPU seconds the whole machine spent busy, CPU seconds this driver and its finished children used)."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    t = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), t.user + t.system + t.children_user + t.children_system


def progress(message):
    print(message, file=sys.stderr, flush=True)


def busy_process():
    """A process that spins on the last core until killed: the compiler or second trainer of a shared machine."""
    return subprocess.Popen(["taskset", "-c", str(os.cpu_count() - 1), PYTHON, "-c", "while True: pass"])


def run_rounds(sides):
    """Runs every side ROUNDS times, alternating; returns {side: [JSON of each round]}."""
    rounds = {side: [] for side in sides}
    for i in range(ROUNDS):
        for side in (list(sides) if i % 2 == 0 else list(reversed(sides))):
            rounds[side].append(run_json(sides[side]))
    return rounds


def median_run(runs):
    return sorted(runs, key=lambda r: r["median_ms"])[len(runs) // 2]


def step_sides(args, has_torch, name, t):
    (B, T, C, hs, V), timing = SIZES[name]
    shape = dict(name=name, B=B, T=T, C=C, head_size=hs, V=V, seed=args.seed)
    common = ["--mode=step", f"--threads={t}"] + flags(shape) + flags(timing)
    # our Head (its fused attention, the default); PyTorch runs the notebook's composition, from Python and C++
    sides = {"ours": [args.bin] + common}
    if has_torch:
        sides["torch"] = [PYTHON, os.path.join(HERE, "bench_torch.py")] + common
    if args.libtorch:
        sides["torch C++"] = [args.libtorch] + common
    return sides


def gpt_sides(args, has_torch, name, t):
    (B, T, C, n_head, n_layer, dropout, V), timing = GPT_SIZES[name]
    shape = dict(name=name, B=B, T=T, C=C, n_head=n_head, n_layer=n_layer, dropout=dropout, V=V, seed=args.seed)
    common = [f"--threads={t}"] + flags(shape) + flags(timing)
    # ours; PyTorch's lecture classes; the same with its fused attention in each Head
    sides = {"ours": [args.bin, "--mode=gpt"] + common}
    if has_torch:
        for mode in ("gpt", "gpt-sdpa"):
            sides["torch " + mode] = [PYTHON, os.path.join(HERE, "bench_torch.py"), f"--mode={mode}"] + common
    return sides


def trainer_runs(args):
    """The example trainers as a user runs them, timed whole (process start to exit): name -> argv by threads."""
    ex = args.examples
    gpt = [os.path.join(ex, "gpt"), f"--data={args.text}", "--batch-size=12", "--block-size=64", "--n-embd=128",
           "--n-head=4", "--n-layer=4", "--max-iters=40", "--eval-interval=1000", "--eval-iters=2",
           "--max-new-tokens=50", "--dropout=0", f"--out={args.scratch}"]
    train = [os.path.join(ex, "train"), "--steps=300", f"--out={args.scratch}"]
    return {"train --steps 300 (toy trainer)": train, "gpt, gpt-cpu size, 40 steps": gpt}


def time_process(cmd):
    """Wall-clock ms of one run of cmd (its output discarded); stops the bench if it fails."""
    s = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return (time.perf_counter() - s) * 1e3


def measure(args, has_torch):
    """Every process of the bench, in order; returns the collected JSON lines. Each step configuration runs on the
    quiet machine and then again beside one busy process ("busy"), so the table shows what a shared machine costs."""
    # "load": (load, side, name, threads) -> the median run, load "quiet" or "busy"; "trainers" likewise, in ms
    out = {"sgemm": {}, "ours": {}, "torch": {}, "torch C++": {}, "perop": {}, "gpt": {}, "load": {},
           "trainers": {}}
    for n in SGEMM_SIZES:
        for t in THREADS:
            r = run_json([args.bin, "--mode=sgemm", f"--n={n}", f"--threads={t}", "--seconds=1.5", "--min-steps=5"])
            out["sgemm"][n, t] = r
            progress(f"sgemm {n}x{n}, {t} thread(s): {r['gflops']:.1f} GFLOP/s")
    for load in ("quiet", "busy"):
        spinner = busy_process() if load == "busy" else None
        try:
            for name in args.sizes:
                for t in THREADS:
                    rounds = run_rounds(step_sides(args, has_torch, name, t))
                    for side, runs in rounds.items():
                        if load == "quiet":
                            out[side][name, t] = median_run(runs)
                        out["load"][load, side, name, t] = median_run(runs)
                    times = {side: " / ".join(f"{r['median_ms']:.3f}" for r in runs) for side, runs in rounds.items()}
                    progress(f"{name:6s} {t} thread(s), {load}: " +
                             ", ".join(f"{side} {ms} ms" for side, ms in times.items()))
            for name in args.gpt_sizes:
                for t in THREADS:
                    rounds = run_rounds(gpt_sides(args, has_torch, name, t))
                    for side, runs in rounds.items():
                        if load == "quiet":
                            out["gpt"][side, name, t] = median_run(runs)
                        out["load"][load, side, name, t] = median_run(runs)
                    times = {side: " / ".join(f"{r['median_ms']:.1f}" for r in runs) for side, runs in rounds.items()}
                    progress(f"{name} {t} thread(s), {load}: " +
                             ", ".join(f"{side} {ms} ms" for side, ms in times.items()))
            if args.examples:
                for name, cmd in trainer_runs(args).items():
                    for t in THREADS:
                        runs = sorted(time_process(cmd + [f"--threads={t}"]) for _ in range(ROUNDS))
                        out["trainers"][load, name, t] = runs[len(runs) // 2]
                        progress(f"{name}, {t} thread(s), {load}: " + " / ".join(f"{ms:.0f}" for ms in runs) + " ms")
        finally:
            if spinner:
                spinner.kill()
                spinner.wait()
    perop = ["--mode=perop", "--threads=1", "--seconds=1.5", "--warmup-seconds=0.3"]
    out["perop"]["ours"] = run_json([args.bin] + perop)
    if has_torch:
        out["perop"]["torch"] = run_json([PYTHON, os.path.join(HERE, "bench_torch.py")] + perop)
    if args.libtorch:
        out["perop"]["torch C++"] = run_json([args.libtorch] + perop)
    return out


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def ms(r):
    return f"{r['median_ms']:.3f} [{r['p10_ms']:.3f}, {r['p90_ms']:.3f}]"


def sgemm_section(res):
    """The sgemm table, and the peak per thread count (the better of the two sizes) a step is compared with."""
    peak = {t: max(res["sgemm"][n, t]["gflops"] for n in SGEMM_SIZES) for t in THREADS}
    rows = [[f"{n} x {n}"] + [f"{res['sgemm'][n, t]['gflops']:.1f}" for t in THREADS] for n in SGEMM_SIZES]
    return ["### OpenBLAS sgemm (GFLOP/s, median of >= 5 products; the peak is the better of the two sizes)",
            table(["product"] + [f"{t} thread(s)" for t in THREADS], rows)], peak


def rss(r):
    return f"{r['peak_rss_mb']:.0f} (+{r['peak_rss_mb'] - r['base_rss_mb']:.0f})"


def step_sections(res, sizes, peak, has_torch):
    """The time, throughput/memory and loss tables of the training step, and whether every loss agreed. PyTorch's
    best is the fastest of its Python and (when built) C++ runs at 1 or 2 threads."""
    time_rows, rate_rows, loss_rows, all_pass = [], [], [], True
    cxx = bool(res["torch C++"])
    for name in sizes:
        torch_sides = ("torch", "torch C++") if cxx else ("torch",)
        best_torch = min(res[side][name, t]["median_ms"] for side in torch_sides for t in THREADS) if has_torch else None
        for t in THREADS:
            o, p = res["ours"][name, t], res["torch"].get((name, t))
            time_rows.append([name, t, o["steps"], ms(o)])
            rate_rows.append([name, t, f"{o['gflop']:.4g}", f"{o['gflops']:.2f}", f"{100 * o['gflops'] / peak[t]:.1f}%"])
            if not p:
                rate_rows[-1].append(rss(o))
                continue
            time_rows[-1] += [p["steps"], ms(p)] + ([ms(res["torch C++"][name, t])] if cxx else []) + [
                f"{o['median_ms'] / p['median_ms']:.3g}", f"{o['median_ms'] / best_torch:.3g}"]
            rate_rows[-1] += [f"{p['gflops']:.2f}", f"{100 * p['gflops'] / peak[t]:.1f}%", rss(o), rss(p)]
            for side in torch_sides:
                q = res[side][name, t]
                rel = abs(o["loss0"] - q["loss0"]) / abs(q["loss0"])
                ok = rel <= LOSS_RTOL  # False for NaN too
                all_pass &= ok
                loss_rows.append([name, t, side, f"{o['loss0']:.9g}", f"{q['loss0']:.9g}", f"{rel:.1e}",
                                  "PASS" if ok else "FAIL"])

    time_head = ["size", "threads", "steps", "ours ms: median [p10, p90]"]
    rate_head = ["size", "threads", "GFLOP/step", "ours GFLOP/s", "ours % of sgemm peak"]
    if has_torch:
        time_head += ["steps", "torch ms: median [p10, p90]"] + (["torch C++ ms: median [p10, p90]"] if cxx else []) + [
            "ours / torch", "ours / torch's best (Python or C++, 1 or 2 threads)"]
        rate_head += ["torch GFLOP/s", "torch % of sgemm peak", "ours peak RSS MB (+step)", "torch peak RSS MB (+step)"]
    else:
        rate_head += ["ours peak RSS MB (+step)"]
    parts = ["### One training step (ms per step; ratio > 1 means we are slower)", table(time_head, time_rows),
             "### Throughput and memory (GFLOP/s at the median time; peak RSS of the whole process, "
             "and in parentheses its growth over the RSS after setup, before the first step)",
             table(rate_head, rate_rows)]
    if has_torch:
        parts += [f"### First-step loss, same seed (relative tolerance {LOSS_RTOL:g})",
                  table(["size", "threads", "against", "ours", "torch", "relative difference", ""], loss_rows)]
    return parts, all_pass


def busy_section(res, sizes, gpt_sizes):
    """Quiet against busy: each configuration's median with 1 and 2 threads, and the 2-thread slowdown when one other
    process spins on a core. Ours is held to at most BUSY_BOUND; PyTorch's is shown for comparison."""
    load = res["load"]
    rows = []
    for name in list(sizes) + list(gpt_sizes):
        sides = sorted({side for (_, side, n, _) in load if n == name}, key=lambda s: (s != "ours", s))
        for side in sides:
            t = {(ld, th): load[ld, side, name, th]["median_ms"] for ld in ("quiet", "busy") for th in THREADS}
            ratio = t["busy", 2] / t["busy", 1]
            verdict = ("PASS" if ratio <= BUSY_BOUND else "FAIL") if side == "ours" else ""
            rows.append([name, side] + [f"{t[k]:.3f}" for k in
                                        (("quiet", 1), ("quiet", 2), ("busy", 1), ("busy", 2))] +
                        [f"{ratio:.3g}", verdict])
    for name in sorted({n for (_, n, _) in res["trainers"]}):
        t = {(ld, th): res["trainers"][ld, name, th] for ld in ("quiet", "busy") for th in THREADS}
        ratio = t["busy", 2] / t["busy", 1]
        rows.append([name, "ours (whole run)"] + [f"{t[k]:.0f}" for k in
                                                  (("quiet", 1), ("quiet", 2), ("busy", 1), ("busy", 2))] +
                    [f"{ratio:.3g}", "PASS" if ratio <= BUSY_BOUND else "FAIL"])
    head = ["configuration", "side", "1 thread quiet ms", "2 threads quiet ms", "1 thread busy ms",
            "2 threads busy ms", "2 / 1 threads, busy", f"at most {BUSY_BOUND}"]
    return ["### Threads on a busy machine (busy: one other process spins on a core throughout; medians in ms)",
            table(head, rows)]


def gpt_sections(res, sizes, peak, has_torch):
    """The GPT step's tables: time against PyTorch at its best, throughput and memory, the first-step loss."""
    g = res["gpt"]
    time_rows, rate_rows, loss_rows, all_pass = [], [], [], True
    torch_sides = ("torch gpt", "torch gpt-sdpa") if has_torch else ()
    for name in sizes:
        best = min((g[side, name, t]["median_ms"], side, t) for side in torch_sides for t in THREADS) if has_torch else None
        for t in THREADS:
            o = g["ours", name, t]
            time_rows.append([name, t, o["steps"], ms(o), f"{o['tokens_per_s']:.0f}"])
            rate_rows.append([name, t, f"{o['gflop']:.4g}", f"{o['gflops']:.1f}", f"{100 * o['gflops'] / peak[t]:.1f}%",
                              rss(o), f"{o['system_allocations_per_step']:.0f}"])
            if not has_torch:
                continue
            p, q = g["torch gpt", name, t], g["torch gpt-sdpa", name, t]
            time_rows[-1] += [ms(p), ms(q), f"{o['median_ms'] / best[0]:.3g}"]
            rate_rows[-1] += [f"{p['gflops']:.1f}", f"{100 * p['gflops'] / peak[t]:.1f}%", rss(p)]
            rel = abs(o["loss0"] - p["loss0"]) / abs(p["loss0"])
            ok = rel <= LOSS_RTOL
            all_pass &= ok
            loss_rows.append([name, t, f"{o['loss0']:.9g}", f"{p['loss0']:.9g}", f"{rel:.1e}", "PASS" if ok else "FAIL"])
        if has_torch:
            time_rows.append([name, "", "", "", "", f"PyTorch's best: {best[0]:.1f} ms ({best[1]}, {best[2]} thread(s))",
                              "", ""])
    time_head = ["size", "threads", "steps", "ours ms: median [p10, p90]", "ours tokens/s"]
    rate_head = ["size", "threads", "GFLOP/step", "ours GFLOP/s", "ours % of sgemm peak", "ours peak RSS MB (+step)",
                 "ours buffers from the system per step"]
    if has_torch:
        time_head += ["torch ms (lecture's classes)", "torch ms (its fused attention)", "ours / torch's best"]
        rate_head += ["torch GFLOP/s", "torch % of sgemm peak", "torch peak RSS MB (+step)"]
    parts = ["### The lecture's GPT: one training step (ratio < 1 means we are faster)", table(time_head, time_rows),
             "### The GPT step: throughput and memory", table(rate_head, rate_rows)]
    if has_torch:
        parts += [f"### The GPT step: first-step loss against the lecture's classes, same seed (relative tolerance "
                  f"{LOSS_RTOL:g})", table(["size", "threads", "ours", "torch", "relative difference", ""], loss_rows)]
    return parts, all_pass


def perop_section(res):
    """The fixed cost of one tiny op, against PyTorch from Python and from C++; ours is held to PEROP_BOUND_NS."""
    po = res["perop"]["ours"]
    torch_sides = [side for side in ("torch", "torch C++") if side in res["perop"]]
    row = ["`c = a * b; c.backward(ones)`, (4, 8) float32, 1 thread", f"{po['median_ns']:.0f}",
           "PASS" if po["median_ns"] <= PEROP_BOUND_NS else "FAIL"]
    for side in torch_sides:
        pt = res["perop"][side]
        row += [f"{pt['median_ns']:.0f}", f"{po['median_ns'] / pt['median_ns']:.3g}"]
    head = ["loop", "ours ns", f"at most {PEROP_BOUND_NS} ns"]
    for side in torch_sides:
        head += [f"{side} ns", f"ours / {side}"]
    return ["### Per-op overhead (ns per forward + backward, median over batches of 1000)", table(head, [row])]


def report(res, sizes, gpt_sizes, has_torch):
    """The markdown tables, and whether every first-step loss agreed."""
    sgemm, peak = sgemm_section(res)
    steps, steps_pass = step_sections(res, sizes, peak, has_torch)
    gpt, gpt_pass = gpt_sections(res, gpt_sizes, peak, has_torch)
    busy = busy_section(res, sizes, gpt_sizes)
    return "\n\n".join(sgemm + steps + gpt + busy + perop_section(res)), steps_pass and gpt_pass


def results_header(version, elapsed, others):
    """The top of RESULTS.md: what was measured, when, on what, and how much CPU other processes took meanwhile."""
    m = machine()
    header = "\n".join([
        "# attograd benchmark results",
        "",
        "Written by `make bench` (bench/run.py). One training step = zero_grad, forward of the notebook's causal Head",
        "(bias-free key/query/value, scaled, causal softmax, @ v) and a Linear(head_size, V) readout, cross-entropy",
        "over all B*T positions with random targets, backward, AdamW update. Each configuration ran in its own process,",
        f"{ROUNDS} times, ours and PyTorch's alternating; each table row is the run with the median time.",
        "Our Head computes key, query and value as one product x @ [Wk; Wq; Wv]^T; PyTorch runs three nn.Linear.",
        "Both sides run on a shared virtual machine whose speed drifts (PyTorch's medium step has measured 31 to 52 ms",
        "on 2 threads on different runs), so compare the ratios of one run rather than times across runs.",
        "FLOPs per step = 3 * F with F = 2*B*T*C*hs*3 + 2*2*B*T*T*hs + 2*B*T*hs*V (forward matmuls, backward counted",
        "as 2F, full T x T products: no credit for causal skipping).",
        "Our Head uses its fused attention (ag::self_attention: scores, mask, softmax and @ v in one op over the lower",
        "triangle, reading k, q, v inside the packed projection); the same function as the composition PyTorch runs",
        "(checked by the first-step loss below).",
        "The GPT step is the lecture's: GPTLanguageModel on x, y = randint(0, V, (B, T)), forward and loss, zero_grad,",
        "backward, AdamW (PyTorch's defaults), batches prepared beforehand. PyTorch runs the lecture's own classes, and",
        "again with each Head's attention through its fused F._scaled_dot_product_attention(..., is_causal=True); its",
        "best is the faster of those two at 1 or 2 threads. FLOPs per step = 3 F, F = n_layer (2BTC*3C + 2*2BT*T*C +",
        "2BTC*C + 2*2BTC*4C) + 2BTC*V (every matmul, full T x T attention products).",
        "PyTorch's Head step and per-op loop also run through its C++ API (bench/bench_libtorch.cpp, built when",
        "Debian's libtorch-dev is installed): PyTorch's best for those is the faster of Python and C++.",
        "Every step configuration and the example trainers ran twice: on the quiet machine, and beside one busy",
        "process (a Python loop pinned to the last core, started and stopped by the bench), as on a machine shared",
        "with a compiler or a second trainer; the threads table puts the two side by side.",
        "",
        f"- date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        f"- attograd: commit {m['commit']}",
        f"- machine: {m['model']}, {m['cores']} cores ({m['cpus']} CPUs online)",
        f"- PyTorch: {version or 'not available'}; OpenBLAS {m['openblas']}; {m['cxx']}",
        f"- bench runtime: {elapsed:.0f} s; CPU time used meanwhile by other processes: {others:.0%} of the machine",
    ])
    if others > 0.05:
        header += ("\n\n**The machine was busy**: other processes took CPU time from these runs, and the 2-thread"
                   " runs suffer most (a thread waiting at a barrier for a descheduled partner). Rerun when it is idle.")
    return header


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="the built bench_step")
    ap.add_argument("--sizes", default=",".join(SIZES), help="comma-separated subset of " + ", ".join(SIZES))
    ap.add_argument("--gpt-sizes", default=",".join(GPT_SIZES),
                    help="comma-separated subset of " + ", ".join(GPT_SIZES) + " (empty: none)")
    ap.add_argument("--libtorch", default="", help="the built bench_libtorch (PyTorch's C++ API side), if any")
    ap.add_argument("--examples", default="", help="the built examples directory: also time the trainers")
    ap.add_argument("--text", default="", help="a text file for the GPT trainer (with --examples)")
    ap.add_argument("--seed", type=int, default=1337)
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    args = ap.parse_args()
    args.sizes = [s for s in args.sizes.split(",") if s]
    args.gpt_sizes = [s for s in args.gpt_sizes.split(",") if s]
    if unknown := [s for s in args.sizes if s not in SIZES] + [s for s in args.gpt_sizes if s not in GPT_SIZES]:
        sys.exit(f"bench: unknown size(s) {unknown}; choose from {list(SIZES) + list(GPT_SIZES)}")
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"bench: {args.bin} is not built; run `make bench`")

    start, (busy0, ours0) = time.time(), cpu_seconds()
    version = torch_version()
    if version is None:
        progress("PyTorch is not available (`/usr/bin/python3 -c 'import torch'` fails): our figures alone.")
    else:
        progress(f"PyTorch {version} found: timing both sides.")
    if version is None:
        args.libtorch = ""
    if args.examples and not os.path.isfile(args.text):
        sys.exit(f"bench: --examples needs --text, a text file for the GPT trainer; got {args.text!r}")
    with tempfile.TemporaryDirectory() as scratch:  # the trainers' plots
        args.scratch = scratch
        res = measure(args, version is not None)
    tables, all_pass = report(res, args.sizes, args.gpt_sizes, version is not None)
    elapsed, (busy1, ours1) = time.time() - start, cpu_seconds()
    others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / (elapsed * os.cpu_count())
    text = results_header(version, elapsed, others) + "\n\n" + tables + "\n"
    print("\n" + text)
    tmp = args.out + ".tmp"  # written whole, then renamed: never a half-written RESULTS.md
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.out)
    progress(f"wrote {args.out}")
    if not all_pass:
        sys.exit("bench: a first-step loss disagrees with PyTorch's (FAIL above)")


if __name__ == "__main__":
    main()
