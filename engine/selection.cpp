// Ops that pick elements: where (from one of two tensors, by a mask) and gather (along a dim, by an index).
#include <stdexcept>
#include <vector>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
    if (cond.dtype() != DType::Bool)
        throw std::invalid_argument("where: the condition must be a bool tensor; got " + dtype_name(cond.dtype()));
    if (a.dtype() != b.dtype())
        throw std::invalid_argument("where: both choices must have the same dtype; got " + dtype_name(a.dtype()) +
                                    " and " + dtype_name(b.dtype()));
    const Shape shape = broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
    // All three broadcast to `shape` and laid out row-major, so element i of each belongs to out[i].
    const Tensor c = expand(cond, shape).contiguous();
    const Tensor x = expand(a.detach(), shape).contiguous(), y = expand(b.detach(), shape).contiguous();
    Tensor out = empty(shape, a.dtype());
    dispatch_all(a.dtype(), [&]<typename Scalar>() {
        const bool* pick_a = c.data<bool>();
        const Scalar *px = x.data<Scalar>(), *py = y.data<Scalar>();
        Scalar* po = out.data<Scalar>();
        for (int64_t i = 0, n = out.numel(); i < n; ++i) po[i] = pick_a[i] ? px[i] : py[i];  // out = cond ? a : b
    });
    if (needs_grad(a, b))
        set_grad_fn(out, "WhereBackward", {&a, &b}, /*saved=*/{cond}, [cond, a, b](const Tensor& dout) {
            const Tensor zero = zeros({}, dout.dtype());
            if (a.requires_grad()) accumulate_grad(a, where(cond, dout, zero));  // da += dout where cond
            if (b.requires_grad()) accumulate_grad(b, where(cond, zero, dout));  // db += dout where !cond
        });
    return out;
}

namespace {

// For each element of the contiguous index (row-major), the flat position in a contiguous tensor of `shape` that
// gather reads: its own coordinates, with the one along dim replaced by the index value. Checks every value.
std::vector<int64_t> gather_sources(const Shape& shape, int64_t dim, const Tensor& idx) {
    const Shape strides = contiguous_strides(shape), &ishape = idx.shape();
    const int64_t* ids = idx.data<int64_t>();
    const int64_t n = idx.numel(), ndim = static_cast<int64_t>(ishape.size());
    std::vector<int64_t> from(static_cast<size_t>(n));
    Shape coord(ishape.size(), 0);
    int64_t base = 0;  // sum over d != dim of coord[d] * strides[d]
    for (int64_t i = 0; i < n; ++i) {
        if (ids[i] < 0 || ids[i] >= shape[dim])
            throw std::invalid_argument("gather: index " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                                        " is out of range for dim " + std::to_string(dim) + " of size " +
                                        std::to_string(shape[dim]));
        from[i] = base + ids[i] * strides[dim];
        for (int64_t d = ndim - 1; d >= 0; --d) {  // the next coordinate, the last dim fastest
            const int64_t step = d == dim ? 0 : strides[d];
            if (++coord[d] < ishape[d]) {
                base += step;
                break;
            }
            base -= (ishape[d] - 1) * step;
            coord[d] = 0;
        }
    }
    return from;
}

}  // namespace

Tensor gather(const Tensor& t, int64_t dim, const Tensor& index) {
    if (index.dtype() != DType::Int64)
        throw std::invalid_argument("gather: the index must be an int64 tensor; got " + dtype_name(index.dtype()));
    if (index.dim() != t.dim())
        throw std::invalid_argument("gather: the index must have as many dims as the tensor; got index " +
                                    shape_str(index.shape()) + " for tensor " + shape_str(t.shape()));
    if (t.dim() == 0) return reshape(gather(reshape(t, {1}), dim, reshape(index, {1})), {});
    dim = normalize_dim(dim, t.dim(), "gather");
    for (int64_t d = 0; d < t.dim(); ++d)
        if (d != dim && index.shape()[d] > t.shape()[d])
            throw std::invalid_argument("gather: the index must be no larger than the tensor in every dim but " +
                                        std::to_string(dim) + "; got index " + shape_str(index.shape()) +
                                        " for tensor " + shape_str(t.shape()));
    const Tensor idx = index.contiguous(), src = t.detach().contiguous();
    const std::vector<int64_t> from = gather_sources(t.shape(), dim, idx);
    Tensor out = empty(index.shape(), t.dtype());
    dispatch_all(t.dtype(), [&]<typename Scalar>() {
        const Scalar* ps = src.data<Scalar>();
        Scalar* po = out.data<Scalar>();
        for (size_t i = 0; i < from.size(); ++i) po[i] = ps[from[i]];  // out[i] = t[.., index[i], ..]
    });
    if (needs_grad(t))
        set_grad_fn(out, "GatherBackward", {&t}, /*saved=*/{idx}, [t, idx, dim](const Tensor& dout) {
            // dt[.., index[i], ..] += dout[i]   (repeated indices add up)
            const std::vector<int64_t> from = gather_sources(t.shape(), dim, idx);
            const Tensor d = dout.contiguous();
            Tensor dt = zeros(t.shape(), t.dtype());
            dispatch_floating(t.dtype(), "gather", [&]<typename Scalar>() {
                const Scalar* g = d.data<Scalar>();
                Scalar* pt = dt.data<Scalar>();
                for (size_t i = 0; i < from.size(); ++i) pt[from[i]] += g[i];
            });
            accumulate_grad(t, dt);
        });
    return out;
}

}  // namespace ag
