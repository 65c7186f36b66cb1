// Determinism: the same seed and thread count give the same bits; 1 and 2 threads agree to float32 rounding.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "engine/engine.h"
#include "layers/layers.h"

using namespace ag;

namespace {

// One training step of a Head large enough that the element-wise loops, reductions and batched matmuls split
// across threads; returns the output and the key weight's gradient.
std::vector<Tensor> step(int threads) {
    int previous = set_num_threads(threads);
    manual_seed(99);
    Tensor x = randn({8, 64, 64}).requires_grad_();
    Head head(64, 32);
    Tensor out = head(x);
    (out * randn(out.shape())).sum().backward();
    set_num_threads(previous);
    return {out, head.key.weight.grad(), x.grad()};
}

double abs_max(const Tensor& t) {
    double m = 0;
    for (float v : t.to_vector<float>()) m = std::max(m, static_cast<double>(std::abs(v)));
    return m;
}

}  // namespace

TEST_CASE("determinism: repeated runs with the same seed and threads are bit-identical", "[determinism][threads]") {
    for (int threads : {1, 2}) {
        std::vector<Tensor> first = step(threads), second = step(threads);
        for (size_t i = 0; i < first.size(); ++i)
            CHECK(first[i].to_vector<float>() == second[i].to_vector<float>());
    }
}

TEST_CASE("determinism: 1 and 2 threads agree within float32 rounding", "[determinism][threads]") {
    // BLAS splits long sums differently with more threads, so an element that is a sum of many terms can move by a
    // few float32 ulps of the terms' size: compare against each tensor's scale, not each element's.
    std::vector<Tensor> one = step(1), two = step(2);
    for (size_t i = 0; i < one.size(); ++i) {
        double scale = abs_max(two[i]);
        CHECK(allclose(one[i], two[i], 1e-5, 1e-5 * scale));
        CHECK_FALSE(allclose(one[i], two[i] * 1.001, 1e-5, 1e-5 * scale));  // the check can tell a real change
    }
}
