// Head's scale on q @ k^T: PyTorch's output for the default head_size^-0.5, the notebook's unscaled 1.0 and another
// value (tests/fixtures/schedule_fixtures.inc), the default being the Head of before, gradients and errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "engine/engine.h"
#include "layers/layers.h"
#include "tests/op_fixture.h"
#include "tests/fixtures/schedule_fixtures.inc"
#include "tests/fixtures/layer_fixtures.inc"

using namespace ag;

namespace {

// The fixture's setting: seed 12, x (2, 5, 8) drawn first, then Head(8, 4) with the scale (0: none given).
std::optional<double> scale_of(const sx::HeadCase& c) { return c.scale == 0 ? std::nullopt : std::optional(c.scale); }

}  // namespace

TEST_CASE("Head: the scale multiplies q @ k^T as PyTorch computes it, in float32 and float64", "[attention][layers]") {
    for (const sx::HeadCase& c : sx::kHeadCases) {
        INFO("scale " << c.scale);
        manual_seed(12);
        Tensor x = randn({2, 5, 8});
        Head head(8, 4, /*causal=*/true, /*dropout=*/0, scale_of(c));
        fixture::check_values(head(x), {2, 5, 4}, c.out_f32, fixture::tolerance_for(DType::Float32));
        head.to(DType::Float64);
        fixture::check_values(head(x.to(DType::Float64)), {2, 5, 4}, c.out_f64, fixture::tolerance_for(DType::Float64));
    }
}

TEST_CASE("Head: the default scale is head_size^-0.5, and gives the output Head always gave", "[attention][layers]") {
    manual_seed(12);
    Tensor x = randn({2, 5, 8});
    Head head(8, 4);
    CHECK(head.scale == 0.5);
    const Tensor out = head(x);
    const std::vector<double> before(layer_fixtures::head_out.begin(), layer_fixtures::head_out.end());
    fixture::check_values(out, {2, 5, 4}, before, fixture::tolerance_for(DType::Float32));
    manual_seed(12);
    randn({2, 5, 8});
    Head explicit_scale(8, 4, true, 0, std::pow(4.0, -0.5));
    CHECK(explicit_scale(x).to_vector<float>() == out.to_vector<float>());  // bit for bit
    manual_seed(12);
    randn({2, 5, 8});
    Head unscaled(8, 4, true, 0, 1.0);  // the same weights
    CHECK_FALSE(allclose(unscaled(x), out));
}

TEST_CASE("Head: with the notebook's scale 1.0, gradients wrt input and weights match finite differences",
          "[attention][layers][gradcheck]") {
    manual_seed(3);
    Head head(4, 3, /*causal=*/true, 0, 1.0);
    head.to(DType::Float64);
    Tensor x = randn({2, 4, 4}, DType::Float64).requires_grad_();
    std::vector<Tensor> inputs = {x};
    for (const Tensor& p : head.parameters()) inputs.push_back(p);
    Tensor w = randn({2, 4, 3}, DType::Float64);
    GradcheckResult r = gradcheck([&](const std::vector<Tensor>& in) { return (head(in[0]) * w).sum(); }, inputs);
    INFO(r.report);
    CHECK(r.passed);
    GradcheckResult full = gradcheck([&](const std::vector<Tensor>& in) { return head(in[0]); }, inputs);
    INFO(full.report);
    CHECK(full.passed);
}

TEST_CASE("Head: a scale that is not finite and positive is refused", "[attention][layers][errors]") {
    using Catch::Contains;
    REQUIRE_THROWS_WITH(Head(8, 4, true, 0, 0.0), "Head: scale must be finite and positive; got 0");
    REQUIRE_THROWS_WITH(Head(8, 4, true, 0, -1.0), "Head: scale must be finite and positive; got -1");
    REQUIRE_THROWS_WITH(Head(8, 4, true, 0, std::numeric_limits<double>::quiet_NaN()), Contains("got nan"));
    REQUIRE_THROWS_WITH(Head(8, 4, true, 0, std::numeric_limits<double>::infinity()), Contains("got inf"));
}
