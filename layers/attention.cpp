#include "layers/attention.h"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

Tensor MaskedSoftmax::forward(const Tensor& logits, const Tensor& mask) const {
    if (mask.defined()) return masked_softmax(logits, mask, -1);
    return causal ? causal_softmax(logits) : softmax(logits, -1);
}

Head::Head(int64_t C, int64_t head_size, bool causal)
    : head_size(head_size), causal(causal), key(C, head_size, false), query(C, head_size, false),
      value(C, head_size, false) {
    register_module("key", key);
    register_module("query", query);
    register_module("value", value);
}

Tensor Head::forward(const Tensor& x) {
    if (x.dim() != 3 || x.size(2) != key.in_features)
        throw std::invalid_argument("Head: input must be (B, T, C) with C = " + std::to_string(key.in_features) +
                                    "; got shape " + shape_str(x.shape()));
    const int64_t T = x.size(1), hs = head_size;
    const double scale = std::pow(static_cast<double>(hs), -0.5);
    // The names show in print_graph and to_dot.
    Tensor kqv, k, q, v;
    if (fused) {
        // The three projections as one product, x @ [Wk; Wq; Wv]^T (B, T, 3 hs): one large gemm instead of three
        // narrow ones, forward and backward. k, q and v are views of its columns; their gradients add into them.
        Tensor w_kqv = cat({key.weight, query.weight, value.weight}, 0).set_name("w_kqv");  // (3 hs, C)
        kqv = matmul(x, w_kqv.transpose(0, 1)).set_name("kqv");                               // (B, T, 3 hs)
        k = kqv.slice(-1, 0, hs);
        q = kqv.slice(-1, hs, 2 * hs);
        v = kqv.slice(-1, 2 * hs, 3 * hs);
    } else {
        k = key(x);                                            // (B, T, hs)
        q = query(x);                                          // (B, T, hs)
        v = value(x);                                          // (B, T, hs)
    }
    k.set_name("k");
    q.set_name("q");
    v.set_name("v");
    if (causal && flash) {
        {
            std::lock_guard<std::mutex> lock(last_mutex_);
            last_q_ = q.detach();
            last_k_ = k.detach();
            attention_ = Tensor();
        }
        // The packed op reads k, q and v inside kqv and hands kqv a single gradient.
        Tensor out = fused ? causal_self_attention(kqv, scale) : causal_attention(q, k, v, scale);
        return out.set_name("out");  // (B, T, hs)
    }
    Tensor wei = matmul(q, k.transpose(-2, -1)) * scale;      // (B, T, T)
    if (!causal) {
        wei = softmax(wei, -1);
    } else if (fused) {
        wei = causal_softmax(wei);
    } else {
        Tensor tril = ag::tril(ones({T, T}, x.dtype()));
        wei = softmax(wei.masked_fill(tril == 0, -std::numeric_limits<double>::infinity()), -1);
    }
    wei.set_name("wei");
    {
        std::lock_guard<std::mutex> lock(last_mutex_);
        attention_ = wei.detach();
        last_q_ = last_k_ = Tensor();
    }
    return matmul(wei, v).set_name("out");                     // (B, T, hs)
}

Tensor Head::attention() const {
    std::lock_guard<std::mutex> lock(last_mutex_);
    if (!attention_.defined() && last_q_.defined()) {
        NoGradGuard no_grad;
        attention_ = causal_softmax(matmul(last_q_, last_k_.transpose(-2, -1)) *
                                    std::pow(static_cast<double>(head_size), -0.5));
    }
    return attention_;
}

namespace {

std::vector<std::unique_ptr<Head>> make_heads(int64_t C, int64_t n_heads, int64_t head_size, bool causal) {
    if (n_heads < 1)
        throw std::invalid_argument("MultiHeadAttention: need at least one head; got " + std::to_string(n_heads));
    std::vector<std::unique_ptr<Head>> heads;
    for (int64_t h = 0; h < n_heads; ++h) heads.push_back(std::make_unique<Head>(C, head_size, causal));
    return heads;
}

}  // namespace

// Members are built in declaration order, heads before proj, as in the lecture's module: the draws match.
MultiHeadAttention::MultiHeadAttention(int64_t C, int64_t n_heads, int64_t head_size, bool causal)
    : heads(make_heads(C, n_heads, head_size, causal)), proj(n_heads * head_size, C) {
    for (int64_t h = 0; h < n_heads; ++h) register_module("heads." + std::to_string(h), *heads[h]);
    register_module("proj", proj);
}

Tensor MultiHeadAttention::forward(const Tensor& x) {
    std::vector<Tensor> outs;
    for (auto& head : heads) outs.push_back((*head)(x));  // each (B, T, hs)
    return proj(cat(outs, -1));                           // (B, T, n_heads * hs) -> (B, T, C)
}

}  // namespace ag
