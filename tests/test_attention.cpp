// Attention: the fused self_attention op (engine/ops.h) and the layers built on it, Head and MultiHeadAttention.
// The reference everywhere is the notebook's spelling, op by op:
//   wei = q @ k^T * scale; wei = wei.masked_fill(tril == 0, -inf); wei = softmax(wei, -1); out = wei @ v
// on the slices of the packed projection, the heads joined side by side. The notebook's spelling itself is checked
// against PyTorch 1.13's float32 loss and gradients (tests/fixtures/op_fixtures.inc, from
// tests/fixtures/make_op_fixtures.py) and against finite differences.
#include <catch2/catch.hpp>

#include <cmath>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "layers/layers.h"
#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

using namespace ag;
using Catch::Contains;

namespace {

// The notebook's weights of one head from its (B, T, hs) queries and keys: (B, T, T).
Tensor notebook_weights(const Tensor& q, const Tensor& k, bool causal, double scale) {
    const int64_t T = q.size(1);
    Tensor wei = matmul(q, k.transpose(-2, -1)) * scale;
    if (causal) wei = wei.masked_fill(tril(ones({T, T}, q.dtype())) == 0, -INFINITY);
    return softmax(wei, -1);
}

// Head h's key, query and value inside kqv (B, T, 3 C): the layout self_attention reads.
std::tuple<Tensor, Tensor, Tensor> head_slices(const Tensor& kqv, int64_t n_head, int64_t h) {
    const int64_t C = kqv.size(2) / 3, hs = C / n_head;
    return {kqv.slice(-1, h * hs, (h + 1) * hs), kqv.slice(-1, C + h * hs, C + (h + 1) * hs),
            kqv.slice(-1, 2 * C + h * hs, 2 * C + (h + 1) * hs)};
}

// self_attention spelled as the notebook does, each head on its own, joined along channels.
Tensor notebook_attention(const Tensor& kqv, int64_t n_head, bool causal, double scale) {
    std::vector<Tensor> outs;
    for (int64_t h = 0; h < n_head; ++h) {
        auto [k, q, v] = head_slices(kqv, n_head, h);
        outs.push_back(matmul(notebook_weights(q, k, causal, scale), v));
    }
    return cat(outs, -1);
}

// Values and kqv's gradient of both spellings, for a weighted sum of the output (random weights: errors that
// cancel in a plain sum do not hide).
void check_against_notebook(int64_t B, int64_t T, int64_t n_head, int64_t hs, bool causal) {
    Tensor kqv = randn({B, T, 3 * n_head * hs}, DType::Float64).requires_grad_();
    Tensor w = randn({B, T, n_head * hs}, DType::Float64);
    Tensor fused = self_attention(kqv, n_head, causal, 0.37);
    (fused * w).sum().backward();
    const Tensor fused_grad = kqv.grad().clone();
    kqv.zero_grad();
    Tensor reference = notebook_attention(kqv, n_head, causal, 0.37);
    (reference * w).sum().backward();
    INFO("B, T, n_head, hs = " << B << ", " << T << ", " << n_head << ", " << hs << (causal ? ", causal" : ""));
    CHECK(allclose(fused, reference, 1e-10, 1e-12));
    CHECK(allclose(fused_grad, kqv.grad(), 1e-10, 1e-12));
}

}  // namespace

// ---- the notebook's spelling: q @ k^T, masked_fill, softmax, @ v ---------------------------------------------------

TEST_CASE("attention: the notebook's head, (softmax(masked(q @ k^T * scale)) @ v * w).sum(), has PyTorch's gradients",
          "[attention]") {
    Tensor q = leaf(fxg::att_q), k = leaf(fxg::att_k), v = leaf(fxg::att_v);
    Tensor loss = (ag::matmul(notebook_weights(q, k, /*causal=*/true, std::pow(3.0, -0.5)), v) * make(fxg::att_w)).sum();
    check_close(loss, fxg::attention_loss);
    loss.backward();
    check_close(q.grad(), fxg::attention_datt_q);
    check_close(k.grad(), fxg::attention_datt_k);
    check_close(v.grad(), fxg::attention_datt_v);
}

TEST_CASE("attention: the notebook's causal head softmax(q @ k^T * scale) @ v passes gradcheck wrt q, k and v",
          "[attention][gradcheck]") {
    ag::manual_seed(33);
    const int64_t B = 2, T = 3, head_size = 4;
    Tensor mask = causal_mask(T);
    auto attention = [mask](const std::vector<Tensor>& in) {
        const Tensor &q = in[0], &k = in[1], &v = in[2];
        Tensor wei = ag::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(head_size)));
        wei = ag::softmax(wei.masked_fill(mask, -kInf), -1);  // (B, T, T)
        return ag::matmul(wei, v);                              // (B, T, head_size)
    };
    check(attention, {input({B, T, head_size}), input({B, T, head_size}), input({B, T, head_size})});
}

// ---- the fused op ----------------------------------------------------------------------------------------------

TEST_CASE("self_attention: gives the attention head the same loss and gradients as PyTorch", "[attention]") {
    Tensor q = leaf(fxg::att_q), k = leaf(fxg::att_k), v = leaf(fxg::att_v);
    Tensor kqv = ag::cat({k, q, v}, -1);  // the packed layout: keys, queries, values side by side
    Tensor loss = (ag::self_attention(kqv, 1, /*causal=*/true, std::pow(3.0, -0.5)) * make(fxg::att_w)).sum();
    check_close(loss, fxg::attention_loss);
    loss.backward();
    check_close(q.grad(), fxg::attention_datt_q);
    check_close(k.grad(), fxg::attention_datt_k);
    check_close(v.grad(), fxg::attention_datt_v);
}

TEST_CASE("self_attention: equals the notebook's ops in values and gradient, within and across blocks", "[attention]") {
    manual_seed(21);
    // T <= 64 keeps the probabilities for backward; 66 and 130 recompute them, over two and three blocks.
    for (bool causal : {true, false}) {
        check_against_notebook(2, 5, 1, 3, causal);
        check_against_notebook(2, 5, 3, 2, causal);
        check_against_notebook(1, 64, 2, 4, causal);
        check_against_notebook(1, 66, 1, 3, causal);
        check_against_notebook(2, 130, 4, 8, causal);
    }
}

TEST_CASE("self_attention: gradcheck wrt kqv, causal or not, non-contiguous, past one block",
          "[attention][gradcheck]") {
    manual_seed(26);
    auto check = [](const Tensor& input, int64_t n_head, bool causal, bool transposed) {
        GradcheckResult r = gradcheck(
            [=](const std::vector<Tensor>& in) {
                return self_attention(transposed ? in[0].transpose(0, 2) : in[0], n_head, causal, 0.5);
            },
            {input});
        INFO(r.report);
        CHECK(r.passed);
    };
    check(randn({2, 4, 6}, DType::Float64).requires_grad_(), 1, true, false);
    check(randn({2, 4, 12}, DType::Float64).requires_grad_(), 2, true, false);
    check(randn({2, 4, 12}, DType::Float64).requires_grad_(), 2, false, false);
    check(randn({6, 4, 2}, DType::Float64).requires_grad_(), 1, true, true);  // (2, 4, 6) read through a view
    // T = 66 spans two blocks: the backward recomputes the probabilities (a 5% error there fails this check)
    check(randn({1, 66, 6}, DType::Float64).requires_grad_(), 2, true, false);
    check(randn({1, 66, 3}, DType::Float64).requires_grad_(), 1, false, false);
}

TEST_CASE("self_attention_weights: the kernel's own probabilities equal the notebook's weights", "[attention]") {
    manual_seed(27);
    for (auto [T, causal] : {std::tuple<int64_t, bool>{5, true}, {70, true}, {70, false}}) {
        const int64_t B = 2, n_head = 3, hs = 4;
        Tensor kqv = randn({B, T, 3 * n_head * hs}, DType::Float64);
        Tensor weights = self_attention_weights(kqv, n_head, causal, 0.5);  // (B, n_head, T, T)
        REQUIRE(weights.shape() == Shape{B, n_head, T, T});
        CHECK_FALSE(weights.requires_grad());
        for (int64_t h = 0; h < n_head; ++h) {
            auto [k, q, v] = head_slices(kqv, n_head, h);
            INFO("T = " << T << ", head " << h);
            CHECK(allclose(weights.select(1, h), notebook_weights(q, k, causal, 0.5), 1e-12, 1e-14));
        }
        CHECK(allclose(weights.sum(-1), ones({B, n_head, T}, DType::Float64)));
        if (causal) CHECK(allclose(weights, tril(weights), 0, 0));  // nothing above the diagonal
    }
}

TEST_CASE("self_attention: float32 agrees with the notebook's ops to float32 rounding", "[attention]") {
    manual_seed(23);
    Tensor kqv = randn({2, 100, 96});
    CHECK(allclose(self_attention(kqv, 2, true, 0.25), notebook_attention(kqv, 2, true, 0.25), 1e-5, 1e-6));
    CHECK(allclose(self_attention(kqv, 4, false, 0.25), notebook_attention(kqv, 4, false, 0.25), 1e-5, 1e-6));
}

TEST_CASE("self_attention: a kqv that is not (B, T, 3 C) for n_head heads is refused", "[attention][errors]") {
    REQUIRE_THROWS_WITH(self_attention(zeros({2, 4, 7}), 1, true, 1.0),
                        Contains("self_attention: kqv must be (B, T, 3 C)") && Contains("got shape [2, 4, 7]"));
    REQUIRE_THROWS_WITH(self_attention(zeros({2, 4, 9}), 2, true, 1.0), Contains("positive multiple of 2"));
    REQUIRE_THROWS_WITH(self_attention(zeros({4, 6}), 1, true, 1.0), Contains("(B, T, 3 C)"));
    REQUIRE_THROWS_WITH(self_attention(zeros({2, 4, 0}), 1, true, 1.0), Contains("(B, T, 3 C)"));
    REQUIRE_THROWS_WITH(self_attention(zeros({2, 4, 6}), 0, true, 1.0), "self_attention: n_head must be positive; got 0");
    REQUIRE_THROWS_WITH(self_attention(zeros({2, 4, 6}, DType::Int64), 1, true, 1.0),
                        Contains("expected a floating-point tensor"));
    REQUIRE_THROWS_WITH(self_attention_weights(zeros({2, 4, 5}), 1, true, 1.0), Contains("self_attention_weights:"));
    CHECK(self_attention(zeros({2, 0, 6}), 1, true, 1.0).shape() == Shape{2, 0, 2});  // no positions: empty
}

// ---- the layers ------------------------------------------------------------------------------------------------

TEST_CASE("Head: equals the notebook's version 4 with its own key, query and value layers", "[attention][layers]") {
    manual_seed(24);
    for (bool causal : {true, false}) {
        Head head(8, 4, causal);
        head.to(DType::Float64);
        Tensor x = randn({2, 6, 8}, DType::Float64).requires_grad_();
        Tensor w = randn({2, 6, 4}, DType::Float64);
        Tensor out = head(x);
        (out * w).sum().backward();
        const Tensor dx = x.grad().clone();
        std::vector<Tensor> dweights;
        for (Tensor& p : head.parameters()) dweights.push_back(p.grad().clone());
        head.zero_grad();
        x.zero_grad();
        Tensor wei = notebook_weights(head.query(x), head.key(x), causal, 0.5);  // head_size^-0.5
        Tensor reference = matmul(wei, head.value(x));
        (reference * w).sum().backward();
        INFO((causal ? "causal" : "not causal"));
        CHECK(allclose(out, reference, 1e-12, 1e-14));
        CHECK(allclose(head.attention(x), wei, 1e-12, 1e-14));
        CHECK(allclose(dx, x.grad(), 1e-12, 1e-14));
        for (size_t i = 0; i < dweights.size(); ++i) CHECK(allclose(dweights[i], head.parameters()[i].grad(), 1e-12, 1e-14));
    }
}

TEST_CASE("MultiHeadAttention: equals its heads in the notebook's spelling, joined, then projected",
          "[attention][layers]") {
    manual_seed(28);
    MultiHeadAttention mha(12, 3, 4);
    mha.to(DType::Float64);
    Tensor x = randn({2, 7, 12}, DType::Float64);
    std::vector<Tensor> outs, weights;
    for (Head& head : mha.heads) {
        weights.push_back(notebook_weights(head.query(x), head.key(x), true, 0.5));
        outs.push_back(matmul(weights.back(), head.value(x)));
    }
    CHECK(allclose(mha(x), mha.proj(cat(outs, -1)), 1e-12, 1e-14));
    Tensor all = mha.attention(x);  // (B, 3, T, T)
    REQUIRE(all.shape() == Shape{2, 3, 7, 7});
    for (int64_t h = 0; h < 3; ++h) CHECK(allclose(all.select(1, h), weights[h], 1e-12, 1e-14));
}
