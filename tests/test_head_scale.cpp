// Head's scale on q @ k^T: PyTorch's output for the default head_size^-0.5, the notebook's unscaled 1.0 and another
// value (tests/fixtures/schedule_fixtures.inc), the default being the Head of before, gradients and errors; then the
// same for MultiHeadAttention's scale, which it passes to every head (tests/fixtures/statistics_fixtures.inc).
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

// gradcheck of layer(x) wrt x and every parameter: the full Jacobian, and (out * w).sum() with random weights w.
void check_gradients(const Layer& layer, const Tensor& x) {
    std::vector<Tensor> inputs = {x};
    for (const Tensor& p : layer.parameters()) inputs.push_back(p);
    const Tensor w = randn(layer(x).shape(), DType::Float64);
    GradcheckResult r = gradcheck([&](const std::vector<Tensor>& in) { return (layer(in[0]) * w).sum(); }, inputs);
    INFO(r.report);
    CHECK(r.passed);
    GradcheckResult full = gradcheck([&](const std::vector<Tensor>& in) { return layer(in[0]); }, inputs);
    INFO(full.report);
    CHECK(full.passed);
}

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
    check_gradients(head, randn({2, 4, 4}, DType::Float64).requires_grad_());
}

TEST_CASE("Head: a scale that is not finite and positive is refused", "[attention][layers][errors]") {
    using Catch::Contains;
    REQUIRE_THROWS_WITH(Head(8, 4, true, 0, 0.0), "Head: scale must be finite and positive; got 0");
    REQUIRE_THROWS_WITH(Head(8, 4, true, 0, -1.0), "Head: scale must be finite and positive; got -1");
    REQUIRE_THROWS_WITH(Head(8, 4, true, 0, std::numeric_limits<double>::quiet_NaN()), Contains("got nan"));
    REQUIRE_THROWS_WITH(Head(8, 4, true, 0, std::numeric_limits<double>::infinity()), Contains("got inf"));
}

// ---- MultiHeadAttention's scale, passed to every head ----------------------------------------------------------

namespace fixture {
#include "tests/fixtures/statistics_fixtures.inc"
}  // namespace fixture

TEST_CASE("MultiHeadAttention: scale 1.0 on every head gives PyTorch's output, in float32 and float64",
          "[attention][layers]") {
    manual_seed(13);
    Tensor x = randn({2, 4, 6});
    MultiHeadAttention mha(6, 2, 3, /*causal=*/true, /*dropout=*/0, 1.0);
    CHECK(mha.scale == 1.0);
    for (const Head& head : mha.heads) CHECK(head.scale == 1.0);
    fixture::check_close(mha(x), fixture::stx::mha_scale1, DType::Float32);
    mha.to(DType::Float64);
    fixture::check_close(mha(x.to(DType::Float64)), fixture::stx::mha_scale1, DType::Float64);
}

TEST_CASE("MultiHeadAttention: the default scale is head_size^-0.5, bit for bit the output of before",
          "[attention][layers]") {
    manual_seed(13);
    Tensor x = randn({2, 4, 6});
    MultiHeadAttention by_default(6, 2, 3);
    manual_seed(13);
    randn({2, 4, 6});
    MultiHeadAttention given(6, 2, 3, true, 0, std::pow(3.0, -0.5));  // the same weights
    CHECK(by_default.scale == std::pow(3.0, -0.5));
    const Tensor out = by_default(x);
    CHECK(given(x).to_vector<float>() == out.to_vector<float>());
    const std::vector<double> before(layer_fixtures::mha_out.begin(), layer_fixtures::mha_out.end());
    fixture::check_values(out, {2, 4, 6}, before, fixture::tolerance_for(DType::Float32));
    CHECK(by_default.attention(x).to_vector<float>() == given.attention(x).to_vector<float>());
}

TEST_CASE("MultiHeadAttention: with scale 1.0, gradients wrt input and weights match finite differences",
          "[attention][layers][gradcheck]") {
    manual_seed(4);
    MultiHeadAttention mha(4, 2, 2, /*causal=*/true, 0, 1.0);
    mha.to(DType::Float64);
    check_gradients(mha, randn({2, 3, 4}, DType::Float64).requires_grad_());
}

TEST_CASE("MultiHeadAttention: a scale that is not finite and positive is refused", "[attention][layers][errors]") {
    using Catch::Contains;
    REQUIRE_THROWS_WITH(MultiHeadAttention(6, 2, 3, true, 0, 0.0),
                        "MultiHeadAttention: scale must be finite and positive; got 0");
    REQUIRE_THROWS_WITH(MultiHeadAttention(6, 2, 3, true, 0, -2.0),
                        "MultiHeadAttention: scale must be finite and positive; got -2");
    REQUIRE_THROWS_WITH(MultiHeadAttention(6, 2, 3, true, 0, std::numeric_limits<double>::quiet_NaN()),
                        Contains("got nan"));
    REQUIRE_THROWS_WITH(MultiHeadAttention(6, 2, 3, true, 0, std::numeric_limits<double>::infinity()),
                        Contains("got inf"));
}
