// The Catch2 matcher users put in their own tests: it passes correct gradients and shows the report otherwise.
#include <catch2/catch.hpp>

#include <sstream>

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
    CHECK_THAT(matcher.describe(), Catch::StartsWith("fails gradcheck\ngradcheck: the gradient of input 0 is wrong\n") &&
                                       Catch::Contains("analytic (backward) 3") &&
                                       Catch::Contains("numeric (finite differences) 2"));
    CHECK(Catch::StringMaker<std::vector<Tensor>>::convert({x}) == "inputs [2]:torch.float64");
}

TEST_CASE("PassesGradcheck: a failure prints at 80 columns as Catch shows it, no line wrapped, no number split",
          "[gradcheck]") {
    Tensor x = (tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0}, DType::Float64) * 1.2345678e-7).reshape({2, 3}).requires_grad_();
    PassesGradcheck matcher([](const std::vector<Tensor>& in) { return wrong_double(in[0]); });
    REQUIRE_FALSE(matcher.match({x}));
    // what Catch prints under "with expansion:": the argument, a space and the description, each line indented by 2
    // in 79 columns; a longer line would be wrapped, after a '.' or '-' if need be, splitting a number
    const std::string expansion = Catch::Detail::stringify(std::vector<Tensor>{x}) + " " + matcher.describe();
    std::istringstream lines(expansion);
    for (std::string line; std::getline(lines, line);) {
        INFO(line);
        CHECK(2 + line.size() <= 79);
    }
    CHECK_THAT(expansion, Catch::StartsWith("inputs [2, 3]:torch.float64 fails gradcheck\n"));
    CHECK_THAT(expansion, Catch::Contains("at its element [0, 0] of shape [2, 3]"));
}
