// Testing a gradient of your own with the installed library and Catch2: copy this file and replace swish.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "engine/engine.h"
#include "testing/gradcheck_matcher.h"

// swish(x) = x * sigmoid(x) = x / (1 + exp(-x)), built from engine ops: its gradient comes from theirs.
ag::Tensor swish(const ag::Tensor& x) { return x / (1.0 + ag::exp(-x)); }

TEST_CASE("swish: the gradient matches finite differences") {
    ag::manual_seed(0);
    ag::Tensor x = ag::randn({3, 4}, ag::DType::Float64).requires_grad_();  // gradcheck needs float64
    ag::Tensor w = ag::randn({3, 4}, ag::DType::Float64);  // weigh the outputs so errors cannot cancel in a sum
    REQUIRE_THAT(std::vector<ag::Tensor>{x},
                 ag::PassesGradcheck([&](const std::vector<ag::Tensor>& in) { return (swish(in[0]) * w).sum(); }));
}
