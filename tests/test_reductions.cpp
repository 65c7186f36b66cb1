// Reductions (engine/ops.h, "reductions"): sum, mean, max and argmax over a dim or over everything, and sum_to.
// Forward values against PyTorch 1.13 in float32 and float64 and float32 gradients of a whole expression
// (tests/fixtures/op_fixtures.inc, written by tests/fixtures/make_op_fixtures.py), gradcheck in float64, the sum
// kernel's paths, and each error message. Tensors with a dim of size 0: test_zero_size.cpp.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <vector>

#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using ag::DType;
using ag::Tensor;
using Catch::Contains;

// ---- sum and mean ----------------------------------------------------------------------------------------------

TEST_CASE("sum, mean, max over each dim, with and without keepdim, match PyTorch", "[reduction]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    for (int64_t dim = 0; dim < 3; ++dim)
        for (bool keepdim : {false, true}) {
            CAPTURE(dim, keepdim);
            const size_t k = 2 * dim + keepdim;
            check_close(ag::sum(x, dim, keepdim), fx::sum_x234[k], dt);
            check_close(ag::mean(x, dim, keepdim), fx::mean_x234[k], dt);
            check_close(std::get<0>(ag::max(x, dim, keepdim)), fx::max_x234[k], dt);
            check_close(x.sum(dim - 3, keepdim), fx::sum_x234[k], dt);  // a negative dim counts from the end
            check_close(x.mean(dim - 3, keepdim), fx::mean_x234[k], dt);
            check_close(std::get<0>(x.max(dim - 3, keepdim)), fx::max_x234[k], dt);
        }
}

TEST_CASE("sum, mean, max over all elements and over dims of a transposed view match PyTorch", "[reduction]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    check_close(ag::sum(x), fx::sum_x234_all, dt);
    check_close(ag::mean(x), fx::mean_x234_all, dt);
    check_close(ag::max(x), fx::max_x234_all, dt);
    check_close(x.transpose(0, 2).sum(1), fx::sum_x234_t02_dim1, dt);
    check_close(std::get<0>(x.transpose(0, 2).max(0)), fx::max_x234_t02_dim0, dt);
}

TEST_CASE("sum, mean, max: gradients over dims, with and without keepdim, match PyTorch", "[reduction]") {
    Tensor x = leaf(fxg::rd_x);
    Tensor spread = std::get<0>(x.max(1, true)) - x.mean(1, true);  // (3, 1)
    Tensor loss = (spread * make(fxg::rd_w1)).sum() + (x.sum(0) * make(fxg::rd_w2)).sum();
    check_close(loss, fxg::reductions_loss);
    loss.backward();
    check_close(x.grad(), fxg::reductions_drd_x);
}

TEST_CASE("sum and mean: gradients over each dim, keepdim or not, and over all dims match finite differences",
          "[reduction][gradcheck]") {
    ag::manual_seed(11);
    Tensor x = input({2, 3, 4});
    check_unary([](const Tensor& t) { return t.sum(); }, x);
    check_unary([](const Tensor& t) { return t.mean(); }, x);
    for (int64_t dim : {0, 1, 2, -1})
        for (bool keepdim : {false, true}) {
            INFO("dim " << dim << ", keepdim " << keepdim);
            check_unary([=](const Tensor& t) { return t.sum(dim, keepdim); }, x);
            check_unary([=](const Tensor& t) { return t.mean(dim, keepdim); }, x);
        }
}

TEST_CASE("reductions of a 0-d tensor and of a transposed view: gradients match finite differences",
          "[reduction][gradcheck]") {
    ag::manual_seed(12);
    Tensor s = input({}), x = input({3, 4});
    check_unary([](const Tensor& t) { return t.sum(0); }, s);
    check_unary([](const Tensor& t) { return t.mean(); }, s);
    check_unary([](const Tensor& t) { return t.transpose(0, 1).sum(1); }, x);
    check_unary([](const Tensor& t) { return std::get<0>(t.transpose(0, 1).max(0, true)); }, distinct({3, 4}));
}

// Sums of (A, B, C) over dims 0 and 1 and over dim 1, checked against a plain loop in double: with C >= 8 the
// kept elements are contiguous and the kernel adds whole rows (in blocks of 512 columns); C = 3 walks element-wise.
TEST_CASE("sum: column sums over leading dims, in and across 512-column blocks, equal a plain double loop",
          "[reduction][kernels]") {
    using namespace ag;
    manual_seed(5);
    for (int64_t C : {3, 8, 700}) {
        for (DType dtype : {DType::Float32, DType::Float64}) {
            const int64_t A = 5, B = 7;
            Tensor a = randn({A, B, C}, dtype);
            std::vector<double> x = a.to_vector<double>();
            std::vector<double> over_01(C, 0.0), over_1(A * C, 0.0);
            for (int64_t i = 0; i < A; ++i)
                for (int64_t j = 0; j < B; ++j)
                    for (int64_t c = 0; c < C; ++c) {
                        over_01[c] += x[(i * B + j) * C + c];
                        over_1[i * C + c] += x[(i * B + j) * C + c];
                    }
            INFO("C = " << C << ", " << dtype_name(dtype));
            const double tol = dtype == DType::Float32 ? 1e-5 : 1e-13;
            CHECK(allclose(a.sum(0).sum(0), from_vector(over_01, {C}).to(dtype), tol, tol));
            CHECK(allclose(sum_to(a, {C}), from_vector(over_01, {C}).to(dtype), tol, tol));
            CHECK(allclose(a.sum(1), from_vector(over_1, {A, C}).to(dtype), tol, tol));
            // a transposed view: the kept dim is no longer contiguous, so the element-wise path runs
            CHECK(allclose(a.transpose(0, 2).sum(2).sum(1), from_vector(over_01, {C}).to(dtype), tol, tol));
        }
    }
}

// ---- max and argmax --------------------------------------------------------------------------------------------

TEST_CASE("argmax over each dim gives PyTorch's int64 positions, the first one on ties", "[reduction]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    for (int64_t dim = 0; dim < 3; ++dim)
        for (bool keepdim : {false, true}) {
            CAPTURE(dim, keepdim);
            check_equal(ag::argmax(x, dim, keepdim), fx::argmax_x234[2 * dim + keepdim], DType::Int64);
        }
    Tensor ties = make(fx::ties, dt);
    check_equal(ties.argmax(0), fx::argmax_ties_dim0, DType::Int64);
    check_equal(ties.argmax(1), fx::argmax_ties_dim1, DType::Int64);
}

TEST_CASE("max and argmax: a NaN is the maximum, as in PyTorch", "[reduction]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::with_nan, dt);  // [[1, nan, 3], [2, 5, nan], [nan, 0, 1]]
    check_close(std::get<0>(x.max(1)), fx::max_with_nan_dim1, dt);
    check_equal(x.argmax(1), fx::argmax_with_nan_dim1, DType::Int64);
    check_close(x.max(), fx::max_with_nan_all, dt);
}

TEST_CASE("max: gradient over each dim, keepdim or not, and over all dims matches finite differences",
          "[reduction][gradcheck]") {
    Tensor x = distinct({2, 3, 4});
    check_unary([](const Tensor& t) { return t.max(); }, x);
    for (int64_t dim : {0, 1, 2, -1})
        for (bool keepdim : {false, true}) {
            INFO("dim " << dim << ", keepdim " << keepdim);
            check_unary([=](const Tensor& t) { return std::get<0>(t.max(dim, keepdim)); }, x);
        }
}

// ---- errors ----------------------------------------------------------------------------------------------------

TEST_CASE("sum, mean, max, argmax: a dim out of range names the op, the valid range and the dim",
          "[reduction][errors]") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_AS(x.sum(2), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.sum(2), "sum: dim out of range (expected to be in [-2, 1]); got 2");
    REQUIRE_THROWS_WITH(x.sum(-3), "sum: dim out of range (expected to be in [-2, 1]); got -3");
    REQUIRE_THROWS_WITH(x.mean(5), Contains("mean: dim out of range") && Contains("got 5"));
    REQUIRE_THROWS_WITH(x.max(2), Contains("max: dim out of range") && Contains("got 2"));
    REQUIRE_THROWS_WITH(x.argmax(2), Contains("argmax: dim out of range"));
}

TEST_CASE("sum, mean, max, argmax: a 0-d tensor accepts dims 0 and -1 only", "[reduction][errors]") {
    Tensor s = ag::ones({});
    CHECK(s.sum(0).dim() == 0);
    REQUIRE_THROWS_WITH(s.max(1), Contains("max: dim out of range") && Contains("got 1"));
    REQUIRE_THROWS_WITH(s.argmax(1), Contains("argmax: dim out of range"));
    REQUIRE_THROWS_WITH(s.mean(1), Contains("mean: dim out of range"));
}

TEST_CASE("sum_to and max: a shape it cannot sum to, and an empty tensor, are refused", "[reduction][errors]") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_WITH(ag::sum_to(x, {4}), Contains("sum_to:") && Contains("[4]"));
    REQUIRE_THROWS_WITH(ag::max(ag::ones({0})), "max: cannot reduce an empty tensor; got shape [0]");
}
