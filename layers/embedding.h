// Embedding: a learned lookup table of row vectors, and the learned positional embedding built on it.
#pragma once
#include "layers/module.h"

namespace ag {

class Embedding : public Layer {
public:
    // weight (num, dim) drawn from N(0, 1) as torch.nn.Embedding does (the same draws after manual_seed).
    Embedding(int64_t num_embeddings, int64_t embedding_dim);

    // ids (any shape, int64 in [0, num)) -> ids.shape + [dim].
    Tensor forward(const Tensor& ids) const override;

    int64_t num_embeddings, embedding_dim;
    Tensor weight;  // (num, dim)
};

// One learned vector per position 0..block_size-1, added to token embeddings so attention can tell positions
// apart (attention itself has no notion of order).
class PositionalEmbedding : public Module {
public:
    PositionalEmbedding(int64_t block_size, int64_t embedding_dim);

    // The vectors of positions 0..T-1: (T, dim). Throws if T > block_size.
    Tensor forward(int64_t T) const;
    Tensor operator()(int64_t T) const { return forward(T); }

    int64_t block_size, embedding_dim;
    Tensor weight;  // (block_size, dim)
};

}  // namespace ag
