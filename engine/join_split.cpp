// Joining and splitting along a dim: stack, split, chunk, and the 2-D transpose t(). Each is a composition of
// views (unsqueeze, slice, transpose) and cat, so its gradient comes from theirs.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/ops.h"

namespace ag {

// stack([a0, .., an-1], dim) = cat([a0.unsqueeze(dim), ..], dim): a new dim of size n at `dim`.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
    if (tensors.empty()) throw std::invalid_argument("stack: needs at least one tensor; got none");
    const Tensor& first = tensors.front();
    dim = normalize_dim(dim, first.dim() + 1, "stack");
    std::vector<Tensor> rows;
    for (const Tensor& t : tensors) {
        if (t.shape() != first.shape())
            throw std::invalid_argument("stack: tensors must all have the same shape; got " + shape_str(first.shape()) +
                                        " and " + shape_str(t.shape()));
        rows.push_back(unsqueeze(t, dim));
    }
    return cat(rows, dim);  // cat checks the dtypes
}

// Pieces of split_size along dim (the last one smaller), as views of t.
std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim) {
    if (t.dim() == 0) throw std::invalid_argument("split: a 0-d tensor cannot be split; got shape []");
    dim = normalize_dim(dim, t.dim(), "split");
    const int64_t n = t.shape()[dim];
    if (split_size < 0 || (split_size == 0 && n != 0))
        throw std::invalid_argument("split: split_size must be positive (or 0 for an empty dim); got " +
                                    std::to_string(split_size) + " for size " + std::to_string(n));
    if (n == 0) return {t};  // torch: one empty piece
    std::vector<Tensor> pieces;
    for (int64_t start = 0; start < n; start += split_size)
        pieces.push_back(t.slice(dim, start, start + std::min(split_size, n - start)));
    return pieces;
}

// torch's rule: pieces of ceil(n / chunks) each, so there may be fewer than `chunks` pieces.
std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim) {
    if (t.dim() == 0) throw std::invalid_argument("chunk: a 0-d tensor cannot be chunked; got shape []");
    if (chunks <= 0) throw std::invalid_argument("chunk: chunks must be positive; got " + std::to_string(chunks));
    dim = normalize_dim(dim, t.dim(), "chunk");
    const int64_t n = t.shape()[dim];
    return split(t, n == 0 ? 0 : (n + chunks - 1) / chunks, dim);
}

// t(a): a 2-D tensor transposed; 0-D and 1-D ones returned as they are.
Tensor t(const Tensor& a) {
    if (a.dim() > 2)
        throw std::invalid_argument("t: expects a tensor with <= 2 dims; got shape " + shape_str(a.shape()));
    return a.dim() < 2 ? a : transpose(a, 0, 1);
}

}  // namespace ag
