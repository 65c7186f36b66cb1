// Memory at scale: million-node graphs run and are freed without recursion, and give back every buffer and node;
// repeated training steps keep memory flat. Counted exactly with memory_stats() and live_nodes(), and checked
// against the process's resident memory where no sanitizer inflates it.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>

#include "engine/engine.h"
#include "examples/support/model.h"
#include "examples/support/tasks.h"
#include "layers/gpt.h"
#include "layers/optim.h"

using namespace ag;

namespace {

// What the engine holds: buffers, their bytes, graph nodes.
struct Held {
    std::size_t bytes, buffers;
    int64_t nodes;
    bool operator==(const Held&) const = default;
};

Held held() {
    const MemoryStats m = memory_stats();
    return {m.live_bytes, m.live_buffers, live_nodes()};
}

std::ostream& operator<<(std::ostream& os, const Held& h) {
    return os << h.bytes << " bytes in " << h.buffers << " buffers, " << h.nodes << " nodes";
}

// The process's resident set size in bytes (Linux).
std::size_t resident_bytes() {
    long pages_total = 0, pages_resident = 0;
    std::FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
    std::fclose(f);
    return static_cast<std::size_t>(pages_resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// AddressSanitizer keeps freed memory in quarantine and ThreadSanitizer grows its shadow: RSS says nothing there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

}  // namespace

TEST_CASE("memory: a chain of a million ops runs backward, and everything returns to the baseline",
          "[memory][autograd]") {
    const Held before = held();
    {
        Tensor x = tensor(1.0).requires_grad_();
        Tensor y = x;
        const int n = 1000000;
        for (int i = 0; i < n; ++i) y = y + 1.0;
        CHECK(live_nodes() - before.nodes == n);
        y.backward();
        CHECK(x.grad().item() == 1.0);
        CHECK(y.item() == 1.0 + n);
        CHECK(live_nodes() == before.nodes + 1);  // backward freed the graph; only y's own node remains

        // Dropping a long graph that never ran backward must not recurse either.
        Tensor z = x;
        for (int i = 0; i < n; ++i) z = z * 1.0;
        z = Tensor();
        // Nor one whose ops read the same tensor twice (each node lists its input twice).
        Tensor w = x;
        for (int i = 0; i < n; ++i) w = w * w;
        w = Tensor();
        Tensor m = ones({1, 1}).requires_grad_();
        for (int i = 0; i < n / 10; ++i) m = linear(m, m);
        m = Tensor();
    }
    CHECK(held() == before);
}

TEST_CASE("memory: a fan-in of a million nodes into one sum runs backward and returns to the baseline",
          "[memory][autograd]") {
    const Held before = held();
    {
        Tensor x = tensor({1.0}, DType::Float64).requires_grad_();
        Tensor total = zeros({1}, DType::Float64);
        const int n = 500000;  // two nodes each: x * c and the running + 
        for (int i = 0; i < n; ++i) total = total + x * static_cast<double>(i % 3);
        CHECK(live_nodes() - before.nodes == 2 * n);
        total.sum().backward();
        CHECK(x.grad().item() == Approx(static_cast<double>((n / 3) * 3 + (n % 3 == 2 ? 1 : 0))));
    }
    CHECK(held() == before);
}

TEST_CASE("memory: 1000 training steps keep the engine's memory and the process's resident memory flat",
          "[memory][autograd]") {
    const trainer::Task& task = trainer::find_task("lookup");
    manual_seed(5);
    trainer::AttentionModel model({task.V, task.T, 32, 16, 1});
    AdamW optimizer(model.named_parameters(), 1e-3);
    Generator gen(5);
    auto step = [&] {
        trainer::Batch b = task.sample(16, gen);
        Tensor loss = trainer::scored_loss(model(b.tokens), b);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    };
    for (int i = 0; i < 10; ++i) step();  // AdamW's moments and every cached buffer exist from here on
    const Held after_10 = held();
    const std::size_t cached_10 = memory_stats().cached_bytes, rss_10 = resident_bytes();
    for (int i = 10; i < 1000; ++i) step();
    CHECK(held() == after_10);
    CHECK(memory_stats().cached_bytes == cached_10);
    const double growth_mb = (static_cast<double>(resident_bytes()) - static_cast<double>(rss_10)) / (1 << 20);
    INFO("resident memory after step 10: " << rss_10 / (1 << 20) << " MB, growth by step 1000: " << growth_mb << " MB");
    if (!kSanitized) CHECK(growth_mb < 1.0);
}

TEST_CASE("memory: from its third step on, a GPT training step takes no buffer from the system",
          "[memory][gpt]") {
    manual_seed(6);
    GPTLanguageModel model({11, 8, 16, 2, 2, 0.1});
    AdamW optimizer(model.named_parameters(), 1e-3);
    const Tensor x = randint(0, 11, {3, 8}), y = randint(0, 11, {3, 8});
    auto step = [&] {
        Tensor loss = model.forward(x, y).second;
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    };
    step(), step();  // every size a step needs is in the cache from here on
    const std::size_t before = memory_stats().system_allocations;
    for (int i = 0; i < 5; ++i) step();
    const std::size_t taken = memory_stats().system_allocations - before;
    INFO(taken << " buffers from the system in 5 steps");
    if (!kSanitized) CHECK(taken == 0);  // AddressSanitizer's build recycles nothing, so that overflows stay visible
}

