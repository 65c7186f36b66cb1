// The losses with PyTorch's options (engine/loss.cpp): cross_entropy with ignore_index, label_smoothing and
// reduction in both layouts, nll_loss and binary_cross_entropy_with_logits. Values against PyTorch 1.13
// (tests/fixtures/loss_more_fixtures.inc from tests/fixtures/make_loss_more_fixtures.py), gradcheck in float64,
// and each error message.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>

#include "engine/engine.h"
#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/loss_more_fixtures.inc"
}  // namespace fixture
namespace fl = fixture::fx_loss;

using Catch::Contains;

namespace {

using CE = ag::CrossEntropyFuncOptions;

}  // namespace

TEST_CASE("cross_entropy options: (N, C) with ignore_index, label_smoothing and each reduction match PyTorch",
          "[loss]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    const Tensor x = make(fl::x54, dt), t = make(fl::t5, DType::Int64);
    check_close(ag::cross_entropy(x, t, CE{}), fl::ce_mean, dt);
    check_close(ag::cross_entropy(x, t, {.reduction = "sum"}), fl::ce_sum, dt);
    check_close(ag::cross_entropy(x, t, {.reduction = "none"}), fl::ce_none, dt);
    check_close(ag::cross_entropy(x, t, {.ignore_index = 1}), fl::ce_ignore1_mean, dt);
    check_close(ag::cross_entropy(x, t, {.ignore_index = 1, .reduction = "none"}), fl::ce_ignore1_none, dt);
    check_close(ag::cross_entropy(x, t, {.label_smoothing = 0.2}), fl::ce_smooth_mean, dt);
    check_close(ag::cross_entropy(x, t, {.label_smoothing = 0.2, .reduction = "sum"}), fl::ce_smooth_sum, dt);
    // mean with ignored targets divides by the count of the others, with label smoothing too (torch 1.13)
    check_close(ag::cross_entropy(x, t, {.ignore_index = 1, .label_smoothing = 0.2}), fl::ce_smooth_ignore1_mean, dt);
    check_close(ag::cross_entropy(x, t, {.ignore_index = 1, .label_smoothing = 0.2, .reduction = "none"}),
                fl::ce_smooth_ignore1_none, dt);
    check_close(ag::cross_entropy(x, ag::ones_like(t), {.ignore_index = 1}), fl::ce_all_ignored, dt);  // NaN
}

TEST_CASE("cross_entropy options: class dim 1 (N, C, d1) and the GPT's (B, T, V) layout match PyTorch", "[loss]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    const Tensor x234 = make(fl::x234, dt), t24 = make(fl::t24, DType::Int64);
    check_close(ag::cross_entropy(x234, t24, CE{}), fl::ce_dim1_mean, dt);  // -100 ignored by default
    check_close(ag::cross_entropy(x234, t24, {.label_smoothing = 0.1, .reduction = "none"}), fl::ce_dim1_smooth_none,
                dt);
    const Tensor x235 = make(fl::x235, dt), t23 = make(fl::t23, DType::Int64);
    check_close(ag::cross_entropy(x235, t23, CE{}), fl::ce_last_mean, dt);
    check_close(ag::cross_entropy(x235, t23), fl::ce_last_mean, dt);  // the plain form takes it too
    check_close(ag::cross_entropy(x235, t23, {.ignore_index = 3, .label_smoothing = 0.3, .reduction = "none"}),
                fl::ce_last_smooth_ignore3_none, dt);
    // (2, 4, 4) with (2, 4): both readings fit; PyTorch's class dim 1 wins
    check_close(ag::cross_entropy(make(fl::x244, dt), make(fl::t24b, DType::Int64), {.reduction = "none"}),
                fl::ce_square_none, dt);
}

TEST_CASE("nll_loss: values of log_softmax inputs match PyTorch, with ignore_index and each reduction", "[loss]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    const Tensor logp = ag::log_softmax(make(fl::x54, dt), 1), t = make(fl::t5, DType::Int64);
    check_close(ag::nll_loss(logp, t), fl::nll_mean, dt);
    check_close(ag::nll_loss(logp, t, 1, "sum"), fl::nll_ignore1_sum, dt);
    check_close(ag::nll_loss(logp, t, 1), fl::nll_ignore1_mean, dt);
    check_close(ag::nll_loss(ag::log_softmax(make(fl::x234, dt), 1), make(fl::t24, DType::Int64), -100, "none"),
                fl::nll_dim1_none, dt);
}

TEST_CASE("binary_cross_entropy_with_logits: values match PyTorch, with pos_weight and for large logits", "[loss]") {
    const DType dt = GENERATE(DType::Float32, DType::Float64);
    const Tensor x = make(fl::bx, dt), y = make(fl::by, dt), pw = make(fl::pw, dt);
    check_close(ag::binary_cross_entropy_with_logits(x, y), fl::bce_mean, dt);
    check_close(ag::binary_cross_entropy_with_logits(x, y, "sum"), fl::bce_sum, dt);
    check_close(ag::binary_cross_entropy_with_logits(x, y, "none"), fl::bce_none, dt);
    check_close(ag::binary_cross_entropy_with_logits(x, y, "none", pw), fl::bce_pos_weight_none, dt);
    check_close(ag::binary_cross_entropy_with_logits(x * 50.0, y, "mean", pw), fl::bce_x50_pos_weight_mean, dt);
}

TEST_CASE("losses with options: gradients match finite differences", "[loss][gradcheck]") {
    ag::manual_seed(33);
    const Tensor t5 = ids({3, 1, 0, 1, 2}), t24 = ids({0, 2, -100, 1, 1, 1, 0, -100}, {2, 4});
    const Tensor t23 = ids({4, 0, 2, 1, 3, 3}, {2, 3});
    for (const char* reduction : {"mean", "sum", "none"}) {
        INFO("reduction " << reduction);
        const CE smooth{.ignore_index = 1, .label_smoothing = 0.2, .reduction = reduction};
        check_unary([&](const Tensor& x) { return ag::cross_entropy(x, t5, smooth); }, input({5, 4}));
        const CE plain{.reduction = reduction};
        check_unary([&](const Tensor& x) { return ag::cross_entropy(x, t24, plain); }, input({2, 3, 4}));
        const CE last{.ignore_index = 3, .label_smoothing = 0.3, .reduction = reduction};
        check_unary([&](const Tensor& x) { return ag::cross_entropy(x, t23, last); }, input({2, 3, 5}));
        check_unary([&](const Tensor& x) { return ag::nll_loss(x, t5, 1, reduction); }, input({5, 4}));
        // d logits and d targets (soft targets); pos_weight is differentiable too
        check([&](const std::vector<Tensor>& in) {
            return ag::binary_cross_entropy_with_logits(in[0], in[1], reduction, in[2]);
        }, {away_from_zero({3, 4}), ag::rand({3, 4}, DType::Float64).requires_grad_(), positive({4})});
    }
}

TEST_CASE("losses with options: each class of bad input throws with the rule and what it got", "[loss][errors]") {
    const Tensor x = ag::ones({3, 4}), t = ids({0, 1, 2});
    REQUIRE_THROWS_AS(ag::cross_entropy(x, t, {.reduction = "avg"}), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::cross_entropy(x, t, {.reduction = "avg"}),
                        "cross_entropy: reduction must be 'mean', 'sum' or 'none'; got 'avg'");
    REQUIRE_THROWS_WITH(ag::cross_entropy(x, t, {.label_smoothing = 1.5}),
                        "cross_entropy: label_smoothing must be in [0, 1]; got 1.500000");
    REQUIRE_THROWS_WITH(ag::cross_entropy(x, ag::zeros({3}), CE{}),
                        "cross_entropy: targets must be int64 class indices; got torch.float32");
    REQUIRE_THROWS_WITH(ag::cross_entropy(ids({0, 1}, {1, 2}), ids({0}), CE{}),
                        "cross_entropy: expected a floating-point input; got torch.int64");
    REQUIRE_THROWS_WITH(ag::cross_entropy(ag::ones({2, 3, 4}), ids({0, 1}), CE{}),
                        "cross_entropy: targets must be the input's shape without its class dim: (N) for (N, C), "
                        "(N, d1, ...) for (N, C, d1, ...), or (B, T) for (B, T, V); got targets [2] for input "
                        "[2, 3, 4]");
    REQUIRE_THROWS_WITH(ag::cross_entropy(ag::ones({3}), ids({0}), CE{}), Contains("got targets [1] for input [3]"));
    REQUIRE_THROWS_WITH(ag::cross_entropy(x, ids({0, 4, 1}), CE{}),
                        "cross_entropy: target 4 at position 1 is out of range for 4 classes");
    REQUIRE_THROWS_WITH(ag::cross_entropy(x, ids({0, -100, -1}), CE{}), Contains("target -1 at position 2"));
    REQUIRE_THROWS_WITH(ag::cross_entropy(ag::ones({3, 0}), t, CE{}),
                        "cross_entropy: the class dim must not be empty; got input [3, 0]");
    // zero targets: sum 0, mean NaN (0 / 0), as in PyTorch
    CHECK(ag::cross_entropy(ag::ones({0, 4}), ids({}, {0}), {.reduction = "sum"}).item() == 0);
    CHECK(std::isnan(ag::cross_entropy(ag::ones({0, 4}), ids({}, {0}), CE{}).item()));
    REQUIRE_THROWS_WITH(ag::nll_loss(x, ids({0, 1})), Contains("nll_loss: targets must be the input's shape"));
    REQUIRE_THROWS_WITH(ag::nll_loss(x, t, -100, "mean "), Contains("nll_loss: reduction must be"));
    REQUIRE_THROWS_WITH(ag::nll_loss(x, ids({0, 9, 1})), "nll_loss: target 9 at position 1 is out of range for 4 classes");

    const char* bce = "binary_cross_entropy_with_logits: ";
    REQUIRE_THROWS_WITH(ag::binary_cross_entropy_with_logits(x, ag::ones({4, 3})),
                        std::string(bce) + "targets must have the logits' shape; got [4, 3] for [3, 4]");
    REQUIRE_THROWS_WITH(ag::binary_cross_entropy_with_logits(x, ag::ones({3, 4}, DType::Float64)),
                        std::string(bce) + "targets must have the logits' dtype; got torch.float64 for torch.float32");
    REQUIRE_THROWS_WITH(ag::binary_cross_entropy_with_logits(t, t), std::string(bce) +
                        "expected a floating-point input; got torch.int64");
    REQUIRE_THROWS_WITH(ag::binary_cross_entropy_with_logits(x, x, "all"), Contains("reduction must be"));
    REQUIRE_THROWS_WITH(ag::binary_cross_entropy_with_logits(x, x, "mean", ag::ones({3})),
                        std::string(bce) + "pos_weight must broadcast to the logits' shape; got [3] for [3, 4]");
    REQUIRE_THROWS_WITH(ag::binary_cross_entropy_with_logits(x, x, "mean", ag::ones({4}, DType::Float64)),
                        Contains("pos_weight must have the logits' dtype"));
}
