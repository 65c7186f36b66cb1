// Learning-rate schedules: StepLR and LinearLR against torch.optim.lr_scheduler driving SGD and AdamW
// (tests/fixtures/schedule_fixtures.inc), nanoGPT's warm-up and cosine decay against values worked by hand, and
// every argument the schedules refuse.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "layers/layers.h"
#include "tests/op_fixture.h"
#include "tests/fixtures/schedule_fixtures.inc"

using namespace ag;
using Catch::Contains;

namespace {

// The fixture's two parameters, weight (3, 4) and bias (4), as fresh leaves of dtype.
NamedTensors make_params(DType dtype) {
    const std::vector<double>& v = sx::kScheduleInit;
    return {{"weight", from_vector(std::vector<double>(v.begin(), v.begin() + 12), {3, 4}).to(dtype).requires_grad_()},
            {"bias", from_vector(std::vector<double>(v.begin() + 12, v.end()), {4}).to(dtype).requires_grad_()}};
}

// Sets each .grad to the fixture's gradient of `step` through backward: d/dp sum(p * g) = g.
void set_grads(const NamedTensors& params, int step) {
    const std::vector<double>& g = sx::kScheduleGrads[step];
    Tensor gw = from_vector(std::vector<double>(g.begin(), g.begin() + 12), {3, 4});
    Tensor gb = from_vector(std::vector<double>(g.begin() + 12, g.end()), {4});
    for (auto [name, p] : params) p.zero_grad();
    (sum(params[0].second * gw.to(params[0].second.dtype())) + sum(params[1].second * gb.to(params[1].second.dtype())))
        .backward();
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, const NamedTensors& params) {
    if (name == "SGD") return std::make_unique<SGD>(params, 0.1, 0.9);
    return std::make_unique<AdamW>(params, 0.01);
}

std::unique_ptr<LRScheduler> make_schedule(const sx::ScheduleCase& c, Optimizer& opt) {
    if (std::string(c.schedule) == "StepLR") return std::make_unique<StepLR>(opt, static_cast<int64_t>(c.a), c.b);
    return std::make_unique<LinearLR>(opt, c.a, c.b, c.c);
}

// Both parameters, flattened and joined, as the fixture has them.
Tensor joined(const NamedTensors& params) { return cat({params[0].second.reshape({-1}), params[1].second}, 0); }

}  // namespace

TEST_CASE("StepLR and LinearLR: the lr of every epoch and the parameters after SGD and AdamW steps match PyTorch",
          "[schedule]") {
    for (const sx::ScheduleCase& c : sx::kScheduleCases) {
        for (DType dtype : {DType::Float32, DType::Float64}) {
            INFO(c.optimizer << " with " << c.schedule << "(" << c.a << ", " << c.b << ", " << c.c << ") in "
                             << dtype_name(dtype));
            NamedTensors params = make_params(dtype);
            std::unique_ptr<Optimizer> opt = make_optimizer(c.optimizer, params);
            std::unique_ptr<LRScheduler> schedule = make_schedule(c, *opt);
            std::vector<double> lrs = {opt->lr};
            for (int step = 0; step < sx::kScheduleSteps; ++step) {
                set_grads(params, step);
                opt->step();
                schedule->step();
                CHECK(schedule->get_last_lr() == opt->lr);
                lrs.push_back(opt->lr);
            }
            CHECK(schedule->last_epoch() == sx::kScheduleSteps);
            REQUIRE(lrs.size() == c.lrs.size());
            for (size_t e = 0; e < lrs.size(); ++e) {
                INFO("epoch " << e);
                CHECK(lrs[e] == Approx(c.lrs[e]).epsilon(1e-12));
            }
            fixture::check_values(joined(params), {16}, dtype == DType::Float32 ? c.params_f32 : c.params_f64,
                                  fixture::tolerance_for(dtype));
        }
    }
}

TEST_CASE("CosineWarmupLR: nanoGPT's get_lr, warm-up, cosine decay and floor, worked by hand", "[schedule]") {
    Tensor p = zeros({2}).requires_grad_();
    SGD opt({{"p", p}}, /*lr=*/1.0);
    CosineWarmupLR schedule(opt, /*warmup_iters=*/3, /*lr_decay_iters=*/7, /*min_lr=*/0.1);
    CHECK(schedule.base_lr() == 1.0);
    // it < 3: lr (it + 1) / 4; 3 <= it < 7: 0.1 + 0.45 (1 + cos(pi (it - 3) / 4)); it >= 7: 0.1
    const double c1 = std::cos(std::numbers::pi / 4), c3 = std::cos(3 * std::numbers::pi / 4);
    const std::vector<double> expected = {0.25, 0.5,  0.75, 1.0, 0.1 + 0.45 * (1 + c1), 0.55, 0.1 + 0.45 * (1 + c3),
                                          0.1,  0.1};
    for (size_t it = 0; it < expected.size(); ++it) {
        INFO("iteration " << it);
        CHECK(opt.lr == Approx(expected[it]).epsilon(1e-15));
        schedule.step();
    }
    SGD no_warmup_opt({{"p", p}}, 0.5);
    CosineWarmupLR no_warmup(no_warmup_opt, 0, 0, 0.0);  // no warm-up, no decay: min_lr at once
    CHECK(no_warmup_opt.lr == 0.0);
}

TEST_CASE("LR schedules: arguments outside PyTorch's ranges (and nanoGPT's) are refused", "[schedule][errors]") {
    Tensor p = zeros({2}).requires_grad_();
    SGD opt({{"p", p}}, 0.1);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    REQUIRE_THROWS_WITH(StepLR(opt, 0), "StepLR: step_size must be positive; got 0");
    REQUIRE_THROWS_WITH(StepLR(opt, 2, -0.5), "StepLR: gamma must be non-negative; got -0.5");
    REQUIRE_THROWS_WITH(StepLR(opt, 2, nan), Contains("gamma must be non-negative; got nan"));
    REQUIRE_THROWS_WITH(LinearLR(opt, 1.5), "LinearLR: start_factor must be in [0, 1]; got 1.5");
    REQUIRE_THROWS_WITH(LinearLR(opt, -0.1), "LinearLR: start_factor must be in [0, 1]; got -0.1");
    REQUIRE_THROWS_WITH(LinearLR(opt, 0.5, 1.2), "LinearLR: end_factor must be in [0, 1]; got 1.2");
    REQUIRE_THROWS_WITH(LinearLR(opt, 0.5, 1.0, 0), "LinearLR: total_iters must be positive; got 0");
    REQUIRE_THROWS_WITH(CosineWarmupLR(opt, 10, 5, 0.01),
                        "CosineWarmupLR: warmup_iters must not exceed lr_decay_iters; got 10 > 5");
    REQUIRE_THROWS_WITH(CosineWarmupLR(opt, -1, 5, 0.01), "CosineWarmupLR: warmup_iters must be non-negative; got -1");
    REQUIRE_THROWS_WITH(CosineWarmupLR(opt, 1, 5, 0.5), "CosineWarmupLR: min_lr must be in [0, the optimiser's lr 0.1]; got 0.5");
    REQUIRE_THROWS_WITH(CosineWarmupLR(opt, 1, 5, -0.01), Contains("min_lr must be in"));
    CHECK(opt.lr == 0.1);  // a refused schedule leaves the lr alone
}
