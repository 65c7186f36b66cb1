// clip_grad_norm_: the global norm of all gradients, and scaling them down to max_norm; against PyTorch's
// torch.nn.utils.clip_grad_norm_ (tests/fixtures/schedule_fixtures.inc).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/engine.h"
#include "layers/layers.h"
#include "tests/op_fixture.h"
#include "tests/fixtures/schedule_fixtures.inc"

using namespace ag;

TEST_CASE("clip_grad_norm_: scales all gradients together when their global norm is too large", "[clip_grad]") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor b = tensor({2.0}).requires_grad_();
    Tensor untouched = tensor({5.0}).requires_grad_();  // no gradient: skipped
    ((a * tensor({3.0, 0.0})).sum() + (b * 4.0).sum()).backward();  // grads [3, 0] and [4]: global norm 5
    double total = clip_grad_norm_({a, b, untouched}, 1.0);
    CHECK(total == Approx(5.0));
    CHECK(a.grad().to_vector<double>()[0] == Approx(3.0 / 5.0).epsilon(1e-5));
    CHECK(b.grad().to_vector<double>()[0] == Approx(4.0 / 5.0).epsilon(1e-5));
    CHECK_FALSE(untouched.grad().defined());
}

TEST_CASE("clip_grad_norm_: leaves small gradients alone and reports non-finite norms without scaling", "[clip_grad]") {
    Tensor a = tensor({0.1, 0.2}).requires_grad_();
    (a * a).sum().backward();
    CHECK(clip_grad_norm_({a}, 10.0) == Approx(std::sqrt(0.04 + 0.16)).epsilon(1e-5));
    CHECK(a.grad().to_vector<float>() == std::vector<float>{0.2f, 0.4f});
    Tensor b = tensor({0.0}).requires_grad_();
    sqrt(b).sum().backward();  // infinite gradient
    CHECK(std::isinf(clip_grad_norm_({b}, 1.0)));
    REQUIRE_THROWS_WITH(clip_grad_norm_({a}, 0.0), Catch::Contains("max_norm must be positive"));
}

TEST_CASE("clip_grad_norm_: the norm of large float32 gradients is summed in double, so it stays finite",
          "[clip_grad]") {
    Tensor w = ones({2}).requires_grad_();
    (w * 1e30).sum().backward();  // each gradient 1e30: float32 squares would overflow to inf
    const double total = clip_grad_norm_({w}, 1.0);
    CHECK(total == Approx(std::sqrt(2.0) * 1e30).epsilon(1e-6));
    CHECK(w.grad().to_vector<double>()[0] == Approx(1 / std::sqrt(2.0)).epsilon(1e-5));
}

TEST_CASE("clip_grad_norm_: total norm and clipped gradients match PyTorch for the 2-, 1-, 3- and inf-norm",
          "[clip_grad]") {
    for (const sx::ClipCase& c : sx::kClipCases) {
        for (DType dtype : {DType::Float32, DType::Float64}) {
            INFO("max_norm " << c.max_norm << ", norm_type " << c.norm_type << ", " << dtype_name(dtype));
            std::vector<Tensor> params;
            for (const std::vector<double>& g : sx::kClipGrads) {
                Tensor p = zeros({static_cast<int64_t>(g.size())}, dtype).requires_grad_();
                sum(p * from_vector(g, {static_cast<int64_t>(g.size())}).to(dtype)).backward();  // p.grad = g
                params.push_back(p);
            }
            const bool f32 = dtype == DType::Float32;
            const double total = clip_grad_norm_(params, c.max_norm, c.norm_type);
            CHECK(total == Approx(f32 ? c.total_f32 : c.total_f64).epsilon(f32 ? 1e-6 : 1e-12));
            std::vector<Tensor> grads;
            for (const Tensor& p : params) grads.push_back(p.grad());
            fixture::check_values(cat(grads, 0), {static_cast<int64_t>((f32 ? c.grads_f32 : c.grads_f64).size())},
                                  f32 ? c.grads_f32 : c.grads_f64, fixture::tolerance_for(dtype));
        }
    }
}

TEST_CASE("clip_grad_norm_: no gradients give 0; a bad max_norm or norm_type is refused", "[clip_grad][errors]") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    CHECK(clip_grad_norm_({}, 1.0) == 0.0);
    CHECK(clip_grad_norm_({a}, 1.0) == 0.0);  // a has no gradient yet
    (a * a).sum().backward();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_WITH(clip_grad_norm_({a}, -1.0), "clip_grad_norm_: max_norm must be positive; got -1");
    REQUIRE_THROWS_WITH(clip_grad_norm_({a}, nan), Catch::Contains("max_norm must be positive; got nan"));
    REQUIRE_THROWS_WITH(clip_grad_norm_({a}, 1.0, 0.0),
                        "clip_grad_norm_: norm_type must be positive (or infinity); got 0");
    REQUIRE_THROWS_WITH(clip_grad_norm_({a}, 1.0, nan), Catch::Contains("norm_type must be positive"));
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2.0f, 4.0f});  // refused: nothing scaled
    CHECK(clip_grad_norm({a}, 100.0) == Approx(std::sqrt(20.0)));           // the older spelling
}
