// The Catch2 matcher users put in their own tests: it passes correct gradients and shows the report otherwise.
#include <catch2/catch.hpp>

#include "engine/engine.h"
#include "testing/gradcheck_matcher.h"

using namespace ag;

namespace {

// x * 2 whose backward claims 3: a deliberately wrong gradient.
Tensor wrong_double(const Tensor& x) {
    Tensor out = (x * 2.0).detach();
    set_grad_fn(out, "WrongDoubleBackward", {&x}, /*saved=*/{}, [x](const Tensor& dout) { accumulate_grad(x, dout * 3.0); });
    return out;
}

}  // namespace

TEST_CASE("PassesGradcheck: a correct op passes inside REQUIRE_THAT", "[gradcheck]") {
    manual_seed(31);
    Tensor a = randn({2, 3}, DType::Float64).requires_grad_();
    Tensor b = randn({3, 2}, DType::Float64).requires_grad_();
    REQUIRE_THAT((std::vector<Tensor>{a, b}),
                 PassesGradcheck([](const std::vector<Tensor>& in) { return tanh(matmul(in[0], in[1])); }));
}

TEST_CASE("PassesGradcheck: a wrong backward fails and its description carries the report", "[gradcheck]") {
    Tensor x = tensor({1.0, 2.0}, DType::Float64).requires_grad_();
    PassesGradcheck matcher([](const std::vector<Tensor>& in) { return wrong_double(in[0]); });
    CHECK_FALSE(matcher.match({x}));
    CHECK_THAT(matcher.describe(), Catch::Contains("analytic (backward) 3") && Catch::Contains("numeric (finite differences) 2"));
    CHECK(Catch::StringMaker<std::vector<Tensor>>::convert({x}) == "inputs [2]:torch.float64");
}
