// Optimisers: SGD and AdamW step by step against torch.optim (fixtures made by tests/fixtures/make_optim_fixtures.py),
// their state, a checkpoint resumed, their errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "engine/autograd.h"
#include "engine/engine.h"
#include "tests/check_close.h"
#include "layers/linear.h"
#include "layers/optim.h"

using namespace ag;

namespace {

struct FixtureParam {
    const char* name;
    Shape shape;
    std::vector<double> init;
    std::vector<std::vector<double>> grads;  // [step][element]
};
using Trajectory = std::vector<std::vector<std::vector<double>>>;  // [step][parameter][element]
struct SgdFixture {
    const char* name;
    double lr, momentum, weight_decay, dampening;
    bool nesterov;
    Trajectory float32, float64;
};
struct AdamWFixture {
    const char* name;
    double lr, beta1, beta2, eps, weight_decay;
    Trajectory float32, float64;
};
struct AdamWResumeFixture {
    int64_t step;
    std::vector<std::vector<double>> params, exp_avg, exp_avg_sq;  // [parameter][element]
};

#include "tests/fixtures/optim_fixtures.inc"

// Tolerances for comparing with PyTorch: a few units in the last place of the type. (The updates in fact equal
// PyTorch's bit for bit, std::fma mirroring its fused kernels; the slack is for fixtures regenerated on a CPU where
// PyTorch's kernels do not fuse.)
constexpr double kRtol32 = 1e-6, kAtol32 = 1e-7;
constexpr double kRtol64 = 1e-12, kAtol64 = 1e-14;

Tensor leaf(const std::vector<double>& values, const Shape& shape, DType dtype) {
    return from_vector(values, shape).to(dtype).requires_grad_();
}

// kParams' initial values as fresh leaves of dtype, named as in the fixture.
NamedTensors make_params(DType dtype) {
    NamedTensors params;
    for (const FixtureParam& f : kParams) params.emplace_back(f.name, leaf(f.init, f.shape, dtype));
    return params;
}

// Sets each parameter's .grad to the fixture's gradient for `step`, through backward: d/dp sum(p * g) = g exactly.
void set_grads(const NamedTensors& params, int step) {
    for (size_t k = 0; k < params.size(); ++k) {
        Tensor p = params[k].second;
        p.zero_grad();
        sum(p * from_vector(kParams[k].grads[step], kParams[k].shape).to(p.dtype())).backward();
    }
}

// Runs `opt` over the fixture's gradients from step `first` on, checking every parameter after every step.
void check_trajectory(Optimizer& opt, const NamedTensors& params, const Trajectory& expected, int first = 0) {
    const bool f32 = params[0].second.dtype() == DType::Float32;
    for (int step = first; step < kSteps; ++step) {
        set_grads(params, step);
        opt.step();
        for (size_t k = 0; k < params.size(); ++k) {
            INFO("after step " << step + 1 << ", parameter " << params[k].first);
            check_close(params[k].second, expected[step][k], f32 ? kRtol32 : kRtol64, f32 ? kAtol32 : kAtol64);
        }
    }
}

std::vector<std::string> names(const NamedTensors& named) {
    std::vector<std::string> out;
    for (const auto& n : named) out.push_back(n.first);
    return out;
}

}  // namespace

// ---- SGD ------------------------------------------------------------------------------------------------------------

TEST_CASE("SGD: five steps of each variant match torch.optim.SGD in float32 and float64", "[optim]") {
    for (const SgdFixture& c : kSgdCases)
        for (DType dtype : {DType::Float32, DType::Float64}) {
            INFO("case '" << c.name << "', " << dtype_name(dtype));
            NamedTensors params = make_params(dtype);
            SGD opt(params, c.lr, c.momentum, c.weight_decay, c.dampening, c.nesterov);
            check_trajectory(opt, params, dtype == DType::Float32 ? c.float32 : c.float64);
        }
}

TEST_CASE("SGD: state() has a momentum buffer per parameter and their started flags, from construction", "[optim]") {
    NamedTensors params = make_params(DType::Float32);
    SGD plain(params, 0.1);
    SGD with_momentum(params, 0.1, 0.9);
    CHECK(plain.state().empty());
    CHECK(names(with_momentum.state()) == std::vector<std::string>{"momentum_buffer.weight", "momentum_buffer.bias",
                                                                   "momentum_buffer.table", "momentum_started"});
    CHECK(with_momentum.state()[3].second.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
    const float* buffer = with_momentum.state()[0].second.data<float>();
    set_grads(params, 0);
    plain.step();
    with_momentum.step();
    CHECK(plain.state().empty());
    NamedTensors state = with_momentum.state();
    for (size_t k = 0; k < 3; ++k) {
        CHECK(state[k].second.shape() == kParams[k].shape);
        CHECK(state[k].second.dtype() == DType::Float32);
        CHECK(state[k].second.to_vector<double>() == kParams[k].grads[0]);  // the first step's buffer is the gradient
    }
    CHECK(state[3].second.to_vector<int64_t>() == std::vector<int64_t>{1, 1, 1});
    set_grads(params, 1);
    with_momentum.step();
    CHECK(with_momentum.state()[0].second.data<float>() == buffer);  // updated in place, never reallocated
}

TEST_CASE("SGD: invalid hyper-parameters are refused with a message naming them", "[optim]") {
    NamedTensors params = make_params(DType::Float32);
    REQUIRE_THROWS_WITH(SGD(params, -0.1), "SGD: lr must be non-negative; got -0.1");
    REQUIRE_THROWS_WITH(SGD(params, 0.1, -0.5), "SGD: momentum must be non-negative; got -0.5");
    REQUIRE_THROWS_WITH(SGD(params, 0.1, 0.9, -1), "SGD: weight_decay must be non-negative; got -1");
    REQUIRE_THROWS_WITH(SGD(params, 0.1, 0, 0, 0, true),
                        "SGD: nesterov needs momentum > 0 and dampening = 0; got momentum=0, dampening=0");
    REQUIRE_THROWS_WITH(SGD(params, 0.1, 0.9, 0, 0.5, true),
                        "SGD: nesterov needs momentum > 0 and dampening = 0; got momentum=0.9, dampening=0.5");
    REQUIRE_THROWS_WITH(SGD(params, std::numeric_limits<double>::quiet_NaN()),
                        "SGD: lr must be non-negative; got nan");
    REQUIRE_NOTHROW(SGD(params, 0.1, 0.9, 0.01, 0, true));
}

// ---- AdamW ----------------------------------------------------------------------------------------------------------

TEST_CASE("AdamW: five steps match torch.optim.AdamW in float32 and float64", "[optim]") {
    for (const AdamWFixture& c : kAdamWCases)
        for (DType dtype : {DType::Float32, DType::Float64}) {
            INFO("case '" << c.name << "', " << dtype_name(dtype));
            NamedTensors params = make_params(dtype);
            AdamW opt(params, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay);
            check_trajectory(opt, params, dtype == DType::Float32 ? c.float32 : c.float64);
        }
}

TEST_CASE("AdamW: default hyper-parameters are PyTorch's", "[optim]") {
    AdamW opt(make_params(DType::Float32));
    CHECK(opt.lr == 1e-3);
    CHECK(opt.beta1 == 0.9);
    CHECK(opt.beta2 == 0.999);
    CHECK(opt.eps == 1e-8);
    CHECK(opt.weight_decay == 1e-2);
}

TEST_CASE("AdamW: state() names the step count and each parameter's exp_avg and exp_avg_sq", "[optim]") {
    NamedTensors params = make_params(DType::Float64);
    AdamW opt(params);
    NamedTensors state = opt.state();
    CHECK(names(state) == std::vector<std::string>{"step", "exp_avg.weight", "exp_avg_sq.weight", "exp_avg.bias",
                                                   "exp_avg_sq.bias", "exp_avg.table", "exp_avg_sq.table"});
    CHECK(state[0].second.dtype() == DType::Int64);
    CHECK(state[0].second.dim() == 0);
    CHECK(state[0].second.item() == 0);
    for (size_t k = 0; k < params.size(); ++k)
        for (size_t slot : {1 + 2 * k, 2 + 2 * k}) {
            const Tensor& s = state[slot].second;
            CHECK(s.shape() == kParams[k].shape);
            CHECK(s.dtype() == DType::Float64);
            CHECK(s.to_vector<double>() == std::vector<double>(s.numel(), 0.0));  // zeros before the first step
        }
    set_grads(params, 0);
    opt.step();
    NamedTensors after = opt.state();
    for (size_t i = 0; i < state.size(); ++i)  // the same buffers, updated in place
        CHECK(after[i].second.impl().storage == state[i].second.impl().storage);
}

TEST_CASE("AdamW: the step count advances once per step and is read from the state tensor", "[optim]") {
    NamedTensors params = make_params(DType::Float32);
    AdamW opt(params);
    opt.step();  // no parameter has a gradient yet: nothing happens
    CHECK(opt.step_count() == 0);
    set_grads(params, 0);
    opt.step();
    CHECK(opt.step_count() == 1);
    opt.step();
    CHECK(opt.step_count() == 2);
    opt.state()[0].second.fill_(41);  // a loader writes the count
    opt.step();
    CHECK(opt.step_count() == 42);
    CHECK(opt.state()[0].second.item() == 42);
}

TEST_CASE("AdamW: a checkpoint loaded into a fresh optimiser resumes as PyTorch's would", "[optim]") {
    // Two steps taken here leave the state PyTorch had after two steps.
    NamedTensors params = make_params(DType::Float32);
    AdamWFixture c = kAdamWCases[0];
    AdamW first(params, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay);
    for (int step = 0; step < 2; ++step) set_grads(params, step), first.step();
    NamedTensors saved = first.state();
    CHECK(saved[0].second.item() == kAdamWResume.step);
    for (size_t k = 0; k < params.size(); ++k) {
        INFO("parameter " << params[k].first);
        check_close(saved[1 + 2 * k].second, kAdamWResume.exp_avg[k], kRtol32, kAtol32);
        check_close(saved[2 + 2 * k].second, kAdamWResume.exp_avg_sq[k], kRtol32, 1e-12);
    }
    // A fresh model and optimiser, loaded with PyTorch's values, take steps 3 to 5.
    NamedTensors fresh;
    for (size_t k = 0; k < params.size(); ++k)
        fresh.emplace_back(kParams[k].name, leaf(kAdamWResume.params[k], kParams[k].shape, DType::Float32));
    AdamW resumed(fresh, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay);
    NamedTensors state = resumed.state();
    state[0].second.fill_(static_cast<double>(kAdamWResume.step));
    for (size_t k = 0; k < params.size(); ++k) {
        state[1 + 2 * k].second.copy_(from_vector(kAdamWResume.exp_avg[k], kParams[k].shape).to(DType::Float32));
        state[2 + 2 * k].second.copy_(from_vector(kAdamWResume.exp_avg_sq[k], kParams[k].shape).to(DType::Float32));
    }
    check_trajectory(resumed, fresh, c.float32, /*first=*/2);
}

TEST_CASE("AdamW: invalid hyper-parameters are refused with a message naming them", "[optim]") {
    NamedTensors params = make_params(DType::Float32);
    REQUIRE_THROWS_WITH(AdamW(params, -1e-3), "AdamW: lr must be non-negative; got -0.001");
    REQUIRE_THROWS_WITH(AdamW(params, 1e-3, 1.5), "AdamW: beta1 must be in [0, 1); got 1.5");
    REQUIRE_THROWS_WITH(AdamW(params, 1e-3, -0.1), "AdamW: beta1 must be in [0, 1); got -0.1");
    REQUIRE_THROWS_WITH(AdamW(params, 1e-3, 0.9, 1.0), "AdamW: beta2 must be in [0, 1); got 1");
    REQUIRE_THROWS_WITH(AdamW(params, 1e-3, 0.9, 0.999, -1e-8), "AdamW: eps must be non-negative; got -1e-08");
    REQUIRE_THROWS_WITH(AdamW(params, 1e-3, 0.9, 0.999, 1e-8, -0.01),
                        "AdamW: weight_decay must be non-negative; got -0.01");
    REQUIRE_NOTHROW(AdamW(params, 0, 0, 0, 0, 0));
}

// ---- both, and the Optimizer base -----------------------------------------------------------------------------------

TEST_CASE("Optimizer: parameters without a gradient are skipped", "[optim]") {
    Tensor a = leaf({1, 2}, {2}, DType::Float32), b = leaf({3, 4}, {2}, DType::Float32);
    SGD sgd({{"a", a}, {"b", b}}, 0.1, 0.9);
    AdamW adamw({{"a", a}, {"b", b}}, 0.1);
    sum(a * a).backward();  // only a gets a gradient
    sgd.step();
    adamw.step();
    CHECK(b.to_vector<float>() == std::vector<float>{3, 4});
    CHECK(a.to_vector<float>() != std::vector<float>{1, 2});
    CHECK(sgd.state()[2].second.to_vector<int64_t>() == std::vector<int64_t>{1, 0});  // only a's buffer started
    CHECK(sgd.state()[1].second.to_vector<float>() == std::vector<float>{0, 0});      // momentum_buffer.b untouched
    CHECK(adamw.state()[3].second.to_vector<float>() == std::vector<float>{0, 0});  // exp_avg.b untouched
}

TEST_CASE("Optimizer: step updates the parameters in place, outside the graph, with the current lr", "[optim]") {
    Linear layer(3, 2);
    const float* storage = layer.weight.data<float>();
    SGD opt(layer.named_parameters(), 0.5);
    sum(layer(ones({4, 3}))).backward();
    const std::vector<float> before = layer.weight.to_vector<float>();
    opt.lr = 0;  // a schedule changed it: this step does nothing
    opt.step();
    CHECK(layer.weight.to_vector<float>() == before);
    opt.lr = 0.5;
    opt.step();  // d weight = 4 everywhere (4 rows of ones): weight -= 0.5 * 4
    CHECK(layer.weight.data<float>() == storage);
    CHECK(layer.weight.is_leaf());
    CHECK(layer.weight.requires_grad());
    for (size_t i = 0; i < before.size(); ++i) CHECK(layer.weight.to_vector<float>()[i] == before[i] - 2.0f);
}

TEST_CASE("Optimizer: a gradient of the wrong shape is refused before any parameter changes", "[optim]") {
    Tensor a = leaf({1, 2}, {2}, DType::Float32), b = leaf({3, 4}, {2}, DType::Float32);
    AdamW opt({{"a", a}, {"b", b}});
    sum(a * b).backward();
    b.impl().grad = zeros({3}).impl_ptr();  // only possible by reaching past the API
    REQUIRE_THROWS_WITH(opt.step(), "AdamW: a gradient must be contiguous and of its parameter's shape [2] and dtype; "
                                    "got [3] with strides [1] for 'b'");
    CHECK(a.to_vector<float>() == std::vector<float>{1, 2});
    CHECK(opt.step_count() == 0);
}

TEST_CASE("Optimizer: zero_grad zeroes every parameter's gradient", "[optim]") {
    NamedTensors params = make_params(DType::Float32);
    AdamW opt(params);
    set_grads(params, 0);
    opt.zero_grad();
    for (const auto& [name, p] : params) CHECK(p.grad().to_vector<float>() == std::vector<float>(p.numel(), 0.0f));
}

TEST_CASE("Optimizer: every parameter must be a distinct, contiguous leaf with a unique name that requires grad",
          "[optim]") {
    Tensor a = leaf({1, 2}, {2}, DType::Float32), b = leaf({1, 2, 3, 4}, {2, 2}, DType::Float32);
    REQUIRE_THROWS_WITH(AdamW({{"a", a}, {"a", b}}), "AdamW: parameter names must be unique; got 'a' twice");
    REQUIRE_THROWS_WITH(SGD({{"a", a}, {"b", a}}, 0.1),
                        "SGD: a parameter must appear only once; got 'a' again as 'b'");
    REQUIRE_THROWS_WITH(AdamW({{"c", zeros({2})}}),
                        "AdamW: every parameter must require grad; got 'c', which does not");
    REQUIRE_THROWS_WITH(AdamW({{"d", a * 2.0}}), Catch::StartsWith("AdamW: every parameter must be a leaf; got 'd'"));
    REQUIRE_THROWS_WITH(AdamW({{"e", Tensor()}}), "AdamW: every parameter must be defined; got 'e' undefined");
    Tensor transposed = b.detach().transpose(0, 1).requires_grad_();
    REQUIRE_THROWS_WITH(SGD({{"f", transposed}}, 0.1),
                        "SGD: every parameter must be contiguous; got 'f' with strides [1, 2]");
}

TEST_CASE("AdamW: a step count that cannot advance (from a checkpoint) is refused before anything changes", "[optim]") {
    for (int64_t bad : {std::numeric_limits<int64_t>::max(), int64_t{-5}}) {
        Tensor w = leaf({1, 2}, {2}, DType::Float32);
        AdamW opt({{"w", w}}, 0.1);
        opt.state()[0].second.copy_(from_vector(std::vector<int64_t>{bad}, {}));  // "step", as a checkpoint holds it
        sum(w * w).backward();
        REQUIRE_THROWS_WITH(opt.step(), Catch::Contains("AdamW: the step count must be in [0, 2^63 - 1)"));
        CHECK(w.to_vector<float>() == std::vector<float>{1, 2});
    }
}

TEST_CASE("Optimizer: a parameter given non-contiguous values after construction is named as such", "[optim]") {
    Tensor w = leaf({1, 2, 3, 4}, {4}, DType::Float32);
    SGD opt({{"w", w}}, 0.1);
    {
        NoGradGuard no_grad;
        w.set_data(ones({1}).expand({4}));
    }
    sum(w * 2.0).backward();
    REQUIRE_THROWS_WITH(opt.step(), Catch::Contains("SGD: parameter 'w' is no longer contiguous (strides [0])"));
}
