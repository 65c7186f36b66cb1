// Self-attention, as in the notebook's version 4.
//
//   k = key(x); q = query(x)                        (B, T, head_size) each
//   wei = q @ k^T * head_size^-0.5                  (B, T, T): how much token t attends to token s
//   wei = wei.masked_fill(tril == 0, -inf)          the future is not visible (causal heads only)
//   wei = softmax(wei, -1)                          each row sums to 1
//   out = wei @ value(x)                            (B, T, head_size): a weighted average of the values
// The scale keeps the logits at unit variance when q and k are, so softmax stays diffuse instead of one-hot.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "layers/linear.h"

namespace ag {

// softmax over the last dim of attention logits (..., T, T), with masked positions at probability 0:
// causal hides the future (fused: the masked entries are never computed); an explicit bool mask (broadcast to the
// logits' shape) hides the positions where it is true; with neither it is a plain softmax.
class MaskedSoftmax : public Module {
public:
    explicit MaskedSoftmax(bool causal = true) : causal(causal) {}
    Tensor forward(const Tensor& logits, const Tensor& mask = Tensor()) const;
    Tensor operator()(const Tensor& logits, const Tensor& mask = Tensor()) const { return forward(logits, mask); }
    bool causal;
};

class Head : public Module {
public:
    // key, query and value are Linear(C, head_size, bias = false), created in that order (PyTorch's draws).
    Head(int64_t C, int64_t head_size, bool causal = true);

    // x (B, T, C) -> (B, T, head_size). Keeps the attention weights (B, T, T) for attention().
    Tensor forward(const Tensor& x);
    Tensor operator()(const Tensor& x) { return forward(x); }
    // The softmaxed weights (B, T, T) of the last forward, detached: row t says how token t spread its attention.
    // In flash mode they are computed here, on first request, from the last forward's queries and keys.
    // With forwards running on several threads at once, "the last" is whichever finished last.
    Tensor attention() const;

    int64_t head_size;
    bool causal;
    // true: key, query and value as one product x @ [Wk; Wq; Wv]^T, and the fused causal softmax; false: three
    // Linear calls, then masked_fill(tril == 0, -inf) and softmax, as the notebook spells it. Both give the same
    // values and gradients (to float rounding) and the same parameters.
    bool fused = true;
    // true (causal heads only): one fused op for scores, mask, softmax and @ v that never materialises the (T, T)
    // weights and computes only their lower triangle (ag::causal_attention). Faster and leaner at large T.
    bool flash = false;
    Linear key, query, value;

private:
    // forward may run on several threads at once (a frozen model serving requests under NoGradGuard): the one
    // piece of state it writes, the last attention, is guarded.
    mutable std::mutex last_mutex_;
    mutable Tensor attention_;
    Tensor last_q_, last_k_;  // kept in flash mode, to compute attention() on request
};

// n_heads Heads side by side on the same input, their outputs joined along channels, then a Linear projection
// back to C: (B, T, C) -> (B, T, C). Names: "heads.0.key.weight", ..., "proj.weight", "proj.bias".
class MultiHeadAttention : public Module {
public:
    MultiHeadAttention(int64_t C, int64_t n_heads, int64_t head_size, bool causal = true);

    Tensor forward(const Tensor& x);
    Tensor operator()(const Tensor& x) { return forward(x); }

    std::vector<std::unique_ptr<Head>> heads;
    Linear proj;
};

}  // namespace ag
