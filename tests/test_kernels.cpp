// The kernels' own numerics: the vectorisable exp that softmax uses, and the paths of the sum kernel.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "engine/engine.h"
#include "engine/kernels.h"

TEST_CASE("exp_nonpositive: within 2 ulp of libm's expf wherever the result is a normal float") {
    float worst_ulps = 0;
    for (float x = 0.0f; x > -87.33f; x = std::nextafter(x, -100.0f) - 1e-4f) {
        const float want = std::exp(x), got = ag::kernels::exp_nonpositive(x);
        const float ulp = std::nextafter(want, INFINITY) - want;
        worst_ulps = std::max(worst_ulps, std::abs(got - want) / ulp);
    }
    INFO("worst error: " << worst_ulps << " ulp");
    CHECK(worst_ulps <= 2.0f);
}

TEST_CASE("exp_nonpositive: exact at 0, exactly 0 where expf underflows, NaN stays NaN") {
    using ag::kernels::exp_nonpositive;
    CHECK(exp_nonpositive(0.0f) == 1.0f);
    CHECK(exp_nonpositive(-std::numeric_limits<float>::infinity()) == 0.0f);
    CHECK(exp_nonpositive(-1000.0f) == 0.0f);
    CHECK(exp_nonpositive(-87.0f) > 0.0f);
    for (float x = -87.34f; x > -104.0f; x -= 0.01f)  // expf is subnormal here: flushing to 0 is off by < FLT_MIN
        CHECK(std::abs(exp_nonpositive(x) - std::exp(x)) < std::numeric_limits<float>::min());
    CHECK(std::isnan(exp_nonpositive(std::numeric_limits<float>::quiet_NaN())));
}

// Sums of (A, B, C) over dims 0 and 1 and over dim 1, checked against a plain loop in double: with C >= 8 the
// kept elements are contiguous and the kernel adds whole rows (in blocks of 512 columns); C = 3 walks element-wise.
TEST_CASE("sum: column sums over leading dims, in and across 512-column blocks, equal a plain double loop") {
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

TEST_CASE("blas_layout: a leading dim beyond BLAS's 32-bit int is not passed to BLAS (the caller copies)",
          "[matmul][kernels]") {
    const int64_t big = int64_t{1} << 31;
    CHECK_FALSE(ag::kernels::blas_layout(2, 1, big, 1).ok);   // rows 2^31 apart
    CHECK_FALSE(ag::kernels::blas_layout(1, 2, 1, big).ok);   // columns 2^31 apart
    const ag::kernels::BlasLayout fits = ag::kernels::blas_layout(2, 3, big - 1, 1);
    CHECK((fits.ok && !fits.trans && fits.ld == big - 1));
    const ag::kernels::BlasLayout transposed = ag::kernels::blas_layout(3, 2, 1, 3);
    CHECK((transposed.ok && transposed.trans && transposed.ld == 3));
    CHECK_FALSE(ag::kernels::blas_layout(3, 3, 2, 2).ok);    // neither dim contiguous
}
