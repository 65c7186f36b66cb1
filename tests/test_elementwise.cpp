// Element-wise ops (engine/ops.h, "element-wise"): add, sub, mul, div with broadcasting and with numbers, neg and
// the math functions, comparisons and allclose, masked_fill. Forward values against PyTorch 1.13 in float32 and
// float64 and float32 gradients of whole expressions (tests/fixtures/op_fixtures.inc, written by
// tests/fixtures/make_op_fixtures.py), gradcheck in float64, and each error message ("op: rule; got <actual>").
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using namespace ag;
using Catch::Contains;

// ---- arithmetic and broadcasting -----------------------------------------------------------------------------------

TEST_CASE("add, sub, mul, div: (3,1) with (1,4) broadcast to (3,4) like PyTorch", "[elementwise]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor a = make(fx::a31, dt), b = make(fx::b14, dt), p = make(fx::p14, dt);
    check_close(a + b, fx::add_a31_b14, dt);
    check_close(a - b, fx::sub_a31_b14, dt);
    check_close(a * b, fx::mul_a31_b14, dt);
    check_close(a / p, fx::div_a31_p14, dt);
    check_close(ag::add(a, b), fx::add_a31_b14, dt);
    check_close(ag::sub(a, b), fx::sub_a31_b14, dt);
    check_close(ag::mul(a, b), fx::mul_a31_b14, dt);
    check_close(ag::div(a, p), fx::div_a31_p14, dt);
}

TEST_CASE("element-wise: (4), (3,1) and (5,5) broadcast against batched operands like PyTorch", "[elementwise]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::x234, dt), v = make(fx::v4, dt);
    check_close(x * v, fx::mul_x234_v4, dt);
    check_close(x + make(fx::a31, dt), fx::add_x234_a31, dt);
    check_close(v - x, fx::sub_v4_x234, dt);
    check_close(x / make(fx::p34, dt), fx::div_x234_p34, dt);
    check_close(make(fx::x255, dt) + make(fx::m55, dt), fx::add_x255_m55, dt);
}

TEST_CASE("neg and the operators with a number match PyTorch", "[elementwise]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor a = make(fx::a34, dt), p = make(fx::p34, dt);
    check_close(-a, fx::neg_a34, dt);
    check_close(ag::neg(a), fx::neg_a34, dt);
    check_close(a * 2, fx::a34_times_2, dt);
    check_close(2 * a, fx::a34_times_2, dt);
    check_close(a + 1.5, fx::a34_plus_1_5, dt);
    check_close(1.5 + a, fx::a34_plus_1_5, dt);
    check_close(1 - a, fx::one_minus_a34, dt);
    check_close(a - 0.25, fx::a34_minus_0_25, dt);
    check_close(2 / p, fx::two_over_p34, dt);
    check_close(a / 3, fx::a34_over_3, dt);
}

TEST_CASE("element-wise: the gradient of a (2,3,4) * (4) * (3,1) product reduces to each input's shape like PyTorch",
          "[elementwise]") {
    Tensor a = leaf(fxg::bc_a), b = leaf(fxg::bc_b), c = leaf(fxg::bc_c);
    Tensor loss = (a * b * c * make(fxg::bc_w)).mean();
    check_close(loss, fxg::broadcast_mean_loss);
    loss.backward();
    check_close(a.grad(), fxg::broadcast_mean_dbc_a);
    check_close(b.grad(), fxg::broadcast_mean_dbc_b);
    check_close(c.grad(), fxg::broadcast_mean_dbc_c);
}

TEST_CASE("add, sub, mul, div: gradients on equal shapes match finite differences", "[elementwise][gradcheck]") {
    ag::manual_seed(1);
    Tensor a = input({2, 3}), b = input({2, 3}), d = positive({2, 3});
    check_binary([](const Tensor& x, const Tensor& y) { return x + y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x - y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x * y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x / y; }, a, d);
}

TEST_CASE("add, sub, mul, div: gradients of (3,1) with (1,4) broadcast match finite differences",
          "[elementwise][gradcheck]") {
    ag::manual_seed(2);
    Tensor a = input({3, 1}), b = input({1, 4}), d = positive({1, 4});
    check_binary([](const Tensor& x, const Tensor& y) { return ag::add(x, y); }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return ag::sub(x, y); }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return ag::mul(x, y); }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return ag::div(x, y); }, a, d);
}

TEST_CASE("add, sub, mul, div: gradients of (2,3,4) with (4) broadcast match finite differences",
          "[elementwise][gradcheck]") {
    ag::manual_seed(3);
    Tensor a = input({2, 3, 4}), b = input({4}), d = positive({4});
    check_binary([](const Tensor& x, const Tensor& y) { return x + y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return y - x; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x * y; }, a, b);
    check_binary([](const Tensor& x, const Tensor& y) { return x / y; }, a, d);
    check_binary([](const Tensor& x, const Tensor& y) { return y / x; }, d.detach().clone().requires_grad_(), b);
    check_binary([](const Tensor& x, const Tensor& y) { return x * y; }, input({2, 1, 4}), input({3, 1}));  // both broadcast
}

TEST_CASE("arithmetic with numbers (0-d operands): gradients match finite differences", "[elementwise][gradcheck]") {
    ag::manual_seed(4);
    Tensor x = input({2, 3}), p = positive({2, 3});
    check_unary([](const Tensor& t) { return t * 2.0; }, x);
    check_unary([](const Tensor& t) { return 3.0 * t; }, x);
    check_unary([](const Tensor& t) { return t + 1.5; }, x);
    check_unary([](const Tensor& t) { return 1.5 + t; }, x);
    check_unary([](const Tensor& t) { return t - 0.5; }, x);
    check_unary([](const Tensor& t) { return 1.0 - t; }, x);
    check_unary([](const Tensor& t) { return t / 4.0; }, x);
    check_unary([](const Tensor& t) { return 2.0 / t; }, p);
}

TEST_CASE("0-d tensors combined with full tensors: gradients match finite differences", "[elementwise][gradcheck]") {
    ag::manual_seed(5);
    Tensor s = input({}), x = input({2, 3});
    check_binary([](const Tensor& a, const Tensor& b) { return a * b; }, s, x);
    check_binary([](const Tensor& a, const Tensor& b) { return b - a; }, s, x);
    check_binary([](const Tensor& a, const Tensor& b) { return a + b; }, s, x);
}

TEST_CASE("element-wise ops name the op and both shapes when they cannot broadcast", "[elementwise][errors]") {
    Tensor a = ag::ones({2, 3}), b = ag::ones({4});
    REQUIRE_THROWS_AS(ag::add(a, b), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::add(a, b), "add: shapes cannot be broadcast; got [2, 3] and [4]");
    REQUIRE_THROWS_AS(a - b, std::invalid_argument);
    REQUIRE_THROWS_WITH(a - b, "sub: shapes cannot be broadcast; got [2, 3] and [4]");
    REQUIRE_THROWS_AS(b * a, std::invalid_argument);
    REQUIRE_THROWS_WITH(b * a, "mul: shapes cannot be broadcast; got [4] and [2, 3]");
    REQUIRE_THROWS_AS(a / ag::ones({3, 3}), std::invalid_argument);
    REQUIRE_THROWS_WITH(a / ag::ones({3, 3}), "div: shapes cannot be broadcast; got [2, 3] and [3, 3]");
    REQUIRE_THROWS_AS(a < b, std::invalid_argument);
    REQUIRE_THROWS_WITH(a < b, Contains("lt: shapes cannot be broadcast"));
    REQUIRE_THROWS_AS(ag::allclose(a, b), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::allclose(a, b), Contains("allclose: shapes cannot be broadcast; got [2, 3] and [4]"));
}

TEST_CASE("add, mul, lt: mixing dtypes is refused, not promoted", "[elementwise][errors]") {
    Tensor f32 = ag::ones({2, 2}), f64 = ag::ones({2, 2}, DType::Float64);
    REQUIRE_THROWS_AS(f32 + f64, std::invalid_argument);
    REQUIRE_THROWS_WITH(f32 + f64, "add: both tensors must have the same dtype; got torch.float32 and torch.float64");
    REQUIRE_THROWS_WITH(f64 * f32, Contains("mul: both tensors must have the same dtype"));
    REQUIRE_THROWS_WITH(ag::lt(f32, f64), Contains("lt: both tensors must have the same dtype"));
}

// ---- neg and the math functions ------------------------------------------------------------------------------------

TEST_CASE("pow, exp, log, sqrt, tanh, relu match PyTorch on ordinary values", "[elementwise]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor a = make(fx::a34, dt), p = make(fx::p34, dt);
    check_close(ag::pow(a, 2), fx::pow_a34_2, dt);
    check_close(a.pow(3), fx::pow_a34_3, dt);
    check_close(p.pow(0.5), fx::pow_p34_0_5, dt);
    check_close(p.pow(-1.5), fx::pow_p34_neg_1_5, dt);
    check_close(ag::exp(a), fx::exp_a34, dt);
    check_close(ag::log(p), fx::log_p34, dt);
    check_close(ag::sqrt(p), fx::sqrt_p34, dt);
    check_close(ag::tanh(a), fx::tanh_a34, dt);
    check_close(ag::relu(a), fx::relu_a34, dt);
}

TEST_CASE("pow, exp, log, sqrt, tanh, relu give PyTorch's infinities and NaNs on inf, NaN, 0 and large values",
          "[elementwise]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor s = make(fx::special, dt);  // -inf, -100, -20, -2.5, -1, -0, 0, 0.5, 1, 20, 100, inf, NaN
    check_close(s.pow(2), fx::pow_special_2, dt);
    check_close(s.pow(3), fx::pow_special_3, dt);
    check_close(s.pow(1.5), fx::pow_special_1_5, dt);
    check_close(s.pow(-1), fx::pow_special_neg_1, dt);
    check_close(s.exp(), fx::exp_special, dt);  // exp(100) overflows float32 only
    check_close(s.log(), fx::log_special, dt);
    check_close(s.sqrt(), fx::sqrt_special, dt);
    check_close(s.tanh(), fx::tanh_special, dt);
    check_close(s.relu(), fx::relu_special, dt);
}

TEST_CASE("element-wise: a chain that uses x and p several times accumulates its gradients like PyTorch",
          "[elementwise]") {
    Tensor x = leaf(fxg::ew_x), p = leaf(fxg::ew_p);
    Tensor y = x.tanh() * x + (x * 0.5).exp() + x.relu() - p.log() + p.sqrt() / p.pow(1.5) + x / p;
    Tensor loss = (y * make(fxg::ew_w)).sum();
    check_close(loss, fxg::elementwise_chain_loss);
    loss.backward();
    check_close(x.grad(), fxg::elementwise_chain_dew_x);
    check_close(p.grad(), fxg::elementwise_chain_dew_p);
}

TEST_CASE("neg, exp, tanh: gradients match finite differences", "[elementwise][gradcheck]") {
    ag::manual_seed(7);
    Tensor x = input({2, 3, 4});
    check_unary([](const Tensor& t) { return -t; }, x);
    check_unary([](const Tensor& t) { return ag::neg(t); }, x);
    check_unary([](const Tensor& t) { return t.exp(); }, x);
    check_unary([](const Tensor& t) { return t.tanh(); }, x);
}

TEST_CASE("log and sqrt: gradients of positive inputs match finite differences", "[elementwise][gradcheck]") {
    ag::manual_seed(8);
    Tensor p = positive({2, 3, 4});
    check_unary([](const Tensor& t) { return t.log(); }, p);
    check_unary([](const Tensor& t) { return t.sqrt(); }, p);
}

TEST_CASE("relu: gradient of inputs away from 0 matches finite differences", "[elementwise][gradcheck]") {
    ag::manual_seed(9);
    check_unary([](const Tensor& t) { return t.relu(); }, away_from_zero({3, 5}));
}

TEST_CASE("pow: gradients with integer, negative and fractional exponents match finite differences",
          "[elementwise][gradcheck]") {
    ag::manual_seed(10);
    Tensor x = input({2, 3}), p = positive({2, 3});
    for (double e : {0.0, 1.0, 2.0, 3.0}) {
        INFO("exponent " << e);
        check_unary([e](const Tensor& t) { return t.pow(e); }, x);
    }
    for (double e : {-2.0, -1.0, -0.5, 0.5, 1.5, 2.5}) {
        INFO("exponent " << e << " on positive inputs");
        check_unary([e](const Tensor& t) { return ag::pow(t, e); }, p);
    }
}

TEST_CASE("exp: needs a floating-point tensor and says which dtype it got", "[elementwise][errors]") {
    REQUIRE_THROWS_WITH(ag::ones({2}, DType::Int64).exp(), "exp: expected a floating-point tensor; got torch.int64");
}

// ---- comparisons and allclose ----------------------------------------------------------------------------------------

TEST_CASE("comparisons: eq, ne, lt, le, gt, ge broadcast and treat NaN and infinities like PyTorch", "[elementwise]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor ci = make(fx::ci, dt), cj = make(fx::cj, dt);  // (3,4) and (1,4), integer-valued so that some are equal
    Tensor cn = make(fx::cn, dt), cm = make(fx::cm, dt);  // [nan, 1, inf, -inf, nan] and [nan, 1, inf, inf, 0]
    check_equal(ag::eq(ci, cj), fx::eq_ci_cj, DType::Bool);
    check_equal(ag::ne(ci, cj), fx::ne_ci_cj, DType::Bool);
    check_equal(ag::lt(ci, cj), fx::lt_ci_cj, DType::Bool);
    check_equal(ag::le(ci, cj), fx::le_ci_cj, DType::Bool);
    check_equal(ag::gt(ci, cj), fx::gt_ci_cj, DType::Bool);
    check_equal(ag::ge(ci, cj), fx::ge_ci_cj, DType::Bool);
    check_equal(cn == cm, fx::eq_cn_cm, DType::Bool);
    check_equal(cn != cm, fx::ne_cn_cm, DType::Bool);
    check_equal(cn < cm, fx::lt_cn_cm, DType::Bool);
    check_equal(ag::le(cn, cm), fx::le_cn_cm, DType::Bool);
    check_equal(cn > cm, fx::gt_cn_cm, DType::Bool);
    check_equal(ag::ge(cn, cm), fx::ge_cn_cm, DType::Bool);
}

TEST_CASE("comparisons with a number match PyTorch", "[elementwise]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor ci = make(fx::ci, dt);
    check_equal(ci == 1.0, fx::eq_ci_1, DType::Bool);
    check_equal(ci != 1.0, fx::ne_ci_1, DType::Bool);
    check_equal(ci < 1.0, fx::lt_ci_1, DType::Bool);
    check_equal(ci <= 1.0, fx::le_ci_1, DType::Bool);
    check_equal(ci > 1.0, fx::gt_ci_1, DType::Bool);
    check_equal(ci >= 1.0, fx::ge_ci_1, DType::Bool);
}

TEST_CASE("allclose: agrees with torch.allclose on NaN, infinities, the asymmetric rtol and broadcasting",
          "[elementwise]") {
    for (const fixture::AllcloseCase& c : fx::allclose_cases) {
        Tensor a = make(c.a, DType::Float64), b = make(c.b, DType::Float64);
        INFO("allclose(" << a << ", " << b << ", rtol=" << c.rtol << ", atol=" << c.atol << ")");
        CHECK(ag::allclose(a, b, c.rtol, c.atol) == c.expected);
    }
}

TEST_CASE("comparisons and allclose on small vectors, NaN and infinity included", "[elementwise]") {
    Tensor a = tensor({1.0, 2.0, 3.0});
    CHECK((a == 2.0).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0});
    CHECK((a != 2.0).to_vector<int64_t>() == std::vector<int64_t>{1, 0, 1});
    CHECK((a <= 2.0).to_vector<int64_t>() == std::vector<int64_t>{1, 1, 0});
    CHECK(allclose(a, a + 1e-6));
    CHECK_FALSE(allclose(a, a + 1e-3));
    CHECK(allclose(a, tensor({1.0, 2.0, 3.0001}), 1e-4));
    Tensor with_nan = tensor({NAN});
    CHECK_FALSE(allclose(with_nan, with_nan));
    CHECK(allclose(tensor({INFINITY}), tensor({INFINITY})));
}

// ---- masked_fill ----------------------------------------------------------------------------------------------------

TEST_CASE("masked_fill: masks of shape (4,4), (4,1), (1,4) and (2,1,4) broadcast to (2,4,4) like PyTorch",
          "[elementwise]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor att = make(fx::att, dt);
    check_equal(att.masked_fill(make(fx::causal, DType::Bool), -fixture::kInf), fx::att_fill_causal_neg_inf, dt);
    check_equal(ag::masked_fill(att, make(fx::mask41, DType::Bool), 0.0), fx::att_fill_mask41, dt);
    check_equal(ag::masked_fill(att, make(fx::mask14, DType::Bool), 2.5), fx::att_fill_mask14, dt);
    check_equal(ag::masked_fill(att, make(fx::mask214, DType::Bool), -1.0), fx::att_fill_mask214, dt);
}

TEST_CASE("masked_fill: the notebooks' tril(ones) == 0 mask is PyTorch's causal mask", "[elementwise]") {
    check_equal(ag::tril(ag::ones({4, 4})) == 0.0, fx::causal, DType::Bool);
}

TEST_CASE("masked_fill: gradient with a broadcast mask matches finite differences", "[elementwise][gradcheck]") {
    ag::manual_seed(22);
    Tensor mask = ag::randn({3, 4}) > 0.0;
    check_unary([mask](const Tensor& t) { return t.masked_fill(mask, 0.5); }, input({2, 3, 4}));
    check_unary([mask](const Tensor& t) { return ag::masked_fill(t, mask.index({Slice{}, Slice{0, 1}}), -2.0); },
           input({3, 4}));
}

TEST_CASE("masked_fill: the mask must be bool and broadcast to the tensor's shape", "[elementwise][errors]") {
    Tensor a = ag::ones({3}), mask = ag::ones({2, 3}) > 0.0;
    REQUIRE_THROWS_AS(ag::masked_fill(a, mask, 0.0), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::masked_fill(a, mask, 0.0), Contains("masked_fill:") && Contains("mask [2, 3] for tensor [3]"));
    REQUIRE_THROWS_AS(ag::masked_fill(a, ag::ones({4}) > 0.0, 0.0), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::masked_fill(a, ag::ones({4}) > 0.0, 0.0), Contains("masked_fill:") && Contains("[3] and [4]"));
    Tensor x = ag::ones({2, 3});
    REQUIRE_THROWS_AS(x.masked_fill(ag::zeros({2, 3}), 0.0), std::invalid_argument);
    REQUIRE_THROWS_WITH(x.masked_fill(ag::zeros({2, 3}), 0.0),
                        "masked_fill: the mask must be a bool tensor (e.g. tril == 0); got torch.float32");
    REQUIRE_THROWS_WITH(x.masked_fill(ag::zeros({2, 3}, DType::Int64), 0.0), Contains("got torch.int64"));
}
