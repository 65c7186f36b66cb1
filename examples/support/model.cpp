#include "examples/support/model.h"

#include <stdexcept>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "layers/loss.h"

namespace trainer {

// Members are built in declaration order: the embeddings, the head(s), then the readout.
AttentionModel::AttentionModel(const ModelConfig& c)
    : config(c),
      tok_emb(c.V, c.C),
      pos_emb(c.T, c.C),
      head(c.heads == 1 ? std::make_unique<ag::Head>(c.C, c.head_size) : nullptr),
      multi_head(c.heads > 1 ? std::make_unique<ag::MultiHeadAttention>(c.C, c.heads, c.head_size) : nullptr),
      readout(c.heads == 1 ? c.head_size : c.C, c.V) {
    if (c.heads < 1)
        throw std::invalid_argument("AttentionModel: need at least one head; got " + std::to_string(c.heads));
    register_module("tok_emb", tok_emb);
    register_module("pos_emb", pos_emb);
    if (head) register_module("head", *head);
    if (multi_head) register_module("attn", *multi_head);
    register_module("readout", readout);
}

ag::Tensor AttentionModel::forward(const ag::Tensor& ids) const {
    const int64_t T = ids.size(1);
    ag::Tensor x = tok_emb(ids) + pos_emb(T);         // (B, T, C) + (T, C) -> (B, T, C)
    ag::Tensor h = head ? (*head)(x) : (*multi_head)(x);  // (B, T, head_size) or (B, T, C)
    return readout(h);                                // (B, T, V)
}

ag::Tensor AttentionModel::attention(const ag::Tensor& ids) const {
    ag::NoGradGuard no_grad;
    const ag::Tensor x = tok_emb(ids) + pos_emb(ids.size(1));
    if (head) return head->attention(x);      // (B, T, T)
    return multi_head->attention(x).mean(1);  // (B, heads, T, T) -> (B, T, T)
}

ag::Tensor scored_loss(const ag::Tensor& logits, const Batch& batch) {
    const int64_t V = logits.size(-1);
    const ag::Tensor rows = scored_rows(batch);                                   // (N) with N scored positions
    ag::Tensor scored_logits = ag::index_select(logits.reshape({-1, V}), 0, rows);  // (B*T, V) -> (N, V)
    ag::Tensor scored_targets = ag::index_select(batch.targets.reshape({-1}), 0, rows);  // (B*T) -> (N)
    return ag::cross_entropy(scored_logits, scored_targets);
}

Accuracy accuracy(const ag::Tensor& logits, const Batch& batch) {
    const ag::Tensor guess = logits.detach().argmax(-1).contiguous();  // (B, T) int64
    const ag::Tensor targets = batch.targets.contiguous(), mask = batch.scored.contiguous();
    const int64_t B = guess.size(0), T = guess.size(1);
    const int64_t *g = guess.data<int64_t>(), *y = targets.data<int64_t>();
    const bool* scored = mask.data<bool>();
    Accuracy acc;
    acc.sequences = B;
    for (int64_t b = 0; b < B; ++b) {
        bool all_right = true;
        for (int64_t t = b * T; t < (b + 1) * T; ++t) {
            if (!scored[t]) continue;
            ++acc.positions;
            if (g[t] == y[t]) ++acc.positions_right;
            else all_right = false;
        }
        if (all_right) ++acc.sequences_right;
    }
    return acc;
}

}  // namespace trainer
