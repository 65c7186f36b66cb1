// clip_grad_norm: the global norm of all gradients, and scaling them down to max_norm.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/engine.h"
#include "layers/layers.h"

using namespace ag;

TEST_CASE("clip_grad_norm: scales all gradients together when their global norm is too large", "[clip_grad]") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor b = tensor({2.0}).requires_grad_();
    Tensor untouched = tensor({5.0}).requires_grad_();  // no gradient: skipped
    ((a * tensor({3.0, 0.0})).sum() + (b * 4.0).sum()).backward();  // grads [3, 0] and [4]: global norm 5
    double total = clip_grad_norm({a, b, untouched}, 1.0);
    CHECK(total == Approx(5.0));
    CHECK(a.grad().to_vector<double>()[0] == Approx(3.0 / 5.0).epsilon(1e-5));
    CHECK(b.grad().to_vector<double>()[0] == Approx(4.0 / 5.0).epsilon(1e-5));
    CHECK_FALSE(untouched.grad().defined());
}

TEST_CASE("clip_grad_norm: leaves small gradients alone and reports non-finite norms without scaling", "[clip_grad]") {
    Tensor a = tensor({0.1, 0.2}).requires_grad_();
    (a * a).sum().backward();
    CHECK(clip_grad_norm({a}, 10.0) == Approx(std::sqrt(0.04 + 0.16)).epsilon(1e-5));
    CHECK(a.grad().to_vector<float>() == std::vector<float>{0.2f, 0.4f});
    Tensor b = tensor({0.0}).requires_grad_();
    sqrt(b).sum().backward();  // infinite gradient
    CHECK(std::isinf(clip_grad_norm({b}, 1.0)));
    REQUIRE_THROWS_WITH(clip_grad_norm({a}, 0.0), Catch::Contains("max_norm must be positive"));
}

TEST_CASE("clip_grad_norm: the norm of large float32 gradients is summed in double, so it stays finite",
          "[clip_grad]") {
    Tensor w = ones({2}).requires_grad_();
    (w * 1e30).sum().backward();  // each gradient 1e30: float32 squares would overflow to inf
    const double total = clip_grad_norm({w}, 1.0);
    CHECK(total == Approx(std::sqrt(2.0) * 1e30).epsilon(1e-6));
    CHECK(w.grad().to_vector<double>()[0] == Approx(1 / std::sqrt(2.0)).epsilon(1e-5));
}
