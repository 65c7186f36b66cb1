// Internal: the two loops every element-wise op of elementwise.cpp and elementwise_more.cpp runs its forward (and
// often its backward) through. Broadcasting is handled here once: the kernels read a broadcast operand with stride
// 0, and accumulate_grad sums a gradient of the broadcast shape back to each input's shape.
#pragma once
#include <stdexcept>
#include <string>

#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

inline void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
    if (a.dtype() != b.dtype())
        throw std::invalid_argument(std::string(op) + ": both tensors must have the same dtype; got " +
                                    dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
}

// out = f(a, b) over the broadcast shape of a and b (float dtypes).
template <typename F>
Tensor binary(const Tensor& a, const Tensor& b, const char* op, F f) {
    check_same_dtype(a, b, op);
    const bool same = a.shape() == b.shape();  // the common case needs no broadcast shape
    Tensor out = empty(same ? a.shape() : broadcast_shapes(a.shape(), b.shape(), op), a.dtype());
    dispatch_floating(a.dtype(), op, [&]<typename Scalar>() { kernels::zip<Scalar, Scalar>(out, a, b, f); });
    return out;
}

// out = f(a) (float dtypes).
template <typename F>
Tensor unary(const Tensor& a, const char* op, F f) {
    Tensor out = empty(a.shape(), a.dtype());
    dispatch_floating(a.dtype(), op, [&]<typename Scalar>() { kernels::map<Scalar, Scalar>(out, a, f); });
    return out;
}

}  // namespace ag
