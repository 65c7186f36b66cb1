// The kernels' own numerics: the vectorisable exp that softmax uses.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

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
