// var, std, logsumexp and cumsum: forward values against PyTorch's (tests/fixtures/statistics_fixtures.inc) in
// float32 and float64, gradients by gradcheck in float64 (strided and keepdim cases included), the overloads that
// tell a dim from `unbiased`, PyTorch's NaN and infinity cases, and each error.
#include <cmath>
#include <limits>

#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/statistics_fixtures.inc"
}  // namespace fixture

namespace stx = fixture::stx;

namespace {

const DType kFloatTypes[] = {DType::Float32, DType::Float64};

// The settings of make_statistics_fixtures.py, in its order.
struct VarSetting {
    int64_t dim;
    bool unbiased, keepdim;
};
const VarSetting kVarSettings[] = {{0, true, false}, {1, false, true}, {2, true, true}, {-1, false, false}, {-2, true, false}};
const std::pair<int64_t, bool> kLseSettings[] = {{0, false}, {1, true}, {2, false}, {-1, true}};
const int64_t kCumsumDims[] = {0, 1, 2, -1};

// Same shape and the same values, bit for bit.
bool same(const Tensor& a, const Tensor& b) { return a.shape() == b.shape() && a.to_vector<double>() == b.to_vector<double>(); }

bool all_nan(const Tensor& t) {
    for (double v : t.to_vector<double>())
        if (!std::isnan(v)) return false;
    return true;
}

}  // namespace

// ---- var and std ---------------------------------------------------------------------------------------------------

TEST_CASE("var and std: match PyTorch along each dim, biased and unbiased, with and without keepdim", "[statistics]") {
    for (DType dt : kFloatTypes) {
        const Tensor x = make(stx::x234, dt);
        for (size_t i = 0; i < std::size(kVarSettings); ++i) {
            const VarSetting s = kVarSettings[i];
            INFO("dim " << s.dim << " unbiased " << s.unbiased << " keepdim " << s.keepdim);
            check_close(ag::var(x, s.dim, s.unbiased, s.keepdim), stx::var_dim[i], dt);
            check_close(ag::std(x, s.dim, s.unbiased, s.keepdim), stx::std_dim[i], dt);
        }
        check_close(ag::var(x), stx::var_all[0], dt);
        check_close(ag::var(x, false), stx::var_all[1], dt);
        check_close(ag::std(x), stx::std_all[0], dt);
        check_close(ag::std(x, false), stx::std_all[1], dt);
    }
}

TEST_CASE("var and std: a number as the second argument is a dim, a bool is `unbiased`", "[statistics]") {
    const Tensor x = make(stx::x234, DType::Float64);
    CHECK(ag::var(x, 1).shape() == Shape{2, 4});  // dim 1, unbiased
    CHECK(same(ag::var(x, 1), ag::var(x, int64_t{1}, true, false)));
    CHECK(same(ag::var(x, 2, false), ag::var(x, int64_t{2}, false, false)));
    CHECK(same(ag::std(x, -1, true, true), ag::std(x, int64_t{-1}, true, true)));
    CHECK(ag::var(x).shape() == Shape{});  // the whole tensor, unbiased
    CHECK(ag::var(x, false).shape() == Shape{});
    CHECK(ag::var(x, false).item() < ag::var(x, true).item());  // / N against / (N - 1)
    CHECK(ag::std(x, 0).shape() == Shape{3, 4});
    CHECK(ag::std(x, true).shape() == Shape{});
}

TEST_CASE("var and std: one element, unbiased, gives NaN as in PyTorch; biased gives 0", "[statistics]") {
    const Tensor one = ag::ones({3, 1}, DType::Float64);
    CHECK(all_nan(ag::var(one, 1)));
    CHECK(all_nan(ag::std(one, 1)));
    CHECK(all_nan(ag::var(ag::tensor(3.0))));
    CHECK(ag::var(one, 1, false).to_vector<double>() == std::vector<double>{0, 0, 0});
    CHECK(all_nan(ag::var(ag::zeros({2, 0}), 1)));  // no elements: NaN, as in PyTorch
    CHECK(ag::var(ag::zeros({2, 0}), 1).shape() == Shape{2});
    // The gradient is NaN there too (0 / 0), as PyTorch's.
    Tensor x = one.detach().requires_grad_();
    ag::var(x, 1).sum().backward();
    CHECK(all_nan(x.grad()));
}

TEST_CASE("var and std: gradients match finite differences", "[statistics][gradcheck]") {
    ag::manual_seed(21);
    for (const VarSetting s : kVarSettings) {
        INFO("dim " << s.dim << " unbiased " << s.unbiased << " keepdim " << s.keepdim);
        check_unary([s](const Tensor& a) { return ag::var(a, s.dim, s.unbiased, s.keepdim); }, input({2, 3, 4}));
        check_unary([s](const Tensor& a) { return ag::std(a, s.dim, s.unbiased, s.keepdim); }, input({2, 3, 4}));
    }
    check_unary([](const Tensor& a) { return ag::var(a); }, input({3, 4}));
    check_unary([](const Tensor& a) { return ag::std(a, false); }, input({3, 4}));
    // A strided (transposed) input, and the input used twice (gradients accumulate).
    check_unary([](const Tensor& a) { return ag::var(a.transpose(0, 1), 1); }, input({4, 3}));
    check_unary([](const Tensor& a) { return ag::std(a, 0) + ag::var(a, 0); }, input({4, 3}));
}

TEST_CASE("std: the gradient of a constant slice is 0, as PyTorch's, not 0 / 0", "[statistics]") {
    Tensor x = ag::tensor({{1.0, 1.0}, {2.0, 3.0}}, DType::Float64).requires_grad_();
    ag::std(x, 1).sum().backward();
    const std::vector<double> g = x.grad().to_vector<double>();
    CHECK(g[0] == 0);
    CHECK(g[1] == 0);
    CHECK(g[2] == Approx(-std::sqrt(0.5)));
    CHECK(g[3] == Approx(std::sqrt(0.5)));
}

TEST_CASE("var and std: a non-floating tensor and a dim out of range are refused", "[statistics][errors]") {
    const Tensor ints = ag::ones({2, 3}, DType::Int64), x = ag::ones({2, 3});
    REQUIRE_THROWS_WITH(ag::var(ints, 1), "var: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::var(ints), "var: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::std(ints > 0.0), "std: expected a floating-point tensor; got torch.bool");
    REQUIRE_THROWS_WITH(ag::var(x, 2), "var: dim out of range (expected to be in [-2, 1]); got 2");
    REQUIRE_THROWS_WITH(ag::std(x, -3, false), "std: dim out of range (expected to be in [-2, 1]); got -3");
}

// ---- logsumexp -----------------------------------------------------------------------------------------------------

TEST_CASE("logsumexp: matches PyTorch along each dim, and stays finite where exp alone would overflow", "[statistics]") {
    for (DType dt : kFloatTypes) {
        const Tensor x = make(stx::x234, dt);
        for (size_t i = 0; i < std::size(kLseSettings); ++i) {
            const auto [dim, keepdim] = kLseSettings[i];
            INFO("dim " << dim << " keepdim " << keepdim);
            check_close(ag::logsumexp(x, dim, keepdim), stx::logsumexp_dim[i], dt);
        }
        check_close(ag::logsumexp(make(stx::big23, dt), 1), stx::logsumexp_big, dt);
        CHECK(ag::logsumexp(ag::tensor(2.5).to(dt), 0).item() == 2.5);  // a 0-d tensor is its own logsumexp
    }
}

TEST_CASE("logsumexp: -inf and +inf slices give PyTorch's values, and its gradient, NaN only where PyTorch's is",
          "[statistics]") {
    for (DType dt : kFloatTypes) {
        Tensor x = make(stx::inf33, dt).requires_grad_();
        const Tensor out = ag::logsumexp(x, 1);
        check_close(out, stx::logsumexp_inf, dt);
        (out * ag::tensor({1.0, 2.0, 3.0}).to(dt)).sum().backward();
        check_close(x.grad(), stx::logsumexp_inf_grad, dt);  // NaN in the all -inf row and at the +inf
    }
    CHECK(ag::logsumexp(ag::zeros({2, 0}), 1).to_vector<float>() == std::vector<float>(2, -std::numeric_limits<float>::infinity()));
}

TEST_CASE("logsumexp: gradients match finite differences", "[statistics][gradcheck]") {
    ag::manual_seed(22);
    for (const auto& setting : kLseSettings) {
        const int64_t dim = setting.first;  // plain variables: clang 14 cannot capture a structured binding
        const bool keepdim = setting.second;
        INFO("dim " << dim << " keepdim " << keepdim);
        check_unary([dim, keepdim](const Tensor& a) { return ag::logsumexp(a, dim, keepdim); }, input({2, 3, 4}));
    }
    check_unary([](const Tensor& a) { return ag::logsumexp(a.transpose(0, 1) * 30.0, 1); }, input({4, 3}));
    check_unary([](const Tensor& a) { return ag::logsumexp(a, 0); }, input({}));
}

TEST_CASE("logsumexp: a non-floating tensor and a dim out of range are refused", "[statistics][errors]") {
    REQUIRE_THROWS_WITH(ag::logsumexp(ag::ones({2}, DType::Int64), 0),
                        "logsumexp: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ag::logsumexp(ag::ones({2, 3}), -3), "logsumexp: dim out of range (expected to be in [-2, 1]); got -3");
}

// ---- cumsum --------------------------------------------------------------------------------------------------------

TEST_CASE("cumsum: matches PyTorch along each dim", "[statistics]") {
    for (DType dt : kFloatTypes) {
        const Tensor x = make(stx::x234, dt);
        for (size_t i = 0; i < std::size(kCumsumDims); ++i) {
            INFO("dim " << kCumsumDims[i]);
            check_close(ag::cumsum(x, kCumsumDims[i]), stx::cumsum_dim[i], dt);
            check_close(ag::cumsum(x.transpose(0, 2).contiguous().transpose(0, 2), kCumsumDims[i]), stx::cumsum_dim[i], dt);
        }
    }
    CHECK(ag::cumsum(ag::tensor(2.5), 0).item() == 2.5);
    CHECK(ag::cumsum(ag::zeros({2, 0}), 1).shape() == Shape{2, 0});
}

TEST_CASE("cumsum: gradients match finite differences", "[statistics][gradcheck]") {
    ag::manual_seed(23);
    for (int64_t dim : kCumsumDims) {
        INFO("dim " << dim);
        check_unary([dim](const Tensor& a) { return ag::cumsum(a, dim); }, input({2, 3, 4}));
    }
    check_unary([](const Tensor& a) { return ag::cumsum(a.transpose(0, 1), 1) * a.transpose(0, 1); }, input({4, 3}));
}

TEST_CASE("cumsum: a non-floating tensor and a dim out of range are refused", "[statistics][errors]") {
    REQUIRE_THROWS_WITH(ag::cumsum(ag::ones({2}) > 0.0, 0), "cumsum: expected a floating-point tensor; got torch.bool");
    REQUIRE_THROWS_WITH(ag::cumsum(ag::ones({2, 3}), 2), "cumsum: dim out of range (expected to be in [-2, 1]); got 2");
}
