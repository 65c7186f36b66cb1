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
    return linear(x, w_kqv).set_name("kqv");                           // (B, T, 3 n hs)
}

double scale_for(int64_t head_size) { return std::pow(static_cast<double>(head_size), -0.5); }

void check_dropout(double p, const char* layer) {
    if (!(p >= 0 && p < 1))
        throw std::invalid_argument(std::string(layer) + ": dropout must be in [0, 1); got " + number_str(p));
}

void check_scale(double scale, const char* layer) {
    if (!(std::isfinite(scale) && scale > 0))
        throw std::invalid_argument(std::string(layer) + ": scale must be finite and positive; got " + number_str(scale));
}

}  // namespace

Head::Head(int64_t C, int64_t head_size, bool causal, double dropout, std::optional<double> scale)
    : head_size(head_size), causal(causal), dropout(dropout), scale(scale.value_or(scale_for(head_size))),
      key(C, head_size, false), query(C, head_size, false), value(C, head_size, false) {
    if (head_size < 1) throw std::invalid_argument("Head: head_size must be positive; got " + std::to_string(head_size));
    check_dropout(dropout, "Head");
    check_scale(this->scale, "Head");
    register_module("key", key);
    register_module("query", query);
    register_module("value", value);
}

Tensor Head::forward(const Tensor& x) const {
    const Tensor kqv = packed_projection(x, {this}, "Head");
    const double p = is_training() ? dropout : 0;
    return self_attention(kqv, 1, causal, scale, p).set_name("out");  // (B, T, head_size)
}

Tensor Head::attention(const Tensor& x) const {
    NoGradGuard no_grad;
    const Tensor kqv = packed_projection(x, {this}, "Head");
    return self_attention_weights(kqv, 1, causal, scale).select(1, 0);  // (B, T, T)
}

namespace {

// The arguments are checked before the heads are built (the heads come first, before proj, as the lecture's
// module builds them, so the draws match).
int64_t checked_heads(int64_t num_heads, double dropout, double scale) {
    if (num_heads < 1)
        throw std::invalid_argument("MultiHeadAttention: need at least one head; got " + std::to_string(num_heads));
    check_dropout(dropout, "MultiHeadAttention");
    check_scale(scale, "MultiHeadAttention");
    return num_heads;
}

}  // namespace

MultiHeadAttention::MultiHeadAttention(int64_t C, int64_t num_heads, int64_t head_size, bool causal, double dropout,
                                       std::optional<double> scale)
    : head_size(head_size), causal(causal), dropout(dropout), scale(scale.value_or(scale_for(head_size))),
      heads(checked_heads(num_heads, dropout, this->scale), C, head_size, causal, dropout, scale),
      proj(num_heads * head_size, C) {
    register_module("heads", heads);
    register_module("proj", proj);
}

Tensor MultiHeadAttention::projection(const Tensor& x) const {
    std::vector<const Head*> all;
    for (const Head& h : heads) all.push_back(&h);
    return packed_projection(x, all, "MultiHeadAttention");
}

Tensor MultiHeadAttention::forward(const Tensor& x) const {
    const double p = is_training() ? dropout : 0;
    const Tensor out = self_attention(projection(x), heads.size(), causal, scale, p).set_name("heads");
    return ag::dropout(proj(out), p, is_training());  // (B, T, n hs) -> (B, T, C)
}

Tensor MultiHeadAttention::attention(const Tensor& x) const {
    NoGradGuard no_grad;
    return self_attention_weights(projection(x), heads.size(), causal, scale);
}

}  // namespace ag
