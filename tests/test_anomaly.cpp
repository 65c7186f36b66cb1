// DetectAnomaly: NaN and infinity are caught where they first appear, forward or backward, and named precisely.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/engine.h"
#include "layers/layers.h"

using namespace ag;

TEST_CASE("anomaly: log(0) in the forward pass names the op, its number, the shape and the index", "[anomaly]") {
    Tensor x = tensor({1.0, 0.0, 2.0}).requires_grad_();
    CHECK(std::isinf(log(x).to_vector<float>()[1]));  // off by default: no check
    DetectAnomaly guard;
    REQUIRE_THROWS_AS(log(x), std::domain_error);
    REQUIRE_THROWS_WITH(log(x), Catch::Contains("anomaly: the output of 'LogBackward' (op #") &&
                                    Catch::Contains("of shape [3] holds -inf at index [1]"));
}

TEST_CASE("anomaly: 0/0 is caught as NaN", "[anomaly]") {
    Tensor a = zeros({2, 2}).requires_grad_();
    DetectAnomaly guard;
    REQUIRE_THROWS_WITH(a / a, Catch::Contains("'DivBackward'") && Catch::Contains("nan at index [0, 0]"));
}

TEST_CASE("anomaly: a gradient that becomes non-finite in backward names the backward that made it", "[anomaly]") {
    // sqrt(0) is fine forward, but its derivative 1 / (2 sqrt(x)) is infinite at 0.
    Tensor x = tensor({4.0, 0.0}).requires_grad_();
    DetectAnomaly guard;
    Tensor y = sqrt(x).sum();
    REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("the gradient that the backward of 'SqrtBackward'") &&
                                          Catch::Contains("inf at index [1]"));
}

TEST_CASE("anomaly: an exploding learning rate is stopped at the first non-finite value", "[anomaly]") {
    manual_seed(5);
    Linear layer(4, 4);
    AdamW opt(layer.named_parameters(), /*lr=*/1e30);
    Tensor x = randn({8, 4}) * 1e20;
    Tensor target = randn({8, 4});
    DetectAnomaly guard;
    bool caught = false;
    for (int step = 0; step < 10 && !caught; ++step) {
        try {
            opt.zero_grad();
            Tensor loss = mse_loss(layer(x), target);
            loss.backward();
            opt.step();
        } catch (const std::domain_error& e) {
            caught = std::string(e.what()).find("anomaly:") == 0;
        }
    }
    CHECK(caught);
}

TEST_CASE("anomaly: the guard nests and restores the previous mode; finite values pass", "[anomaly]") {
    CHECK_FALSE(anomaly_mode_enabled());
    {
        DetectAnomaly outer;
        {
            DetectAnomaly inner;
            CHECK(anomaly_mode_enabled());
        }
        CHECK(anomaly_mode_enabled());
        Tensor w = randn({3, 3}).requires_grad_();
        softmax(matmul(w, w), -1).sum().backward();  // nothing non-finite: no throw
        CHECK(w.grad().defined());
    }
    CHECK_FALSE(anomaly_mode_enabled());
}
