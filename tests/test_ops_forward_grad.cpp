// Known-answer gradient tests in float32: for a handful of composite expressions, the loss and every input's .grad
// must match what PyTorch 1.13 computes in float32. The inputs and answers are in tests/fixtures/op_fixtures.inc
// (namespace fxg), written by tests/fixtures/make_op_fixtures.py next to the same expressions. The float64 gradcheck
// tests cover each op's backward against finite differences; these cover whole expressions in the working dtype.
// Each loss is reduced with random weights rather than a plain sum, so that errors cannot cancel.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "engine/ops.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/op_fixtures.inc"
}  // namespace fixture

using ag::DType;
using ag::Slice;
using ag::Tensor;
using fixture::check_close;
using fixture::make;
namespace fxg = fixture::fxg;

namespace {

// A float32 leaf that requires grad, from a fixture input.
Tensor leaf(const fixture::Array& a) { return make(a).requires_grad_(); }

Tensor int64(const fixture::Array& a) { return make(a, DType::Int64); }

// wei = softmax(masked_fill(q @ k^T * hs^-0.5, tril(ones(T, T)) == 0, -inf)), as in the notebooks; hs = 3, T = 4.
Tensor attention_weights(const Tensor& q, const Tensor& k) {
    Tensor wei = ag::matmul(q, k.transpose(-2, -1)) * std::pow(3.0, -0.5);
    return wei.masked_fill(ag::tril(ag::ones({4, 4})) == 0.0, -fixture::kInf).softmax(-1);
}

}  // namespace

TEST_CASE("gradients: an attention head, (softmax(masked(q @ k^T * scale)) @ v * w).sum(), matches PyTorch") {
    Tensor q = leaf(fxg::att_q), k = leaf(fxg::att_k), v = leaf(fxg::att_v);
    Tensor loss = (ag::matmul(attention_weights(q, k), v) * make(fxg::att_w)).sum();
    check_close(loss, fxg::attention_loss);
    loss.backward();
    check_close(q.grad(), fxg::attention_datt_q);
    check_close(k.grad(), fxg::attention_datt_k);
    check_close(v.grad(), fxg::attention_datt_v);
}

TEST_CASE("gradients: self_attention gives the attention head the same loss and gradients as PyTorch",
          "[attention]") {
    Tensor q = leaf(fxg::att_q), k = leaf(fxg::att_k), v = leaf(fxg::att_v);
    Tensor kqv = ag::cat({k, q, v}, -1);  // the packed layout: keys, queries, values side by side
    Tensor loss = (ag::self_attention(kqv, 1, /*causal=*/true, std::pow(3.0, -0.5)) * make(fxg::att_w)).sum();
    check_close(loss, fxg::attention_loss);
    loss.backward();
    check_close(q.grad(), fxg::attention_datt_q);
    check_close(k.grad(), fxg::attention_datt_k);
    check_close(v.grad(), fxg::attention_datt_v);
}

TEST_CASE("gradients: cross_entropy(x @ W + b, targets) matches PyTorch for x, W and the broadcast bias b") {
    Tensor x = leaf(fxg::lin_x), W = leaf(fxg::lin_W), b = leaf(fxg::lin_b);
    Tensor loss = ag::cross_entropy(ag::matmul(x, W) + b, int64(fxg::lin_t));
    check_close(loss, fxg::linear_ce_loss);
    loss.backward();
    check_close(x.grad(), fxg::linear_ce_dlin_x);
    check_close(W.grad(), fxg::linear_ce_dlin_W);
    check_close(b.grad(), fxg::linear_ce_dlin_b);
}

TEST_CASE("gradients: the mean of a (2,3,4) * (4) * (3,1) product reduces to each input's shape like PyTorch") {
    Tensor a = leaf(fxg::bc_a), b = leaf(fxg::bc_b), c = leaf(fxg::bc_c);
    Tensor loss = (a * b * c * make(fxg::bc_w)).mean();
    check_close(loss, fxg::broadcast_mean_loss);
    loss.backward();
    check_close(a.grad(), fxg::broadcast_mean_dbc_a);
    check_close(b.grad(), fxg::broadcast_mean_dbc_b);
    check_close(c.grad(), fxg::broadcast_mean_dbc_c);
}

TEST_CASE("gradients: log_softmax then index_select of a repeated column matches PyTorch") {
    Tensor x = leaf(fxg::ls_x);
    Tensor loss = (ag::index_select(x.log_softmax(1), 1, int64(fxg::ls_idx)) * make(fxg::ls_w)).sum();
    check_close(loss, fxg::log_softmax_pick_loss);
    loss.backward();
    check_close(x.grad(), fxg::log_softmax_pick_dls_x);
}

TEST_CASE("gradients: (T,T) @ (B,T,C) sums the gradient of the (T,T) operand over the batch like PyTorch") {
    Tensor wei = leaf(fxg::bm_wei), x = leaf(fxg::bm_x);
    Tensor loss = (ag::matmul(wei, x) * make(fxg::bm_w)).sum();
    check_close(loss, fxg::broadcast_matmul_loss);
    loss.backward();
    check_close(wei.grad(), fxg::broadcast_matmul_dbm_wei);
    check_close(x.grad(), fxg::broadcast_matmul_dbm_x);
}

TEST_CASE("gradients: a bigram model, cross_entropy((embedding(ids) @ W).view(B*T, V)), matches PyTorch") {
    Tensor emb = leaf(fxg::lm_emb), W = leaf(fxg::lm_W);
    Tensor logits = ag::matmul(ag::embedding(emb, int64(fxg::lm_ids)), W);  // (B, T, C) @ (C, V)
    Tensor loss = ag::cross_entropy(logits.view({8, 6}), int64(fxg::lm_t));
    check_close(loss, fxg::embedding_ce_loss);
    loss.backward();
    check_close(emb.grad(), fxg::embedding_ce_dlm_emb);  // ids repeat: their rows' gradients add up
    check_close(W.grad(), fxg::embedding_ce_dlm_W);
}

TEST_CASE("gradients: an element-wise chain that uses x and p several times accumulates like PyTorch") {
    Tensor x = leaf(fxg::ew_x), p = leaf(fxg::ew_p);
    Tensor y = x.tanh() * x + (x * 0.5).exp() + x.relu() - p.log() + p.sqrt() / p.pow(1.5) + x / p;
    Tensor loss = (y * make(fxg::ew_w)).sum();
    check_close(loss, fxg::elementwise_chain_loss);
    loss.backward();
    check_close(x.grad(), fxg::elementwise_chain_dew_x);
    check_close(p.grad(), fxg::elementwise_chain_dew_p);
}

TEST_CASE("gradients: max, mean and sum over dims, with and without keepdim, match PyTorch") {
    Tensor x = leaf(fxg::rd_x);
    Tensor spread = x.max(1, true) - x.mean(1, true);  // (3, 1)
    Tensor loss = (spread * make(fxg::rd_w1)).sum() + (x.sum(0) * make(fxg::rd_w2)).sum();
    check_close(loss, fxg::reductions_loss);
    loss.backward();
    check_close(x.grad(), fxg::reductions_drd_x);
}

TEST_CASE("gradients: cat, transpose, stepped slices, reshape, unsqueeze and expand route gradients like PyTorch") {
    Tensor a = leaf(fxg::vw_a), b = leaf(fxg::vw_b);
    Tensor z = ag::cat({a.transpose(0, 1), b}, 0);  // (6, 3)
    Tensor picked = z.index({Slice{0, INT64_MAX, 2}, Slice{1}});  // z[::2, 1:]
    Tensor spread = z.reshape({3, 6}).unsqueeze(0).expand({2, 3, 6});
    Tensor loss = (picked * make(fxg::vw_w1)).sum() + (spread * make(fxg::vw_w2)).sum();
    check_close(loss, fxg::views_loss);
    loss.backward();
    check_close(a.grad(), fxg::views_dvw_a);
    check_close(b.grad(), fxg::views_dvw_b);
}
