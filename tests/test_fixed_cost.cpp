// What keeps the fixed cost of an op low must not change a result: arithmetic with a number keeps the number in its
// backward function instead of a 0-d tensor (same values, same gradients, one tensor less in the graph), and the
// per-thread lists of small buffers count right when tensors move between threads.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "engine/autograd.h"
#include "tests/gradcheck_helpers.h"

using namespace ag;

namespace {

// a (op) s through the tensor path: the number as a 0-d tensor of a's dtype, as PyTorch wraps it.
Tensor number_tensor(double s, const Tensor& a) { return full({}, s, a.dtype()); }

bool equal(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() && a.to_vector<double>() == b.to_vector<double>();
}

}  // namespace

TEST_CASE("fixed cost: arithmetic with a number gives the values of the same op with a 0-d tensor, bit for bit",
          "[fixed_cost]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    manual_seed(3);
    const Tensor a = randn({3, 5}, dt);
    for (const double s : {2.5, -0.1, 1e-3, 3.0e38}) {  // -0.1 and 1e-3 are rounded to float32 first
        const Tensor t = number_tensor(s, a);
        CHECK(equal(a * s, a * t));
        CHECK(equal(s * a, t * a));
        CHECK(equal(a + s, a + t));
        CHECK(equal(s + a, t + a));
        CHECK(equal(a - s, a - t));
        CHECK(equal(s - a, t - a));
        CHECK(equal(a / s, a / t));
    }
}

TEST_CASE("fixed cost: arithmetic with a number has the gradients of the tensor path, and passes gradcheck",
          "[fixed_cost]") {
    manual_seed(4);
    const Tensor a = input({2, 3});
    const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
        {"a * s", [](const Tensor& x) { return x * 1.7; }},   {"s * a", [](const Tensor& x) { return 1.7 * x; }},
        {"a + s", [](const Tensor& x) { return x + 1.7; }},   {"s + a", [](const Tensor& x) { return 1.7 + x; }},
        {"a - s", [](const Tensor& x) { return x - 1.7; }},   {"s - a", [](const Tensor& x) { return 1.7 - x; }},
        {"a / s", [](const Tensor& x) { return x / 1.7; }},
    };
    for (const auto& entry : ops) {  // (not a structured binding: clang 14 cannot capture one in a lambda)
        const std::function<Tensor(const Tensor&)>& op = entry.second;
        INFO(entry.first);
        require_gradcheck([&](const std::vector<Tensor>& in) { return op(in[0]) * in[0]; }, {a});
        const Tensor y = op(a);
        REQUIRE(y.grad_fn());
        CHECK(y.grad_fn()->inputs.size() == 1);  // only a: no tensor for the number
        CHECK(y.grad_fn()->saved.empty());       // and no value to keep unchanged until backward
    }
}

TEST_CASE("fixed cost: arithmetic with a number still refuses a non-floating tensor, naming the op", "[fixed_cost]") {
    const Tensor i = from_vector(std::vector<int64_t>{1, 2}, {2});
    CHECK_THROWS_WITH(i * 2.0, Catch::Contains("mul"));
    CHECK_THROWS_WITH(2.0 + i, Catch::Contains("add"));
    CHECK_THROWS_WITH(i - 2.0, Catch::Contains("sub"));
    CHECK_THROWS_WITH(i / 2.0, Catch::Contains("div"));
}

TEST_CASE("fixed cost: small buffers made on one thread and freed on another are counted right", "[fixed_cost]") {
    const MemoryStats before = memory_stats();
    std::vector<Tensor> made;
    std::thread maker([&] {
        for (int i = 0; i < 100; ++i) made.push_back(ones({i % 7 + 1, 3}));
    });
    maker.join();  // the maker's lists went back to the system when it ended
    CHECK(memory_stats().live_buffers == before.live_buffers + 100);
    std::thread freer([&] {
        made.clear();  // into this thread's lists, which go back when it ends
        CHECK(memory_stats().cached_bytes >= before.cached_bytes);
    });
    freer.join();
    const MemoryStats after = memory_stats();
    CHECK(after.live_buffers == before.live_buffers);
    CHECK(after.live_bytes == before.live_bytes);
    CHECK(after.cached_bytes == before.cached_bytes);  // both threads ended: nothing of theirs is kept
}

TEST_CASE("fixed cost: a small buffer freed is handed to the next tensor of its size class on the thread",
          "[fixed_cost]") {
    { Tensor warm = empty({5}); }  // a buffer of the 64-byte class is now in this thread's list
    const std::size_t system_before = memory_stats().system_allocations;
    for (int i = 0; i < 100; ++i) {
        Tensor t = empty({1 + i % 16});  // 4 to 64 bytes: one size class
        t.fill_(1.0);
    }
    const std::size_t taken = memory_stats().system_allocations - system_before;
    CHECK(taken == (recycles_buffers() ? 0 : 100));  // under AddressSanitizer, all from the system
}

TEST_CASE("fixed cost: tensors made on one thread and freed on another are recycled, not taken anew each time",
          "[fixed_cost]") {
    auto round = [] {  // a loader thread makes the batches, this thread frees them
        std::vector<Tensor> batches;
        std::thread loader([&] {
            for (int i = 0; i < 2000; ++i) batches.push_back(empty({256}));  // 1 KiB each
        });
        loader.join();
        batches.clear();
    };
    for (int r = 0; r < 4; ++r) round();  // this thread's list fills (4 MiB), then the rest goes to the shared cache
    const std::size_t before = memory_stats().system_allocations;
    for (int r = 0; r < 10; ++r) round();
    const std::size_t taken = memory_stats().system_allocations - before;
    if (recycles_buffers()) CHECK(taken == 0);  // every batch after the warm-up reuses a buffer freed before
}

TEST_CASE("fixed cost: a backward function that frees part of the graph with a backward of its own gets an error",
          "[fixed_cost][autograd]") {
    // The outer pass still needs ExpBackward, which the inner backward() frees: running it would read freed values.
    const Tensor x = full({4}, 1.0).requires_grad_();
    const Tensor h = x.exp();
    const Tensor inner = h.sum();
    Tensor a = h.detach().clone();
    set_grad_fn(a, "CustomBackward", {&h}, /*saved=*/{}, [h, inner](const Tensor& dout) {
        inner.backward();
        accumulate_grad(h, dout);
    });
    CHECK_THROWS_WITH(a.sum().backward(), Catch::Contains("already freed") && Catch::Contains("ExpBackward"));
}

TEST_CASE("fixed cost: tensors of more dims than a shape keeps inline (6 and 8) view, broadcast, reduce and backprop",
          "[fixed_cost][views]") {
    ag::manual_seed(41);
    // 6-d: permute, a broadcast product with a 3-d tensor, a sum; the reversal equals three swaps
    Tensor x = input({2, 1, 3, 1, 2, 2}), y = input({3, 1, 2});
    check_binary([](const Tensor& a, const Tensor& b) { return (a.permute({5, 4, 3, 2, 1, 0}) * b).sum(1); }, x, y);
    CHECK(x.permute({5, 4, 3, 2, 1, 0}).contiguous().to_vector<double>() ==
          x.transpose(0, 5).transpose(1, 4).transpose(2, 3).contiguous().to_vector<double>());
    // 8-d: shapes and strides grow past the inline part, are copied and moved, and still address the elements
    Tensor z = arange(0, 256, 1, DType::Float64).reshape({2, 2, 2, 2, 2, 2, 2, 2});
    Shape shape = z.shape(), copied = shape, moved = std::move(copied);
    CHECK(moved == z.shape());
    CHECK(moved.size() == 8);
    CHECK(z.permute({7, 6, 5, 4, 3, 2, 1, 0}).contiguous().reshape({256}).index({1}).item() == 128.0);
    CHECK(z.sum(0).reshape({128}).index({127}).item() == 127.0 + 255.0);
    check_unary([](const Tensor& t) { return t.unsqueeze(0).unsqueeze(0).expand({2, 3, 2, 1, 3, 1, 2, 2}); },
                input({2, 1, 3, 1, 2, 2}));
}

TEST_CASE("fixed cost: a tensor's name is empty until set, can be set again, and set back to empty",
          "[fixed_cost]") {
    Tensor t = zeros({2});
    CHECK(t.name().empty());
    CHECK(t.set_name("").name().empty());
    CHECK(t.set_name("w").name() == "w");
    CHECK(t.set_name("a much longer name than any small-string buffer holds").name().size() == 53);
    CHECK(t.set_name("").name().empty());
}
