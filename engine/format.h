// Printing tensors exactly like PyTorch 1.13 does, so our output can be read beside PyTorch
// notebooks.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ag {

// How the values should be read: as floating-point numbers ("0.5000", "1.", "nan"),
// as integers ("42"), or as booleans ("True" / "False").
enum class ValueKind { Floating, Integer, Boolean };

// Formats a tensor like PyTorch's repr: "tensor([...]" + suffixes + ")", using PyTorch's
// default print options (precision 4, threshold 1000, edgeitems 3, linewidth 80, sci mode auto).
// values: every element in row-major order, as double; kind is Floating, or Boolean (0 or 1).
// suffixes: extra "key=value" parts such as "dtype=torch.float64" or "requires_grad=True", in
// order; the caller decides which apply. format_tensor itself adds "size=(0, 3)" for empty tensors
// with other than one dimension, as PyTorch does (before the caller's suffixes).
// Throws std::invalid_argument if values.size() does not match the shape.
std::string format_tensor(const std::vector<int64_t>& shape, const std::vector<double>& values,
                          ValueKind kind, const std::vector<std::string>& suffixes = {});
// The same for integers, printed exactly (every int64, INT64_MAX included).
std::string format_tensor(const std::vector<int64_t>& shape, const std::vector<int64_t>& values,
                          const std::vector<std::string>& suffixes = {});
// Both again, reading element i (row-major) through `value` instead of a vector: only the elements shown are read
// (at most about 2000 when the tensor is summarized), so a tensor of any size prints without a copy of it.
std::string format_elements(const std::vector<int64_t>& shape, const std::function<double(int64_t)>& value,
                            ValueKind kind, const std::vector<std::string>& suffixes = {});
std::string format_elements(const std::vector<int64_t>& shape, const std::function<int64_t(int64_t)>& value,
                            const std::vector<std::string>& suffixes = {});

}  // namespace ag
