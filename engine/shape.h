// Shapes, strides and the broadcasting rule shared by every op.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ag {

using Shape = std::vector<int64_t>;

// "[4, 8, 2]": how shapes appear in every error message.
std::string shape_str(const Shape& shape);

// Product of the sizes (1 for a 0-d shape).
int64_t numel_of(const Shape& shape);

// Row-major strides, in elements: shape [4, 8, 2] -> strides [16, 2, 1].
Shape contiguous_strides(const Shape& shape);

// Maps a possibly negative dim (-1 is the last) into [0, ndim); throws naming `op` if out of range.
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

// NumPy/PyTorch broadcasting: align shapes on the right; each pair of sizes must be equal or one of them 1.
//   [8, 8] and [4, 8, 8] -> [4, 8, 8]; throws "op: shapes cannot be broadcast; got [..] and [..]".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

// Strides that read a tensor of (shape, strides) as if it had the larger shape `to`: broadcast dims get stride 0.
Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& to);

}  // namespace ag
