// Self-attention, as in the notebook's version 4 and the lecture's Head and MultiHeadAttention.
//
//   k = key(x); q = query(x); v = value(x)          (B, T, head_size) each
//   wei = q @ k^T * head_size^-0.5                  (B, T, T): how much token t attends to token s
//   wei = wei.masked_fill(tril == 0, -inf)          the future is not visible (causal heads only)
//   wei = softmax(wei, -1)                          each row sums to 1
//   out = wei @ v                                   (B, T, head_size): a weighted average of the values
// The scale keeps the logits at unit variance when q and k are, so softmax stays diffuse instead of one-hot.
//
// Both layers compute this with one product and one op: the three projections of every head as one matmul,
// x @ [Wk; Wq; Wv]^T, then the fused ag::self_attention over all heads at once (engine/ops.h), which equals the
// lines above to rounding (tests/test_attention.cpp and examples/xbow.cpp show both spellings side by side).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "layers/container.h"
#include "layers/linear.h"

namespace ag {

class Head : public Layer {
public:
    // key, query and value are Linear(C, head_size, bias = false), created in that order (PyTorch's draws).
    // dropout: the lecture's dropout on the softmaxed weights, in training mode only (0: none).
    // scale multiplies q @ k^T; unset, it is head_size^-0.5 (the lecture's), and 1.0 is the notebook's unscaled
    // version 4 spelling. It follows dropout, as in torch::nn::functional::scaled_dot_product_attention.
    // Throws for head_size < 1, dropout outside [0, 1) and a scale that is not finite and positive.
    Head(int64_t C, int64_t head_size, bool causal = true, double dropout = 0,
         std::optional<double> scale = std::nullopt);

    // x (B, T, C) -> (B, T, head_size).
    Tensor forward(const Tensor& x) const override;
    // The softmaxed weights (B, T, T) for input x, by the same kernel as forward (no graph): row t says how token t
    // spreads its attention over the tokens it sees.
    Tensor attention(const Tensor& x) const;

    int64_t head_size;
    bool causal;
    double dropout;
    double scale;  // the factor on q @ k^T
    Linear key, query, value;
};

// num_heads Heads side by side on the same input, their outputs joined along channels, then a Linear projection
// back to C, then dropout: (B, T, C) -> (B, T, C). Names as in the lecture: "heads.0.key.weight", ...,
// "proj.weight", "proj.bias". All heads run in one fused op; each head's parameters stay its own
// (heads[h].key.weight, ...). dropout applies to every head's weights and to the projection's output, in training
// mode, drawn in the lecture's order (head 0's weights, head 1's, ..., then the projection's).
class MultiHeadAttention : public Layer {
public:
    // scale: every head's factor on q @ k^T, as Head's (unset: head_size^-0.5); refused as Head refuses it.
    MultiHeadAttention(int64_t C, int64_t num_heads, int64_t head_size, bool causal = true, double dropout = 0,
                       std::optional<double> scale = std::nullopt);

    Tensor forward(const Tensor& x) const override;
    // The weights (B, num_heads, T, T) of every head for input x, by the same kernel as forward.
    Tensor attention(const Tensor& x) const;

    int64_t head_size;
    bool causal;
    double dropout;
    double scale;  // the factor on q @ k^T of every head
    ModuleList<Head> heads;
    Linear proj;

private:
    Tensor projection(const Tensor& x) const;  // every head's keys, queries and values: (B, T, 3 num_heads head_size)
};

}  // namespace ag
