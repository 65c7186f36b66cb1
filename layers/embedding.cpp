#include "layers/embedding.h"

#include <stdexcept>

#include "engine/ops.h"

namespace ag {

Embedding::Embedding(int64_t num, int64_t dim) : num_embeddings(num), embedding_dim(dim) {
    if (num < 0 || dim < 0)
        throw std::invalid_argument("Embedding: sizes must be non-negative; got num=" + std::to_string(num) +
                                    ", dim=" + std::to_string(dim));
    weight = randn({num, dim});
    register_parameter("weight", weight);
}

Tensor Embedding::forward(const Tensor& ids) const { return embedding(weight, ids); }

PositionalEmbedding::PositionalEmbedding(int64_t block, int64_t dim) : block_size(block), embedding_dim(dim) {
    if (block < 0 || dim < 0)
        throw std::invalid_argument("PositionalEmbedding: sizes must be non-negative; got block_size=" +
                                    std::to_string(block) + ", dim=" + std::to_string(dim));
    weight = randn({block, dim});
    register_parameter("weight", weight);
}

Tensor PositionalEmbedding::forward(int64_t T) const {
    if (T < 0 || T > block_size)
        throw std::invalid_argument("PositionalEmbedding: sequence length must be in [0, block_size = " +
                                    std::to_string(block_size) + "]; got " + std::to_string(T));
    return weight.slice(0, 0, T);  // rows 0..T-1, a view; the gradient flows back into those rows
}

}  // namespace ag
