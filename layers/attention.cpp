#include "layers/attention.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

namespace {

// kqv = x @ [Wk of every head; Wq of every head; Wv of every head]^T: (B, T, C) -> (B, T, 3 n hs), the layout
// self_attention reads. One product instead of 3 n narrow ones, forward and backward; the packed weight is a
// differentiable cat, so each head's own Linear weights get their gradients.
Tensor packed_projection(const Tensor& x, const std::vector<const Head*>& heads, const char* layer) {
    const int64_t C = heads.front()->key.in_features;
    if (x.dim() != 3 || x.size(2) != C)
        throw std::invalid_argument(std::string(layer) + ": input must be (B, T, C) with C = " + std::to_string(C) +
                                    "; got shape " + shape_str(x.shape()));
    std::vector<Tensor> weights;
    for (const Head* h : heads) weights.push_back(h->key.weight);
    for (const Head* h : heads) weights.push_back(h->query.weight);
    for (const Head* h : heads) weights.push_back(h->value.weight);
    const Tensor w_kqv = cat(weights, 0).set_name("w_kqv");           // (3 n hs, C)
    return matmul(x, w_kqv.transpose(0, 1)).set_name("kqv");          // (B, T, 3 n hs)
}

double scale_for(int64_t head_size) { return std::pow(static_cast<double>(head_size), -0.5); }

}  // namespace

Head::Head(int64_t C, int64_t head_size, bool causal)
    : head_size(head_size), causal(causal), key(C, head_size, false), query(C, head_size, false),
      value(C, head_size, false) {
    if (head_size < 1) throw std::invalid_argument("Head: head_size must be positive; got " + std::to_string(head_size));
    register_module("key", key);
    register_module("query", query);
    register_module("value", value);
}

Tensor Head::forward(const Tensor& x) const {
    const Tensor kqv = packed_projection(x, {this}, "Head");
    return self_attention(kqv, 1, causal, scale_for(head_size)).set_name("out");  // (B, T, head_size)
}

Tensor Head::attention(const Tensor& x) const {
    NoGradGuard no_grad;
    const Tensor kqv = packed_projection(x, {this}, "Head");
    return self_attention_weights(kqv, 1, causal, scale_for(head_size)).select(1, 0);  // (B, T, T)
}

namespace {

std::vector<std::unique_ptr<Head>> make_heads(int64_t C, int64_t num_heads, int64_t head_size, bool causal) {
    if (num_heads < 1)
        throw std::invalid_argument("MultiHeadAttention: need at least one head; got " + std::to_string(num_heads));
    std::vector<std::unique_ptr<Head>> heads;
    for (int64_t h = 0; h < num_heads; ++h) heads.push_back(std::make_unique<Head>(C, head_size, causal));
    return heads;
}

}  // namespace

// Members are built in declaration order, heads before proj, as in the lecture's module: the draws match.
MultiHeadAttention::MultiHeadAttention(int64_t C, int64_t num_heads, int64_t head_size, bool causal)
    : head_size(head_size), causal(causal), heads(make_heads(C, num_heads, head_size, causal)),
      proj(num_heads * head_size, C) {
    for (int64_t h = 0; h < num_heads; ++h) register_module("heads." + std::to_string(h), *heads[h]);
    register_module("proj", proj);
}

Tensor MultiHeadAttention::projection(const Tensor& x) const {
    std::vector<const Head*> all;
    for (const auto& h : heads) all.push_back(h.get());
    return packed_projection(x, all, "MultiHeadAttention");
}

Tensor MultiHeadAttention::forward(const Tensor& x) const {
    const int64_t n = static_cast<int64_t>(heads.size());
    const Tensor out = self_attention(projection(x), n, causal, scale_for(head_size)).set_name("heads");  // (B, T, n hs)
    return proj(out);  // (B, T, C)
}

Tensor MultiHeadAttention::attention(const Tensor& x) const {
    NoGradGuard no_grad;
    return self_attention_weights(projection(x), static_cast<int64_t>(heads.size()), causal, scale_for(head_size));
}

}  // namespace ag
