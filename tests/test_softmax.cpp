// softmax and log_softmax (engine/ops.h, "softmax and losses"; cross_entropy: test_loss.cpp). Forward values
// against PyTorch 1.13 in float32 and float64, -inf and large logits included, and float32 gradients of a whole
// expression (tests/fixtures/op_fixtures.inc, written by tests/fixtures/make_op_fixtures.py), gradcheck in float64,
// the exp kernel softmax runs on, and each error message.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "engine/kernels.h"
#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using ag::DType;
using ag::Tensor;
using Catch::Contains;

// ---- values ----------------------------------------------------------------------------------------------------

TEST_CASE("softmax and log_softmax along each dim match PyTorch", "[softmax]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt);
    for (int64_t dim = 0; dim < 3; ++dim) {
        CAPTURE(dim);
        check_close(ag::softmax(x, dim), fx::softmax_x234[dim], dt);
        check_close(ag::log_softmax(x, dim), fx::log_softmax_x234[dim], dt);
        check_close(x.softmax(dim - 3), fx::softmax_x234[dim], dt);
        check_close(x.log_softmax(dim - 3), fx::log_softmax_x234[dim], dt);
    }
}

TEST_CASE("softmax: an all -inf row gives NaN, partly -inf rows and logits of 1000 stay finite, as in PyTorch",
          "[softmax]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    // rows: [-inf x4], [1, -inf, 2, -inf], [1000, 999, -1000, 0], [0.5, -0.25, 0.125, 2]
    Tensor rows = make(fx::rows, dt);
    check_close(rows.softmax(-1), fx::softmax_rows, dt);
    check_close(rows.log_softmax(-1), fx::log_softmax_rows, dt);
    check_close(rows.transpose(0, 1).softmax(0), fx::softmax_rowsT_dim0, dt);  // strided slices
    check_close(rows.transpose(0, 1).log_softmax(0), fx::log_softmax_rowsT_dim0, dt);
}

TEST_CASE("softmax of masked_fill(-inf): matches PyTorch along the last and a middle dim", "[softmax]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor att = make(fx::att, dt);
    check_close(att.masked_fill(make(fx::mask214, DType::Bool), -fixture::kInf).softmax(-1),
                fx::masked_softmax_att_mask214, dt);
    check_close(att.masked_fill(make(fx::mask41, DType::Bool), -fixture::kInf).softmax(1),
                fx::masked_softmax_att_mask41_dim1, dt);
}

// ---- gradients -------------------------------------------------------------------------------------------------

TEST_CASE("log_softmax: the gradient through index_select of a repeated column matches PyTorch", "[softmax]") {
    Tensor x = leaf(fxg::ls_x);
    Tensor loss = (ag::index_select(x.log_softmax(1), 1, make(fxg::ls_idx, DType::Int64)) * make(fxg::ls_w)).sum();
    check_close(loss, fxg::log_softmax_pick_loss);
    loss.backward();
    check_close(x.grad(), fxg::log_softmax_pick_dls_x);
}

TEST_CASE("softmax and log_softmax: gradients along every dim match finite differences", "[softmax][gradcheck]") {
    ag::manual_seed(19);
    Tensor x = input({2, 3, 4});
    for (int64_t dim : {0, 1, 2, -1}) {
        INFO("dim " << dim);
        check_unary([dim](const Tensor& t) { return t.softmax(dim); }, x);
        check_unary([dim](const Tensor& t) { return t.log_softmax(dim); }, x);
    }
    check_unary([](const Tensor& t) { return ag::softmax(t.transpose(0, 2), 1); }, x);
}

TEST_CASE("softmax: gradient of a causally masked input matches finite differences", "[softmax][gradcheck]") {
    ag::manual_seed(20);
    const int64_t T = 3;
    Tensor mask = causal_mask(T);
    // wei = softmax(masked_fill(x, future, -inf)): the gradient reaches the past and present logits only
    check_unary([mask](const Tensor& x) { return ag::softmax(x.masked_fill(mask, -kInf), -1); }, input({2, T, T}));
}

// ---- the exp kernel --------------------------------------------------------------------------------------------

TEST_CASE("exp_nonpositive: within 2 ulp of libm's expf wherever the result is a normal float", "[softmax][kernels]") {
    float worst_ulps = 0;
    for (float x = 0.0f; x > -87.33f; x = std::nextafter(x, -100.0f) - 1e-4f) {
        const float want = std::exp(x), got = ag::kernels::exp_nonpositive(x);
        const float ulp = std::nextafter(want, INFINITY) - want;
        worst_ulps = std::max(worst_ulps, std::abs(got - want) / ulp);
    }
    INFO("worst error: " << worst_ulps << " ulp");
    CHECK(worst_ulps <= 2.0f);
}

TEST_CASE("exp_nonpositive: exact at 0, exactly 0 where expf underflows, NaN stays NaN", "[softmax][kernels]") {
    using ag::kernels::exp_nonpositive;
    CHECK(exp_nonpositive(0.0f) == 1.0f);
    CHECK(exp_nonpositive(-std::numeric_limits<float>::infinity()) == 0.0f);
    CHECK(exp_nonpositive(-1000.0f) == 0.0f);
    CHECK(exp_nonpositive(-87.0f) > 0.0f);
    for (float x = -87.34f; x > -104.0f; x -= 0.01f)  // expf is subnormal here: flushing to 0 is off by < FLT_MIN
        CHECK(std::abs(exp_nonpositive(x) - std::exp(x)) < std::numeric_limits<float>::min());
    CHECK(std::isnan(exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}

// ---- errors ----------------------------------------------------------------------------------------------------

TEST_CASE("softmax, log_softmax: a dim out of range names the op, the valid range and the dim", "[softmax][errors]") {
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_AS(ag::softmax(x, 2), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::softmax(x, 2), "softmax: dim out of range (expected to be in [-2, 1]); got 2");
    REQUIRE_THROWS_WITH(ag::log_softmax(x, -3), Contains("log_softmax: dim out of range"));
    Tensor s = ag::ones({});  // a 0-d tensor accepts dims 0 and -1 only
    REQUIRE_THROWS_WITH(s.softmax(1), Contains("softmax: dim out of range"));
}
