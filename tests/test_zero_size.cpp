// Tensors with a dim of size 0. PyTorch's rules: reducing a dim of size 0 with no identity (max, argmax) is an
// error; reducing a non-empty dim of a tensor that is empty elsewhere gives an empty result; sums of nothing are 0;
// products with an inner size of 0 are zeros, and their gradients are zeros of the inputs' shapes.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "engine/engine.h"

using ag::DType;
using ag::Shape;
using ag::Tensor;
using Catch::Contains;

TEST_CASE("zero size: max and argmax over a non-empty dim of an empty tensor give an empty result", "[reduction]") {
    CHECK(std::get<0>(ag::max(ag::zeros({3, 0}), 0)).shape() == Shape{0});
    CHECK(ag::argmax(ag::zeros({3, 0}), 0).shape() == Shape{0});
    CHECK(std::get<0>(ag::max(ag::zeros({2, 3, 0}), 1)).shape() == Shape{2, 0});
    CHECK(std::get<0>(ag::max(ag::zeros({2, 3, 0}), 1, /*keepdim=*/true)).shape() == Shape{2, 1, 0});
    CHECK(ag::argmax(ag::zeros({0, 3}), 1).shape() == Shape{0});
    CHECK(std::get<0>(ag::max(ag::zeros({0, 4, 2}, DType::Float64), -1)).shape() == Shape{0, 4});
    // and the gradient of such a max is an empty gradient
    Tensor x = ag::zeros({2, 3, 0}).requires_grad_();
    std::get<0>(ag::max(x, 1)).sum().backward();
    CHECK(x.grad().shape() == Shape{2, 3, 0});
}

TEST_CASE("zero size: max and argmax over a dim of size 0 are errors", "[reduction]") {
    REQUIRE_THROWS_WITH(ag::max(ag::zeros({3, 0}), 1), "max: cannot reduce over a dim of size 0; got shape [3, 0] and dim 1");
    REQUIRE_THROWS_WITH(ag::argmax(ag::zeros({3, 0}), -1), Contains("argmax: cannot reduce over a dim of size 0"));
    REQUIRE_THROWS_WITH(ag::max(ag::zeros({0, 2})), Contains("max: cannot reduce an empty tensor"));
}

TEST_CASE("zero size: sums over nothing are 0, means NaN, softmax of nothing is empty", "[reduction][softmax]") {
    CHECK(ag::sum(ag::zeros({3, 0}), 1).to_vector<float>() == std::vector<float>(3, 0.0f));
    CHECK(ag::sum(ag::zeros({3, 0}), 0).shape() == Shape{0});
    CHECK(ag::sum(ag::zeros({0, 5})).item() == 0);
    for (float v : ag::mean(ag::zeros({2, 0}), 1).to_vector<float>()) CHECK(std::isnan(v));
    CHECK(ag::softmax(ag::zeros({3, 0}), 0).shape() == Shape{3, 0});
    CHECK(ag::softmax(ag::zeros({0, 3}), 1).shape() == Shape{0, 3});
    CHECK(ag::log_softmax(ag::zeros({2, 0, 3}), 1).shape() == Shape{2, 0, 3});
    CHECK(ag::self_attention(ag::zeros({2, 0, 6}), 2, true, 1.0).shape() == Shape{2, 0, 2});
    CHECK(ag::index_select(ag::zeros({3, 0}), 0, ag::zeros({2}, DType::Int64)).shape() == Shape{2, 0});
    CHECK(ag::tril(ag::ones({0, 4, 4})).shape() == Shape{0, 4, 4});
}

TEST_CASE("zero size: matmul with an inner size of 0 gives zeros, and zero gradients", "[matmul]") {
    Tensor a = ag::ones({2, 3, 0}).requires_grad_(), b = ag::ones({0, 4}).requires_grad_();
    Tensor out = ag::matmul(a, b);
    CHECK(out.shape() == Shape{2, 3, 4});
    CHECK(out.to_vector<float>() == std::vector<float>(24, 0.0f));
    out.sum().backward();
    CHECK(a.grad().shape() == Shape{2, 3, 0});
    CHECK(b.grad().shape() == Shape{0, 4});
    // 1-D: the dot product of two empty vectors
    Tensor u = ag::zeros({0}).requires_grad_(), v = ag::zeros({0}).requires_grad_();
    Tensor dot = ag::matmul(u, v);
    CHECK(dot.item() == 0);
    dot.backward();
    CHECK(u.grad().shape() == Shape{0});
}

TEST_CASE("zero size: matmul with no rows or no columns gives an empty result and zero gradients", "[matmul]") {
    Tensor a = ag::ones({0, 3}).requires_grad_(), b = ag::ones({3, 4}).requires_grad_();
    Tensor out = ag::matmul(a, b);  // (0, 4)
    CHECK(out.shape() == Shape{0, 4});
    out.sum().backward();
    CHECK(a.grad().shape() == Shape{0, 3});
    CHECK(b.grad().to_vector<float>() == std::vector<float>(12, 0.0f));
    Tensor c = ag::ones({2, 5, 3}).requires_grad_(), d = ag::ones({3, 0}).requires_grad_();
    Tensor wide = ag::matmul(c, d);  // (2, 5, 0)
    CHECK(wide.shape() == Shape{2, 5, 0});
    wide.sum().backward();
    CHECK(c.grad().to_vector<float>() == std::vector<float>(30, 0.0f));
    CHECK(d.grad().shape() == Shape{3, 0});
    Tensor e = ag::ones({0, 2, 3}).requires_grad_(), f = ag::ones({0, 3, 2}).requires_grad_();
    Tensor none = ag::matmul(e, f);  // no batches at all
    CHECK(none.shape() == Shape{0, 2, 2});
    none.sum().backward();
    CHECK(f.grad().shape() == Shape{0, 3, 2});
}
