// Losses (engine/ops.h's cross_entropy, layers/loss.h's mse_loss): values and gradients against PyTorch 1.13
// (cross_entropy: tests/fixtures/op_fixtures.inc from tests/fixtures/make_op_fixtures.py; mse_loss:
// tests/fixtures/loss_fixtures.inc from tests/fixtures/make_optim_fixtures.py), a case worked out by hand,
// gradcheck in float64, and each error message.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "engine/engine.h"
#include "engine/gradcheck.h"
#include "layers/loss.h"
#include "layers/optim.h"
#include "tests/check_close.h"
#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using namespace ag;
using Catch::Contains;

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

// ---- cross_entropy ---------------------------------------------------------------------------------------------

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

TEST_CASE("cross_entropy: the mean loss matches PyTorch, also for logits scaled by 1000", "[loss]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    Tensor x = make(fx::ce_x, dt), t = make(fx::ce_t, DType::Int64);
    check_close(ag::cross_entropy(x, t), fx::cross_entropy_ce, dt);
    check_close(ag::cross_entropy(x * 1000, t), fx::cross_entropy_ce_x1000, dt);
}

TEST_CASE("cross_entropy(x @ W + b, targets): the gradients of x, W and the broadcast bias b match PyTorch", "[loss]") {
    Tensor x = leaf(fxg::lin_x), W = leaf(fxg::lin_W), b = leaf(fxg::lin_b);
    Tensor loss = ag::cross_entropy(ag::matmul(x, W) + b, make(fxg::lin_t, DType::Int64));
    check_close(loss, fxg::linear_ce_loss);
    loss.backward();
    check_close(x.grad(), fxg::linear_ce_dlin_x);
    check_close(W.grad(), fxg::linear_ce_dlin_W);
    check_close(b.grad(), fxg::linear_ce_dlin_b);
}

TEST_CASE("cross_entropy: a bigram model, cross_entropy((embedding(ids) @ W).view(B*T, V)), has PyTorch's gradients",
          "[loss]") {
    Tensor emb = leaf(fxg::lm_emb), W = leaf(fxg::lm_W);
    Tensor logits = ag::matmul(ag::embedding(emb, make(fxg::lm_ids, DType::Int64)), W);  // (B, T, C) @ (C, V)
    Tensor loss = ag::cross_entropy(logits.view({8, 6}), make(fxg::lm_t, DType::Int64));
    check_close(loss, fxg::embedding_ce_loss);
    loss.backward();
    check_close(emb.grad(), fxg::embedding_ce_dlm_emb);  // ids repeat: their rows' gradients add up
    check_close(W.grad(), fxg::embedding_ce_dlm_W);
}

TEST_CASE("cross_entropy: gradient matches finite differences, also of (B,T,C) logits flattened", "[loss][gradcheck]") {
    ag::manual_seed(21);
    Tensor targets = ids({3, 0, 3, 1, 2}, {5});
    check_unary([targets](const Tensor& logits) { return ag::cross_entropy(logits, targets); }, input({5, 4}));
    // (B,T,C) logits flattened to (B*T, C), as in the notebooks
    check_unary([targets](const Tensor& logits) { return ag::cross_entropy(logits.reshape({-1, 4}).slice(0, 0, 5), targets); },
           input({2, 3, 4}));
}

TEST_CASE("cross_entropy: checks its targets and the shape of its logits", "[loss][errors]") {
    Tensor logits = ag::ones({3, 4});
    REQUIRE_THROWS_AS(ag::cross_entropy(logits, ids({0, 4, 1})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::cross_entropy(logits, ids({0, 4, 1})),
                        "cross_entropy: target 4 at position 1 is out of range for 4 classes");
    REQUIRE_THROWS_WITH(ag::cross_entropy(logits, ids({0, 1, -1})), Contains("target -1 at position 2"));
    REQUIRE_THROWS_AS(ag::cross_entropy(logits, ag::zeros({3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::cross_entropy(logits, ag::zeros({3})),
                        "cross_entropy: targets must be int64 class indices; got torch.float32");
    REQUIRE_THROWS_WITH(ag::cross_entropy(logits, ids({0, 1})),
                        "cross_entropy: targets must be (N) for logits (N, C); got [2] for [3, 4]");
    REQUIRE_THROWS_WITH(ag::cross_entropy(ag::ones({2, 3, 4}), ids({0, 1})),
                        Contains("cross_entropy: targets must be the input's shape without its class dim"));
}

// ---- mse_loss --------------------------------------------------------------------------------------------------

TEST_CASE("mse_loss: values and gradients match torch.nn.functional.mse_loss", "[loss]") {
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

TEST_CASE("mse_loss: gradient wrt input and target matches finite differences", "[loss][gradcheck]") {
    auto f = [](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1]); };
    for (const MseFixture& c : kMseCases) {
        Tensor x = leaf(c.input, c.shape, DType::Float64), y = leaf(c.target, c.shape, DType::Float64);
        GradcheckResult r = gradcheck(f, {x, y});
        INFO(r.report);
        CHECK(r);
    }
}

TEST_CASE("mse_loss: input and target must have the same shape and dtype", "[loss][errors]") {
    REQUIRE_THROWS_WITH(mse_loss(zeros({2, 3}), zeros({3})),
                        "mse_loss: input and target must have the same shape; got [2, 3] and [3]");
    REQUIRE_THROWS_WITH(mse_loss(zeros({3}), zeros({3}, DType::Float64)),
                        "mse_loss: input and target must have the same floating-point dtype; got torch.float32 and "
                        "torch.float64");
    REQUIRE_THROWS_WITH(mse_loss(zeros({3}, DType::Int64), zeros({3}, DType::Int64)),
                        Catch::EndsWith("got torch.int64 and torch.int64"));
}

TEST_CASE("mse_loss: SGD with momentum minimising it follows PyTorch step by step", "[loss][optim]") {
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
