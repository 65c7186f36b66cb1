// Comparing a tensor with expected numbers (PyTorch fixtures), for the test files that need it.
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "engine/tensor.h"

// Every element within atol + rtol * |expected|; on failure, names the worst element (or the first NaN).
inline void check_close(const ag::Tensor& actual, const std::vector<double>& expected, double rtol, double atol) {
    const std::vector<double> got = actual.to_vector<double>();
    REQUIRE(got.size() == expected.size());
    size_t worst = 0;
    double worst_excess = -1;
    for (size_t i = 0; i < got.size(); ++i) {
        const double excess = std::abs(got[i] - expected[i]) - (atol + rtol * std::abs(expected[i]));
        if (!(excess <= worst_excess)) worst = i, worst_excess = excess;
        if (std::isnan(excess)) break;
    }
    if (got.empty()) return;
    INFO("element " << worst << ": got " << got[worst] << ", expected " << expected[worst]);
    CHECK(worst_excess <= 0);
}

// The same against float32 fixtures (rtol 1e-5, atol 1e-6 by default: float32 rounding of PyTorch's own result).
inline void check_close(const ag::Tensor& actual, const std::vector<float>& expected, double rtol = 1e-5,
                        double atol = 1e-6) {
    check_close(actual, std::vector<double>(expected.begin(), expected.end()), rtol, atol);
}
