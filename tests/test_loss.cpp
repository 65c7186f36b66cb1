// Losses: mse_loss against torch.nn.functional.mse_loss (fixtures made by tests/fixtures/make_optim_fixtures.py) and
// finite differences; cross_entropy, reached through layers/loss.h, on a case worked out by hand.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/engine.h"
#include "engine/gradcheck.h"
#include "tests/check_close.h"
#include "layers/loss.h"
#include "layers/optim.h"

using namespace ag;

namespace {

struct MseFixture {
    Shape shape;
    std::vector<double> input, target;
    double loss32, loss64;
    std::vector<double> dinput;  // float32
};
struct MseSgdFixture {
    double lr, momentum;
    std::vector<double> start, target;
    std::vector<std::vector<double>> after;  // [step][element]
};

#include "tests/fixtures/loss_fixtures.inc"

// Tolerances for comparing with PyTorch: a few units in the last place of the type.
constexpr double kRtol32 = 1e-6, kAtol32 = 1e-7, kRtol64 = 1e-12;

Tensor leaf(const std::vector<double>& values, const Shape& shape, DType dtype) {
    return from_vector(values, shape).to(dtype).requires_grad_();
}

}  // namespace

TEST_CASE("mse_loss: values and gradients match torch.nn.functional.mse_loss") {
    for (const MseFixture& c : kMseCases) {
        INFO("shape " << shape_str(c.shape));
        Tensor x = leaf(c.input, c.shape, DType::Float32);
        Tensor loss = mse_loss(x, from_vector(c.target, c.shape).to(DType::Float32));
        CHECK(loss.dim() == 0);
        check_close(loss, std::vector<double>{c.loss32}, kRtol32, 0);
        loss.backward();
        check_close(x.grad(), c.dinput, kRtol32, kAtol32);
        Tensor loss64 = mse_loss(from_vector(c.input, c.shape), from_vector(c.target, c.shape));
        check_close(loss64, std::vector<double>{c.loss64}, kRtol64, 0);
    }
}

TEST_CASE("mse_loss: gradient wrt input and target matches finite differences") {
    auto f = [](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1]); };
    for (const MseFixture& c : kMseCases) {
        Tensor x = leaf(c.input, c.shape, DType::Float64), y = leaf(c.target, c.shape, DType::Float64);
        GradcheckResult r = gradcheck(f, {x, y});
        INFO(r.report);
        CHECK(r);
    }
}

TEST_CASE("mse_loss: input and target must have the same shape and dtype") {
    REQUIRE_THROWS_WITH(mse_loss(zeros({2, 3}), zeros({3})),
                        "mse_loss: input and target must have the same shape; got [2, 3] and [3]");
    REQUIRE_THROWS_WITH(mse_loss(zeros({3}), zeros({3}, DType::Float64)),
                        "mse_loss: input and target must have the same floating-point dtype; got torch.float32 and "
                        "torch.float64");
    REQUIRE_THROWS_WITH(mse_loss(zeros({3}, DType::Int64), zeros({3}, DType::Int64)),
                        Catch::EndsWith("got torch.int64 and torch.int64"));
}

TEST_CASE("mse_loss: SGD with momentum minimising it follows PyTorch step by step") {
    const Shape shape{3, 4};
    Tensor p = leaf(kMseSgd.start, shape, DType::Float32);
    Tensor target = from_vector(kMseSgd.target, shape).to(DType::Float32);
    SGD opt({{"p", p}}, kMseSgd.lr, kMseSgd.momentum);
    for (size_t step = 0; step < kMseSgd.after.size(); ++step) {
        opt.zero_grad();
        mse_loss(p, target).backward();
        opt.step();
        INFO("after step " << step + 1);
        check_close(p, kMseSgd.after[step], kRtol32, kAtol32);
    }
}

TEST_CASE("cross_entropy: a case worked out by hand, through layers/loss.h: log(6) / 2 and (softmax - onehot) / N",
          "[loss]") {
    // Row 0 holds log 1, log 2, log 3: softmax [1, 2, 3] / 6, target 2. Row 1 is uniform: softmax 1/3 each, target 0.
    // loss = (-log(3/6) - log(1/3)) / 2 = log(6) / 2; dlogits = (softmax - onehot(targets)) / N, N = 2.
    Tensor logits = from_vector(std::vector<double>{0.0, std::log(2.0), std::log(3.0), 0.0, 0.0, 0.0}, {2, 3})
                        .requires_grad_();
    Tensor loss = cross_entropy(logits, tensor({2, 0}, DType::Int64));
    REQUIRE(loss.dim() == 0);
    CHECK(loss.item() == Approx(std::log(6.0) / 2).epsilon(1e-14));
    loss.backward();
    const std::vector<double> dlogits = {1.0 / 12, 1.0 / 6, -1.0 / 4, -1.0 / 3, 1.0 / 6, 1.0 / 6};
    check_close(logits.grad(), dlogits, 1e-14, 1e-15);
    // float32 gives the same within its rounding
    Tensor logits32 = logits.detach().to(DType::Float32).requires_grad_();
    Tensor loss32 = cross_entropy(logits32, tensor({2, 0}, DType::Int64));
    CHECK(loss32.item() == Approx(std::log(6.0) / 2).epsilon(1e-6));
    loss32.backward();
    check_close(logits32.grad(), dlogits, 1e-6, 1e-7);
}
