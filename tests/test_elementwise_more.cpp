// PyTorch's everyday element-wise ops (engine/ops.h, "more element-wise"): sigmoid, abs, clamp, minimum, maximum,
// silu, log1p, sin, cos. Forward values against PyTorch 1.13 in float32 and float64 and float32 gradients at the
// kinks and ties (tests/fixtures/elementwise_fixtures.inc, written by tests/fixtures/make_elementwise_fixtures.py),
// gradcheck in float64, and each error message.
#include <catch2/catch.hpp>

#include <cmath>
#include <optional>
#include <stdexcept>

#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/elementwise_fixtures.inc"
}  // namespace fixture
namespace fe = fixture::fx_ew;

using Catch::Contains;

TEST_CASE("sigmoid, abs, silu, sin, cos, log1p match PyTorch on ordinary values", "[elementwise_more]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    const Tensor x = make(fe::x34, dt);
    check_close(ag::sigmoid(x * 4.0), fe::sigmoid_x34, dt);
    check_close(ag::abs(x), fe::abs_x34, dt);
    check_close(ag::silu(x * 4.0), fe::silu_x34, dt);
    check_close(ag::sin(x * 4.0), fe::sin_x34, dt);
    check_close(ag::cos(x * 4.0), fe::cos_x34, dt);
    check_close(ag::log1p(ag::abs(x) - 0.5), fe::log1p_x34, dt);
}

TEST_CASE("sigmoid, abs, silu, log1p, clamp give PyTorch's values on infinities, NaN, 0, -0 and large values",
          "[elementwise_more]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    const Tensor e = make(fe::edge, dt);
    check_close(ag::sigmoid(e), fe::sigmoid_edge, dt);
    check_close(ag::abs(e), fe::abs_edge, dt);
    check_close(ag::silu(e), fe::silu_edge, dt);
    check_close(ag::log1p(e), fe::log1p_edge, dt);
    check_close(ag::clamp(e, -1.0, 1.0), fe::clamp_edge, dt);
}

TEST_CASE("clamp: both bounds, one bound, and crossed bounds (min > max gives max) match PyTorch",
          "[elementwise_more]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    const Tensor x = make(fe::x34, dt);
    check_close(ag::clamp(x, -0.5, 0.75), fe::clamp_x34, dt);
    check_close(ag::clamp(x, -0.5, std::nullopt), fe::clamp_min_x34, dt);
    check_close(ag::clamp(x, std::nullopt, 0.75), fe::clamp_max_x34, dt);
    check_close(ag::clamp(x, 1.0, -1.0), fe::clamp_crossed_x34, dt);
}

TEST_CASE("minimum, maximum: (3,1) with (1,4) broadcast, ties and NaN match PyTorch", "[elementwise_more]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    const Tensor a = make(fe::a31, dt), b = make(fe::b14, dt);
    check_close(ag::minimum(a, b), fe::minimum_a31_b14, dt);
    check_close(ag::maximum(a, b), fe::maximum_a31_b14, dt);
    check_close(ag::minimum(make(fe::nan4, dt), make(fe::v4, dt)), fe::minimum_nan, dt);
    check_close(ag::maximum(make(fe::nan4, dt), make(fe::v4, dt)), fe::maximum_nan, dt);
}

namespace {

// The float32 gradients of fn(inputs) weighted by 1, 2, 3, ..., as the fixture script computes them.
Tensor weights_like(const Tensor& out) {
    return ag::reshape(ag::arange(1.0, static_cast<double>(out.numel()) + 1), out.shape());
}

}  // namespace

TEST_CASE("minimum, maximum: at a tie each input gets half the gradient, as in PyTorch", "[elementwise_more]") {
    for (bool is_max : {false, true}) {
        Tensor a = fixture::leaf(fe::a31), b = fixture::leaf(fe::b14);
        Tensor out = is_max ? ag::maximum(a, b) : ag::minimum(a, b);
        (out * weights_like(out)).sum().backward();
        check_close(a.grad(), is_max ? fe::maximum_a31_b14_da31 : fe::minimum_a31_b14_da31);
        check_close(b.grad(), is_max ? fe::maximum_a31_b14_db14 : fe::minimum_a31_b14_db14);
    }
}

TEST_CASE("abs and clamp: gradients at the kinks (abs at 0, clamp at its bounds, included) match PyTorch",
          "[elementwise_more]") {
    Tensor k = fixture::leaf(fe::kinks);
    Tensor y = ag::abs(k);
    (y * weights_like(y)).sum().backward();
    check_close(k.grad(), fe::abs_kinks_dkinks);

    Tensor c = fixture::leaf(fe::kinks);
    y = ag::clamp(c, -1.0, 1.0);
    (y * weights_like(y)).sum().backward();
    check_close(c.grad(), fe::clamp_kinks_dkinks);

    Tensor d = fixture::leaf(fe::kinks);
    y = ag::clamp(d, 1.0, -1.0);
    (y * weights_like(y)).sum().backward();
    check_close(d.grad(), fe::clamp_crossed_kinks_dkinks);
}

TEST_CASE("sigmoid, silu, sin, cos: gradients match finite differences", "[elementwise_more][gradcheck]") {
    check_unary([](const Tensor& x) { return ag::sigmoid(x); }, input({3, 4}));
    check_unary([](const Tensor& x) { return ag::silu(x); }, input({2, 3, 2}));
    check_unary([](const Tensor& x) { return ag::sin(x); }, input({3, 4}));
    check_unary([](const Tensor& x) { return ag::cos(x); }, input({3, 4}));
    // a transposed (strided) input
    check_unary([](const Tensor& x) { return ag::sigmoid(x.transpose(0, 1)); }, input({3, 4}));
    // a reused input accumulates: d/dx sin(x) * cos(x)
    check_unary([](const Tensor& x) { return ag::sin(x) * ag::cos(x); }, input({5}));
}

TEST_CASE("abs, clamp, log1p: gradients away from the kinks match finite differences", "[elementwise_more][gradcheck]") {
    check_unary([](const Tensor& x) { return ag::abs(x); }, away_from_zero({3, 4}));
    // clamp at +-0.05 with inputs at least 0.1 from 0: both the flat and the passing parts
    check_unary([](const Tensor& x) { return ag::clamp(x * 0.5, -0.05, 0.05) + ag::clamp(x, -0.5, std::nullopt); },
                away_from_zero({4, 3}));
    check_unary([](const Tensor& x) { return ag::log1p(x); }, positive({3, 4}));
}

TEST_CASE("minimum, maximum: gradients with (3,1) and (1,4) broadcast match finite differences",
          "[elementwise_more][gradcheck]") {
    // multiples of 0.25 against multiples of 0.25 plus 0.125: no ties, where the functions have a kink
    auto shifted = [](const Shape& shape) { return (distinct(shape).detach() + 0.125).requires_grad_(); };
    check_binary([](const Tensor& a, const Tensor& b) { return ag::minimum(a, b); }, distinct({3, 1}),
                 shifted({1, 4}));
    check_binary([](const Tensor& a, const Tensor& b) { return ag::maximum(a, b); }, distinct({2, 3, 4}),
                 shifted({4}));
}

TEST_CASE("more element-wise ops: need floating tensors of one dtype, broadcastable shapes, a clamp bound",
          "[elementwise_more][errors]") {
    const Tensor i = ag::zeros({3}, DType::Int64), f = ag::zeros({3}), d = ag::zeros({3}, DType::Float64);
    REQUIRE_THROWS_WITH(ag::sigmoid(i), "sigmoid: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::abs(i), "abs: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::silu(i == 0.0), "silu: expected a floating-point tensor; got torch.bool");
    REQUIRE_THROWS_WITH(ag::log1p(i), "log1p: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::sin(i), "sin: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::cos(i), "cos: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::clamp(i, 0.0, 1.0), "clamp: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::clamp(f, std::nullopt, std::nullopt),
                        "clamp: at least one of min and max must be given; got neither");
    REQUIRE_THROWS_WITH(ag::maximum(f, d), "maximum: both tensors must have the same dtype; got torch.float32 and "
                                           "torch.float64");
    REQUIRE_THROWS_WITH(ag::minimum(i, i), "minimum: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::minimum(f, ag::zeros({4})), Contains("minimum") && Contains("[3]") && Contains("[4]"));
}

TEST_CASE("more element-wise ops: zero-size tensors give zero-size results and gradients", "[elementwise_more]") {
    Tensor x = ag::zeros({0, 3}, DType::Float64).requires_grad_();
    Tensor y = ag::sigmoid(x) + ag::abs(x) + ag::clamp(x, 0.0, 1.0) + ag::maximum(x, x) + ag::silu(x) + ag::sin(x);
    REQUIRE(y.shape() == Shape{0, 3});
    y.sum().backward();
    REQUIRE(x.grad().shape() == Shape{0, 3});
}
