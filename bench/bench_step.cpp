// Our side of `make bench`: times one configuration per process and prints one JSON line.
//
//   bench_step --mode step --name medium --B 16 --T 256 --C 384 --head-size 64 --V 65 --threads 2
//   bench_step --mode sgemm --n 2048 --threads 1      OpenBLAS sgemm through the engine's gemm: the machine's peak
//   bench_step --mode perop --threads 1               the fixed cost of one tiny op, forward + backward
//   bench_step --mode gpt --name gpt-cpu --B 12 --T 64 --C 128 --n-head 4 --n-layer 4 --dropout 0 --V 65
//                                                     one training step of the lecture's GPTLanguageModel
//
// bench/bench_torch.py does the same with PyTorch and prints the same fields; bench/run.py runs both, one process
// per configuration (so each peak RSS belongs to one size alone), and makes the table.
//
// A training step is the notebook's Head with a readout, trained with AdamW on fixed random data:
//   x = randn(B, T, C); head = Head(C, head_size); readout = Linear(head_size, V); targets = randint(0, V, (B, T))
//   zero_grad; logits = readout(head(x)) (B, T, V); loss = cross_entropy over all B*T positions; backward; step
// drawn in that order after manual_seed(seed), so the first step's loss equals PyTorch's for the same seed.
// A GPT step is the lecture's: GPTLanguageModel(V, block T, n_embd C, n_head, n_layer, dropout) built after
// manual_seed(seed), then x, y = randint(0, V, (B, T)) twice; logits, loss = model(x, y); zero_grad; backward; AdamW.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/bench_timing.h"

#include "engine/engine.h"
#include "engine/kernels.h"  // the sgemm mode calls the engine's gemm directly
#include "layers/layers.h"
#include "layers/optim.h"

using ag::Tensor;
using bench::Clock;
using bench::quantile;
using bench::seconds_since;
using bench::status_mb;

namespace {

struct Options {
    std::string mode = "step", name = "custom";
    int64_t B = 4, T = 8, C = 32, head_size = 16, V = 16;
    int64_t n_head = 4, n_layer = 1;  // gpt
    double dropout = 0;               // gpt
    int threads = 1;
    uint64_t seed = 1337;
    double warmup_seconds = 0.3;  // warm-up lasts this long and at least warmup_steps steps
    int64_t warmup_steps = 2;
    double seconds = 2.0;         // measure for this long, but at least min_steps and at most max_steps steps
    int64_t min_steps = 5, max_steps = 2000;
    int64_t n = 1024;             // sgemm: n x n times n x n
};

// The model timed: the notebook's Head (bias-free key/query/value, scaled, causal softmax, @ v) and a readout.
struct HeadModel : ag::Module {
    ag::Head head;
    ag::Linear readout;
    HeadModel(int64_t C, int64_t head_size, int64_t V) : head(C, head_size), readout(head_size, V) {
        register_module("head", head);
        register_module("readout", readout);
    }
    Tensor operator()(const Tensor& x) { return readout(head(x)); }  // (B, T, C) -> (B, T, V)
};

// Floating-point operations of one training step, counted from its matrix products only (2*M*N*K each):
//   forward  F = 2*B*T*C*hs * 3        key, query, value: (B*T, C) @ (C, hs)
//              + 2*B*T*T*hs * 2        q @ k^T and wei @ v, the full T x T products (causal skipping not credited)
//              + 2*B*T*hs*V            readout: (B*T, hs) @ (hs, V)
//   backward 2*F (each product's two input gradients), so the step counts 3*F.
// x needs no gradient, so the key/query/value backward really computes only the weight gradients: the convention
// over-credits the step by 2*B*T*C*hs*3 flops (both sides alike). Element-wise work, softmax, loss and AdamW are free.
double step_flops(const Options& o) {
    const double B = o.B, T = o.T, C = o.C, hs = o.head_size, V = o.V;
    const double forward = 3 * 2 * B * T * C * hs + 2 * 2 * B * T * T * hs + 2 * B * T * hs * V;
    return 3 * forward;
}

// The timing loop shared by the step modes: the first step's loss, a warm-up, then the measured steps (ms each).
struct Timings {
    double loss0;
    int64_t warmup;
    std::vector<double> ms;
    double system_allocations_per_step;  // buffers the cache did not serve, per measured step
};
template <typename Step>
Timings time_steps(const Options& o, Step step) {
    Timings t{step().item(), 1, {}, 0};  // the first step's loss, before any update
    for (const Clock::time_point t0 = Clock::now(); t.warmup < o.warmup_steps || seconds_since(t0) < o.warmup_seconds;)
        step(), ++t.warmup;
    const std::size_t allocations = ag::memory_stats().system_allocations;
    for (const Clock::time_point t0 = Clock::now();
         static_cast<int64_t>(t.ms.size()) < o.max_steps &&
         (static_cast<int64_t>(t.ms.size()) < o.min_steps || seconds_since(t0) < o.seconds);) {
        const Clock::time_point s = Clock::now();
        step();
        t.ms.push_back(seconds_since(s) * 1e3);
    }
    t.system_allocations_per_step =
        static_cast<double>(ag::memory_stats().system_allocations - allocations) / static_cast<double>(t.ms.size());
    return t;
}

// The matrix-product flops of one GPT step, as for the Head step: forward F over the n_layer blocks and the
// readout, full T x T attention products, the step 3 F:
//   per block  2*B*T*C*3C (key, query, value of every head) + 2*2*B*T*T*C (q @ k^T and wei @ v, all heads)
//              + 2*B*T*C*C (proj) + 2*2*B*T*C*4C (the feed-forward's two Linears)
//   readout    2*B*T*C*V
double gpt_flops(const Options& o) {
    const double B = o.B, T = o.T, C = o.C, V = o.V;
    const double block = 2 * B * T * C * 3 * C + 2 * 2 * B * T * T * C + 2 * B * T * C * C + 2 * 2 * B * T * C * 4 * C;
    return 3 * (o.n_layer * block + 2 * B * T * C * V);
}

void run_gpt(const Options& o) {
    ag::manual_seed(o.seed);
    ag::GPTLanguageModel model({o.V, o.T, o.C, o.n_head, o.n_layer, o.dropout});
    const Tensor x = ag::randint(0, o.V, {o.B, o.T}), y = ag::randint(0, o.V, {o.B, o.T});
    ag::AdamW optimizer(model.named_parameters());  // PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), wd 1e-2
    const double base_rss = status_mb("VmRSS");
    const Timings t = time_steps(o, [&] {
        Tensor loss = model.forward(x, y).second;
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        return loss;
    });
    const double median = quantile(t.ms, 0.5), flops = gpt_flops(o);
    std::printf("{\"side\": \"attograd\", \"mode\": \"gpt\", \"name\": \"%s\", \"B\": %lld, \"T\": %lld, \"C\": %lld, "
                "\"n_head\": %lld, \"n_layer\": %lld, \"dropout\": %g, \"V\": %lld, \"threads\": %d, \"seed\": %llu, "
                "\"warmup_steps\": %lld, \"steps\": %zu, \"loss0\": %.9g, \"median_ms\": %.6g, \"p10_ms\": %.6g, "
                "\"p90_ms\": %.6g, \"gflop\": %.6g, \"gflops\": %.6g, \"tokens_per_s\": %.6g, \"base_rss_mb\": %.1f, "
                "\"peak_rss_mb\": %.1f, \"system_allocations_per_step\": %.6g}\n",
                o.name.c_str(), (long long)o.B, (long long)o.T, (long long)o.C, (long long)o.n_head,
                (long long)o.n_layer, o.dropout, (long long)o.V, o.threads, (unsigned long long)o.seed,
                (long long)t.warmup, t.ms.size(), t.loss0, median, quantile(t.ms, 0.1), quantile(t.ms, 0.9),
                flops / 1e9, flops / 1e9 / (median / 1e3), o.B * o.T / (median / 1e3), base_rss, status_mb("VmHWM"),
                t.system_allocations_per_step);
}

void run_step(const Options& o) {
    ag::manual_seed(o.seed);
    const Tensor x = ag::randn({o.B, o.T, o.C});
    HeadModel model(o.C, o.head_size, o.V);
    const Tensor targets = ag::randint(0, o.V, {o.B, o.T});
    ag::AdamW optimizer(model.named_parameters());  // PyTorch's defaults: lr 1e-3, betas (0.9, 0.999), wd 1e-2
    auto step = [&] {
        optimizer.zero_grad();
        Tensor logits = model(x);
        Tensor loss = ag::cross_entropy(logits.view({o.B * o.T, o.V}), targets.view({o.B * o.T}));
        loss.backward();
        optimizer.step();
        return loss;
    };

    const double base_rss = status_mb("VmRSS");
    const Timings t = time_steps(o, step);
    const double loss0 = t.loss0, median = quantile(t.ms, 0.5), flops = step_flops(o);
    const std::vector<double>& ms = t.ms;
    const int64_t warmup = t.warmup;
    std::printf("{\"side\": \"attograd\", \"mode\": \"step\", \"name\": \"%s\", \"B\": %lld, \"T\": %lld, \"C\": %lld, "
                "\"head_size\": %lld, \"V\": %lld, \"threads\": %d, \"seed\": %llu, \"warmup_steps\": %lld, "
                "\"steps\": %zu, \"loss0\": %.9g, \"median_ms\": %.6g, \"p10_ms\": %.6g, \"p90_ms\": %.6g, "
                "\"gflop\": %.6g, \"gflops\": %.6g, \"base_rss_mb\": %.1f, \"peak_rss_mb\": %.1f}\n",
                o.name.c_str(), (long long)o.B, (long long)o.T, (long long)o.C, (long long)o.head_size, (long long)o.V,
                o.threads, (unsigned long long)o.seed, (long long)warmup, ms.size(), loss0, median,
                quantile(ms, 0.1), quantile(ms, 0.9), flops / 1e9, flops / 1e9 / (median / 1e3), base_rss,
                status_mb("VmHWM"));
}

// C = A @ B for n x n float32 matrices, straight through OpenBLAS: what the machine's sgemm reaches.
void run_sgemm(const Options& o) {
    const Tensor a = ag::randn({o.n, o.n}), b = ag::randn({o.n, o.n}), c = ag::zeros({o.n, o.n});
    auto gemm = [&] {
        ag::kernels::gemm(false, false, o.n, o.n, o.n, 1.0f, a.data<float>(), o.n, b.data<float>(), o.n, 0.0f,
                          c.data<float>(), o.n);
    };
    gemm();  // warm-up: OpenBLAS's buffers and threads
    std::vector<double> ms;
    for (const Clock::time_point t0 = Clock::now();
         static_cast<int64_t>(ms.size()) < o.min_steps || (seconds_since(t0) < o.seconds &&
                                                           static_cast<int64_t>(ms.size()) < o.max_steps);) {
        const Clock::time_point s = Clock::now();
        gemm();
        ms.push_back(seconds_since(s) * 1e3);
    }
    const double median = quantile(ms, 0.5), flops = 2.0 * o.n * o.n * o.n;
    std::printf("{\"side\": \"attograd\", \"mode\": \"sgemm\", \"n\": %lld, \"threads\": %d, \"reps\": %zu, "
                "\"median_ms\": %.6g, \"gflops\": %.6g}\n",
                (long long)o.n, o.threads, ms.size(), median, flops / 1e9 / (median / 1e3));
}

// The fixed cost of one op: c = a * b; c.backward(ones) on two (4, 8) float32 leaves that require grad (their .grad
// accumulates). Timed in batches of 1000 iterations; reported in ns per iteration (one forward and its backward).
void run_perop(const Options& o) {
    ag::manual_seed(o.seed);
    const Tensor a = ag::randn({4, 8}).requires_grad_(), b = ag::randn({4, 8}).requires_grad_();
    const Tensor dout = ag::ones({4, 8});
    constexpr int kIters = 1000;
    auto batch = [&] {
        for (int i = 0; i < kIters; ++i) {
            Tensor c = a * b;
            c.backward(dout);
        }
    };
    for (const Clock::time_point t0 = Clock::now(); seconds_since(t0) < o.warmup_seconds;) batch();
    std::vector<double> ns;
    for (const Clock::time_point t0 = Clock::now();
         static_cast<int64_t>(ns.size()) < o.min_steps || seconds_since(t0) < o.seconds;) {
        const Clock::time_point s = Clock::now();
        batch();
        ns.push_back(seconds_since(s) * 1e9 / kIters);
    }
    std::printf("{\"side\": \"attograd\", \"mode\": \"perop\", \"threads\": %d, \"batches\": %zu, "
                "\"iters_per_batch\": %d, \"median_ns\": %.6g, \"p10_ns\": %.6g, \"p90_ns\": %.6g}\n",
                o.threads, ns.size(), kIters, quantile(ns, 0.5), quantile(ns, 0.1), quantile(ns, 0.9));
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Times one attograd configuration and prints one JSON line (see bench/run.py)."};
    app.add_option("--mode", o.mode, "step, gpt, sgemm or perop")
        ->check(CLI::IsMember({"step", "gpt", "sgemm", "perop"}));
    app.add_option("--name", o.name, "label of the size, copied to the output");
    app.add_option("--B", o.B, "batch")->check(CLI::PositiveNumber);
    app.add_option("--T", o.T, "sequence length")->check(CLI::PositiveNumber);
    app.add_option("--C", o.C, "channels")->check(CLI::PositiveNumber);
    app.add_option("--head-size", o.head_size, "head size")->check(CLI::PositiveNumber);
    app.add_option("--V", o.V, "vocabulary (readout width)")->check(CLI::PositiveNumber);
    app.add_option("--threads", o.threads, "engine and OpenBLAS threads")->check(CLI::Range(1, 256));
    app.add_option("--seed", o.seed, "manual_seed before drawing x, the model and the targets");
    app.add_option("--warmup-seconds", o.warmup_seconds, "warm-up time")->check(CLI::NonNegativeNumber);
    app.add_option("--warmup-steps", o.warmup_steps, "at least this many warm-up steps (the first included)");
    app.add_option("--seconds", o.seconds, "measuring time")->check(CLI::NonNegativeNumber);
    app.add_option("--min-steps", o.min_steps, "at least this many measured steps (batches for perop)");
    app.add_option("--max-steps", o.max_steps, "at most this many measured steps (step, sgemm)");
    app.add_option("--n", o.n, "sgemm size")->check(CLI::PositiveNumber);
    app.add_option("--n-head", o.n_head, "gpt: heads per block")->check(CLI::PositiveNumber);
    app.add_option("--n-layer", o.n_layer, "gpt: blocks")->check(CLI::PositiveNumber);
    app.add_option("--dropout", o.dropout, "gpt: dropout in training")->check(CLI::Range(0.0, 0.99));
    CLI11_PARSE(app, argc, argv);
    try {
        ag::set_num_threads(o.threads);
        if (o.mode == "step") run_step(o);
        else if (o.mode == "gpt") run_gpt(o);
        else if (o.mode == "sgemm") run_sgemm(o);
        else run_perop(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_step: %s\n", e.what());
        return 1;
    }
    return 0;
}
