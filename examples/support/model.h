// The model every task trains: one causal self-attention layer between an embedding and a linear readout,
// and how its predictions are scored.
//
//   x      = tok_emb(ids) + pos_emb(T)      (B, T, C)   what each token is, plus where it is
//   h      = head(x)                        (B, T, head_size)   a weighted average of values of positions <= t
//   logits = readout(h)                     (B, T, V)   a linear guess of the answer at each position
// There is no residual path: the answer at t can only come from what the head gathers, so the attention
// pattern shows exactly where the model looks. With heads > 1 the head is a MultiHeadAttention (each head of
// head_size, joined and projected back to C) and the readout reads C channels.
#pragma once
#include <cstdint>
#include <memory>

#include "examples/support/tasks.h"
#include "layers/layers.h"

namespace trainer {

struct ModelConfig {
    int64_t V = 0, T = 0;     // vocabulary size and sequence length (the task's)
    int64_t C = 32;           // embedding width
    int64_t head_size = 32;   // width of each head's queries, keys and values
    int64_t heads = 1;        // 1: a single Head; more: MultiHeadAttention
};

class AttentionModel : public ag::Module {
public:
    // Parameters are drawn from the default generator (call ag::manual_seed first for a reproducible model).
    explicit AttentionModel(const ModelConfig& config);

    // ids (B, T) int64 -> logits (B, T, V).
    ag::Tensor forward(const ag::Tensor& ids) const;
    ag::Tensor operator()(const ag::Tensor& ids) const { return forward(ids); }
    // The attention weights (B, T, T) for ids; with several heads, their mean.
    ag::Tensor attention(const ag::Tensor& ids) const;

    ModelConfig config;
    ag::Embedding tok_emb;
    ag::PositionalEmbedding pos_emb;
    std::unique_ptr<ag::Head> head;                     // when config.heads == 1
    std::unique_ptr<ag::MultiHeadAttention> multi_head;  // when config.heads > 1
    ag::Linear readout;
};

// Mean cross-entropy over the scored positions only. The engine's cross_entropy has no ignore_index, and zeroing
// the unscored terms would still count them in the mean (and change the loss's scale with the task); so the
// (B*T, V) logits and the (B*T) targets are cut down to the scored rows with index_select before the loss.
ag::Tensor scored_loss(const ag::Tensor& logits, const Batch& batch);

struct Accuracy {
    int64_t positions = 0, positions_right = 0;  // scored positions, and how many the argmax got right
    int64_t sequences = 0, sequences_right = 0;  // sequences, and how many had every scored position right
    double position_rate() const { return positions ? double(positions_right) / double(positions) : 0.0; }
    double sequence_rate() const { return sequences ? double(sequences_right) / double(sequences) : 0.0; }
};

// Scores the argmax of logits (B, T, V) against the batch.
Accuracy accuracy(const ag::Tensor& logits, const Batch& batch);

}  // namespace trainer
