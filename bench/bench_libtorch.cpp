// PyTorch's C++ API (libtorch) side of `make bench`: the Head training step and the per-op loop of
// bench_torch.py, without Python's interpreter in the loop, so the fixed cost of PyTorch's ops is measured at its
// lowest. The same flags and the same JSON line as bench_step.cpp and bench_torch.py:
//
//   bench_libtorch --mode step --name tiny --B 4 --T 8 --C 32 --head-size 16 --V 16 --threads 1
//   bench_libtorch --mode perop --threads 1
//
// Built by `make bench` when Debian's libtorch-dev is installed (bench/run.py then adds its column); nothing else
// needs it. The step draws its data as bench_torch.py does after torch::manual_seed(seed): x = randn(B, T, C), the
// modules (nn::Linear initialises as Python's does), targets = randint(0, V, (B, T)); so its first loss agrees too.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_timing.h"

using bench::Clock;
using bench::quantile;
using bench::seconds_since;
using bench::status_mb;

namespace {

struct Options {
    std::string mode = "step", name = "custom";
    int64_t B = 4, T = 8, C = 32, head_size = 16, V = 16;
    int threads = 1;
    uint64_t seed = 1337;
    double warmup_seconds = 0.3;
    int64_t warmup_steps = 2;
    double seconds = 2.0;
    int64_t min_steps = 5, max_steps = 2000;
};

// The notebook's version 4 head, scaled by head_size^-0.5, with a Linear(head_size, V) readout.
struct HeadModelImpl : torch::nn::Module {
    HeadModelImpl(int64_t C, int64_t head_size, int64_t V)
        : key(register_module("key", torch::nn::Linear(torch::nn::LinearOptions(C, head_size).bias(false)))),
          query(register_module("query", torch::nn::Linear(torch::nn::LinearOptions(C, head_size).bias(false)))),
          value(register_module("value", torch::nn::Linear(torch::nn::LinearOptions(C, head_size).bias(false)))),
          readout(register_module("readout", torch::nn::Linear(head_size, V))),
          scale(std::pow(static_cast<double>(head_size), -0.5)) {}

    torch::Tensor forward(const torch::Tensor& x) {
        const int64_t T = x.size(1);
        auto k = key(x), q = query(x);                                  // (B, T, hs)
        auto wei = torch::matmul(q, k.transpose(-2, -1)) * scale;       // (B, T, T)
        wei = wei.masked_fill(torch::tril(torch::ones({T, T})) == 0, -INFINITY);
        wei = torch::softmax(wei, -1);
        return readout(torch::matmul(wei, value(x)));                   // (B, T, V)
    }

    torch::nn::Linear key, query, value, readout;
    double scale;
};
TORCH_MODULE(HeadModel);

// The first step's loss, a warm-up, then the measured steps in ms (as time_steps in bench_step.cpp).
template <typename Step>
double time_steps(const Options& o, Step step, int64_t& warmup, std::vector<double>& ms) {
    const double loss0 = step();
    warmup = 1;
    auto t0 = Clock::now();
    while (warmup < o.warmup_steps || seconds_since(t0) < o.warmup_seconds) {
        step();
        ++warmup;
    }
    t0 = Clock::now();
    while (static_cast<int64_t>(ms.size()) < o.max_steps &&
           (static_cast<int64_t>(ms.size()) < o.min_steps || seconds_since(t0) < o.seconds)) {
        const auto s = Clock::now();
        step();
        ms.push_back(seconds_since(s) * 1e3);
    }
    return loss0;
}

void run_step(const Options& o) {
    torch::manual_seed(o.seed);
    auto x = torch::randn({o.B, o.T, o.C});
    HeadModel model(o.C, o.head_size, o.V);
    auto targets = torch::randint(0, o.V, {o.B, o.T});
    torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-3));  // PyTorch's defaults
    auto step = [&] {
        optimizer.zero_grad();
        auto logits = model->forward(x);
        auto loss = torch::nn::functional::cross_entropy(logits.view({o.B * o.T, o.V}), targets.view({o.B * o.T}));
        loss.backward();
        optimizer.step();
        return loss.item<double>();
    };
    const double base_rss = status_mb("VmRSS");
    int64_t warmup = 0;
    std::vector<double> ms;
    const double loss0 = time_steps(o, step, warmup, ms);
    const double median = quantile(ms, 0.5);
    const double forward = 3.0 * 2 * o.B * o.T * o.C * o.head_size + 2.0 * 2 * o.B * o.T * o.T * o.head_size +
                           2.0 * o.B * o.T * o.head_size * o.V;
    const double flops = 3 * forward;
    std::printf("{\"side\": \"torch C++\", \"mode\": \"step\", \"name\": \"%s\", \"B\": %lld, \"T\": %lld, "
                "\"C\": %lld, \"head_size\": %lld, \"V\": %lld, \"threads\": %d, \"seed\": %llu, "
                "\"warmup_steps\": %lld, \"steps\": %zu, \"loss0\": %.9g, \"median_ms\": %.6f, \"p10_ms\": %.6f, "
                "\"p90_ms\": %.6f, \"gflop\": %.6g, \"gflops\": %.6g, \"base_rss_mb\": %.1f, \"peak_rss_mb\": %.1f}\n",
                o.name.c_str(), static_cast<long long>(o.B), static_cast<long long>(o.T),
                static_cast<long long>(o.C), static_cast<long long>(o.head_size), static_cast<long long>(o.V),
                o.threads, static_cast<unsigned long long>(o.seed), static_cast<long long>(warmup), ms.size(),
                loss0, median, quantile(ms, 0.1), quantile(ms, 0.9), flops / 1e9, flops / 1e9 / (median / 1e3),
                base_rss, status_mb("VmHWM"));
}

// c = a * b; c.backward(ones) on two (4, 8) leaves that require grad: ns per iteration, in batches of 1000.
void run_perop(const Options& o) {
    torch::manual_seed(o.seed);
    auto a = torch::randn({4, 8}).requires_grad_();
    auto b = torch::randn({4, 8}).requires_grad_();
    auto dout = torch::ones({4, 8});
    const int iters = 1000;
    auto batch = [&] {
        for (int i = 0; i < iters; ++i) {
            auto c = a * b;
            c.backward(dout);
        }
    };
    auto t0 = Clock::now();
    while (seconds_since(t0) < o.warmup_seconds) batch();
    std::vector<double> ns;
    t0 = Clock::now();
    while (static_cast<int64_t>(ns.size()) < o.min_steps || seconds_since(t0) < o.seconds) {
        const auto s = Clock::now();
        batch();
        ns.push_back(seconds_since(s) * 1e9 / iters);
    }
    std::printf("{\"side\": \"torch C++\", \"mode\": \"perop\", \"threads\": %d, \"batches\": %zu, "
                "\"iters_per_batch\": %d, \"median_ns\": %.3f, \"p10_ns\": %.3f, \"p90_ns\": %.3f}\n",
                o.threads, ns.size(), iters, quantile(ns, 0.5), quantile(ns, 0.1), quantile(ns, 0.9));
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Times one configuration with PyTorch's C++ API and prints one JSON line."};
    app.add_option("--mode", o.mode, "step or perop")->check(CLI::IsMember({"step", "perop"}));
    app.add_option("--name", o.name, "a label copied into the output");
    app.add_option("--B", o.B, "batch")->check(CLI::PositiveNumber);
    app.add_option("--T", o.T, "sequence length")->check(CLI::PositiveNumber);
    app.add_option("--C", o.C, "channels")->check(CLI::PositiveNumber);
    app.add_option("--head-size", o.head_size, "head size")->check(CLI::PositiveNumber);
    app.add_option("--V", o.V, "vocabulary")->check(CLI::PositiveNumber);
    app.add_option("--threads", o.threads, "torch::set_num_threads")->check(CLI::PositiveNumber);
    app.add_option("--seed", o.seed, "torch::manual_seed");
    app.add_option("--warmup-seconds", o.warmup_seconds, "warm up at least this long")->check(CLI::NonNegativeNumber);
    app.add_option("--warmup-steps", o.warmup_steps, "and at least this many steps")->check(CLI::PositiveNumber);
    app.add_option("--seconds", o.seconds, "measure at least this long")->check(CLI::NonNegativeNumber);
    app.add_option("--min-steps", o.min_steps, "at least this many steps")->check(CLI::PositiveNumber);
    app.add_option("--max-steps", o.max_steps, "at most this many steps")->check(CLI::PositiveNumber);
    CLI11_PARSE(app, argc, argv);
    torch::set_num_threads(o.threads);
    if (o.mode == "step")
        run_step(o);
    else
        run_perop(o);
    return 0;
}
