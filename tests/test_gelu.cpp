// gelu (engine/elementwise.cpp), exact and tanh forms: PyTorch's values and gradients, gradcheck, errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "tests/check_close.h"
#include "tests/gradcheck_helpers.h"

namespace {
#include "tests/fixtures/gpt_op_fixtures.inc"

using namespace ag;
using Catch::Contains;

}  // namespace

TEST_CASE("gelu: PyTorch's values, exact and tanh, float32 and float64", "[elementwise][gelu]") {
    for (const std::string approximate : {"none", "tanh"}) {
        INFO("approximate = " << approximate);
        const bool exact = approximate == "none";
        const Tensor x = from_vector(gfx::gelu_x, {32});
        check_close(gelu(x.to(DType::Float32), approximate), exact ? gfx::gelu_none_f32 : gfx::gelu_tanh_f32, 1e-5,
                    1e-6);
        check_close(gelu(x, approximate), exact ? gfx::gelu_none_f64 : gfx::gelu_tanh_f64, 1e-12, 1e-14);
    }
}

TEST_CASE("gelu: PyTorch's float32 gradients", "[elementwise][gelu]") {
    for (const std::string approximate : {"none", "tanh"}) {
        INFO("approximate = " << approximate);
        Tensor x = from_vector(gfx::gelu_x, {32}).to(DType::Float32).requires_grad_();
        (gelu(x, approximate) * from_vector(gfx::gelu_g, {32}).to(DType::Float32)).sum().backward();
        check_close(x.grad(), approximate == "none" ? gfx::gelu_none_grad : gfx::gelu_tanh_grad, 1e-5, 1e-6);
    }
}

TEST_CASE("gelu: gradcheck, both forms, broadcast through a strided input", "[elementwise][gelu][gradcheck]") {
    manual_seed(21);
    for (const std::string approximate : {"none", "tanh"}) {
        INFO("approximate = " << approximate);
        check([approximate](const std::vector<Tensor>& in) { return gelu(in[0], approximate); }, {input({3, 4})});
        check([approximate](const std::vector<Tensor>& in) { return gelu(in[0].transpose(0, 1) * 3.0, approximate); },
              {input({2, 5})});
    }
}

TEST_CASE("gelu: the limits: 0 at 0, x for large x, 0 for very negative x, NaN stays NaN", "[elementwise][gelu]") {
    for (const std::string approximate : {"none", "tanh"}) {
        const std::vector<double> y =
            gelu(from_vector(std::vector<double>{0, 40, -40, NAN, INFINITY}, {5}), approximate).to_vector<double>();
        CHECK(y[0] == 0);
        CHECK(y[1] == 40);
        CHECK(y[2] == 0);  // -0 equals 0
        CHECK(std::isnan(y[3]));
        CHECK(y[4] == INFINITY);
    }
}

TEST_CASE("gelu: an unknown approximation or an integer tensor is refused", "[elementwise][gelu][errors]") {
    CHECK_THROWS_WITH(gelu(zeros({2}), "erf"), Contains("approximate must be \"none\" or \"tanh\"") && Contains("erf"));
    CHECK_THROWS_WITH(gelu(zeros({2}, DType::Int64)), Contains("gelu"));
}
