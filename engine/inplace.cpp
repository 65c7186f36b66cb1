// Writing into an existing tensor: copy_ and fill_ (and the `x[b] = y` spellings); the arithmetic (+=, add_, ..) is in
// inplace_arith.cpp, the random fills (normal_, uniform_, bernoulli_) in inplace_random.cpp. None of them is recorded
// in the graph. Each one
//   - refuses a tensor that requires grad while grad mode is on (its gradient would silently be wrong), and a view of
//     one made under NoGradGuard (PyTorch refuses it too);
//   - refuses a destination in which several elements share one memory location (a dim of stride 0 and size > 1,
//     as expand() makes): which value would land there is not defined (PyTorch refuses it too);
//   - reads a source that shares the destination's memory in another layout from a snapshot, so x.copy_(x.t()) and
//     add_(x, x.t()) read the old values rather than ones they have already overwritten;
//   - bumps the destination's version (Storage::version), so that a backward that saved it refuses to run.
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/inplace.h"
#include "engine/ops.h"

namespace ag {

namespace inplace {

void check_destination(const Tensor& dst, const char* op) {
    if (dst.requires_grad() && grad_mode_enabled())
        throw std::invalid_argument(std::string(op) +
                                    ": cannot write in place into a tensor that requires grad (its gradient would be "
                                    "wrong); write under NoGradGuard or into a tensor that needs no gradient");
    if (dst.impl().no_grad_view && grad_mode_enabled())
        throw std::invalid_argument(std::string(op) +
                                    ": this view of a tensor that requires grad was made under NoGradGuard; write into "
                                    "it under NoGradGuard too, or into the tensor's detach()");
    for (int64_t d = 0; d < dst.dim(); ++d)
        if (dst.shape()[d] > 1 && dst.strides()[d] == 0)
            throw std::invalid_argument(std::string(op) +
                                        ": unsupported operation: more than one element of the written-to tensor "
                                        "refers to a single memory location (dim " + std::to_string(d) +
                                        " has stride 0, as expand() makes); write into a clone() instead");
}

// src itself, unless it shares dst's memory in another layout (then element i of dst may read what an earlier write
// already changed), in which case a snapshot of it.
Tensor readable_source(const Tensor& dst, const Tensor& src) {
    if (src.impl().storage != dst.impl().storage || dst.numel() == 0) return src;
    const Shape strides = broadcast_strides(src.shape(), src.strides(), dst.shape());
    bool same_layout = src.offset() == dst.offset();
    for (int64_t d = 0; d < dst.dim() && same_layout; ++d)
        same_layout = dst.shape()[d] == 1 || strides[d] == dst.strides()[d];
    if (same_layout) return src;  // every element reads exactly the one it writes
    NoGradGuard no_grad;
    return src.detach().clone();
}

void check_broadcasts_to(const Tensor& src, const Tensor& dst, const char* op) {
    if (broadcast_shapes(src.shape(), dst.shape(), op) != dst.shape())
        throw std::invalid_argument(std::string(op) + ": source must broadcast to the destination's shape; got " +
                                    shape_str(src.shape()) + " into " + shape_str(dst.shape()));
}

}  // namespace inplace

using inplace::check_destination;

Tensor& Tensor::copy_(const Tensor& src) {
    check_destination(*this, "copy_");
    if (src.requires_grad() && grad_mode_enabled())
        throw std::invalid_argument("copy_: the source requires grad, but an in-place copy is not recorded in the "
                                    "graph, so its gradient would be lost; build the result with cat or ops instead, "
                                    "or copy src.detach()");
    if (src.dtype() != dtype())
        throw std::invalid_argument("copy_: dtypes must match; got " + dtype_name(src.dtype()) + " into " +
                                    dtype_name(dtype()));
    inplace::check_broadcasts_to(src, *this, "copy_");
    const Tensor source = inplace::readable_source(*this, src);
    dispatch_all(dtype(), [&]<typename Scalar>() { kernels::map<Scalar, Scalar>(*this, source, [](Scalar v) { return v; }); });
    bump_version();
    return *this;
}

Tensor& Tensor::fill_(double value) {
    check_destination(*this, "fill_");
    dispatch_all(dtype(), [&]<typename Scalar>() {
        const Scalar v = to_element<Scalar>(value, "fill_");
        kernels::map<Scalar, Scalar>(*this, *this, [v](Scalar) { return v; });
    });
    bump_version();
    return *this;
}

Tensor& Tensor::operator=(const Tensor& src) && { return copy_(src); }
Tensor& Tensor::operator=(double value) && { return fill_(value); }

// The optimisers' spelling of a += b.
void add_(const Tensor& a, const Tensor& b) { Tensor(a).add_(b); }

}  // namespace ag
