// Reductions: sum, mean, max, argmax (their min forms are in selection.cpp), and sum_to (the gradient rule of broadcasting).
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {

// The shape `a` reduces to, keeping reduced dims as size 1.
Shape keepdim_shape(const Shape& shape, int64_t dim) {
    Shape out = shape;
    out[dim] = 1;
    return out;
}

// Sum of a over the dims where `kept` has size 1 (a's rank, keepdim layout), as a fresh tensor of shape `kept`.
// A bool or int64 tensor sums exactly into int64 (bool as 0 / 1), as in PyTorch: (a == b).sum() is a count.
Tensor sum_keepdim(const Tensor& a, const Shape& kept) {
    if (a.dtype() == DType::Bool || a.dtype() == DType::Int64) {
        Tensor out = empty(kept, DType::Int64);
        kernels::sum_into<int64_t>(out, a.to(DType::Int64));
        return out;
    }
    Tensor out = empty(kept, a.dtype());
    dispatch_floating(a.dtype(), "sum", [&]<typename Scalar>() { kernels::sum_into<Scalar>(out, a); });
    return out;
}

// The result of a keepdim reduction with the reduced dim dropped (a view, no graph).
Tensor drop_dim(const Tensor& t, int64_t dim) {
    Shape shape = t.shape(), strides = t.strides();
    shape.erase(shape.begin() + dim);
    strides.erase(strides.begin() + dim);
    return make_view(t, shape, strides, t.offset());
}

}  // namespace

Tensor sum(const Tensor& a, int64_t dim, bool keepdim) {
    dim = normalize_dim(dim, a.dim(), "sum");
    if (a.dim() == 0) return sum(a);
    Tensor out = sum_keepdim(a, keepdim_shape(a.shape(), dim));
    if (!keepdim) out = drop_dim(out, dim);
    if (needs_grad(a))
        set_grad_fn(out, "SumBackward", {&a}, /*saved=*/{}, [a, dim, keepdim](const Tensor& dout) {
            Tensor d = keepdim ? dout : unsqueeze(dout, dim);
            accumulate_grad(a, expand(d, a.shape()));  // da += dout, broadcast along dim
        });
    return out;
}

Tensor sum(const Tensor& a) {
    Tensor out = sum_keepdim(a, Shape(a.dim(), 1));
    out = make_view(out, {}, {}, 0);
    if (needs_grad(a))
        set_grad_fn(out, "SumBackward", {&a}, /*saved=*/{}, [a](const Tensor& dout) {
            accumulate_grad(a, expand(dout, a.shape()));  // da += dout everywhere
        });
    return out;
}

namespace {

// mean has no integer result (PyTorch refuses too): the caller converts, e.g. mask.to(DType::Float32).mean().
void check_mean_dtype(const Tensor& a) {
    if (!is_floating(a.dtype()))
        throw std::invalid_argument("mean: could not infer the output dtype; the input must be floating-point "
                                    "(convert it first, e.g. t.to(DType::Float32).mean()); got " + dtype_name(a.dtype()));
}

}  // namespace

Tensor mean(const Tensor& a, int64_t dim, bool keepdim) {
    check_mean_dtype(a);
    dim = normalize_dim(dim, a.dim(), "mean");
    int64_t n = a.dim() == 0 ? 1 : a.shape()[dim];
    return sum(a, dim, keepdim) / static_cast<double>(n);
}

Tensor mean(const Tensor& a) {
    check_mean_dtype(a);
    return sum(a) / static_cast<double>(a.numel());
}

Tensor sum_to(const Tensor& a, const Shape& shape) {
    if (shape.size() > a.shape().size() || broadcast_shapes(shape, a.shape(), "sum_to") != a.shape())
        throw std::invalid_argument("sum_to: the target shape must broadcast to the tensor's shape; got " +
                                    shape_str(a.shape()) + " to " + shape_str(shape));
    if (shape == a.shape()) return a;  // nothing was broadcast
    Shape kept(a.dim() - shape.size(), 1);  // leading dims that broadcasting added are summed away
    kept.insert(kept.end(), shape.begin(), shape.end());
    Tensor out = sum_keepdim(a, kept);
    out = make_view(out, shape, contiguous_strides(shape), 0);
    if (needs_grad(a))
        set_grad_fn(out, "SumToBackward", {&a}, /*saved=*/{}, [a](const Tensor& dout) {
            accumulate_grad(a, expand(dout, a.shape()));  // da += dout, broadcast back
        });
    return out;
}

// ---- max ----------------------------------------------------------------------------------------------------------

namespace {

struct MaxResult {
    Tensor values;     // keepdim shape
    Tensor positions;  // int64, keepdim shape
};

MaxResult max_keepdim(const Tensor& a, int64_t dim, const char* op) {
    const int64_t D = a.shape()[dim];
    if (D == 0)
        throw std::invalid_argument(std::string(op) + ": cannot reduce over a dim of size 0; got shape " +
                                    shape_str(a.shape()) + " and dim " + std::to_string(dim));
    Tensor x = a.detach().contiguous();
    const int64_t outer = numel_of(a.shape(), 0, dim), inner = numel_of(a.shape(), dim + 1, a.dim());
    MaxResult r{empty(keepdim_shape(a.shape(), dim), a.dtype()), empty(keepdim_shape(a.shape(), dim), DType::Int64)};
    dispatch_floating(a.dtype(), op, [&]<typename Scalar>() {
        kernels::max_along<Scalar>(x.data<Scalar>(), outer, D, inner, r.values.data<Scalar>(), r.positions.data<int64_t>());
    });
    return r;
}

}  // namespace

std::tuple<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim) {
    dim = normalize_dim(dim, a.dim(), "max");
    if (a.dim() == 0) {  // a 0-d tensor is its own maximum, at index 0
        auto [values, positions] = max(reshape(a, {1}), 0);
        return {reshape(values, {}), reshape(positions, {})};
    }
    Tensor positions = max_keepdim(a, dim, "max").positions;
    // values = a[.., positions, ..]: gather's gradient sends dout to the first maximum of each slice only.
    Tensor values = gather(a, dim, positions);
    if (!keepdim) return {squeeze(values, dim), drop_dim(positions, dim)};
    return {values, positions};
}

Tensor max(const Tensor& a) {
    if (a.numel() == 0) throw std::invalid_argument("max: cannot reduce an empty tensor; got shape " + shape_str(a.shape()));
    return reshape(std::get<0>(max(reshape(a, {-1}), 0)), {});
}

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
    dim = normalize_dim(dim, a.dim(), "argmax");
    if (a.dim() == 0) return zeros({}, DType::Int64);
    Tensor positions = max_keepdim(a, dim, "argmax").positions;
    return keepdim ? positions : drop_dim(positions, dim);
}

// ---- min, argmin, amax, amin: the maximum of -a is the minimum of a (negation is exact, ties stay ties) -------------

namespace {

// The checks of a reduction along dim, under the op's own name; returns dim in [0, a.dim()).
int64_t reducible_dim(const Tensor& a, int64_t dim, const char* op) {
    dim = normalize_dim(dim, a.dim(), op);
    if (!is_floating(a.dtype()))
        throw std::invalid_argument(std::string(op) + ": expected a floating-point tensor; got " + dtype_name(a.dtype()));
    if (a.dim() > 0 && a.shape()[dim] == 0)
        throw std::invalid_argument(std::string(op) + ": cannot reduce over a dim of size 0; got shape " +
                                    shape_str(a.shape()) + " and dim " + std::to_string(dim));
    return dim;
}

}  // namespace

std::tuple<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim) {
    dim = reducible_dim(a, dim, "min");
    auto [values, positions] = max(neg(a), dim, keepdim);  // min(a) = -max(-a), at the first minimum
    return {neg(values), positions};
}

Tensor min(const Tensor& a) {
    if (a.numel() == 0) throw std::invalid_argument("min: cannot reduce an empty tensor; got shape " + shape_str(a.shape()));
    return reshape(std::get<0>(min(reshape(a, {-1}), 0)), {});
}

Tensor argmin(const Tensor& a, int64_t dim, bool keepdim) {
    dim = reducible_dim(a, dim, "argmin");
    return argmax(neg(a.detach()), dim, keepdim);
}

Tensor amax(const Tensor& a, int64_t dim, bool keepdim) {
    dim = reducible_dim(a, dim, "amax");
    if (a.dim() == 0) return a * 1.0;
    const Tensor m = max_keepdim(a, dim, "amax").values;  // keepdim shape
    Tensor out = keepdim ? m : drop_dim(m, dim);
    if (needs_grad(a)) {
        const Tensor x = a.detach(), y = m.detach();
        set_grad_fn(out, "AmaxBackward", {&a}, /*saved=*/{x, y}, [a, x, y, dim, keepdim](const Tensor& dout) {
            // da += dout * (a == amax) / count(a == amax): the slice's ties share its gradient evenly
            const Tensor tied = where(eq(x, y), ones({}, x.dtype()), zeros({}, x.dtype()));
            const Tensor d = keepdim ? dout : unsqueeze(dout, dim);
            accumulate_grad(a, d * tied / sum(tied, dim, /*keepdim=*/true));
        });
    }
    return out;
}

Tensor amin(const Tensor& a, int64_t dim, bool keepdim) {
    reducible_dim(a, dim, "amin");
    return neg(amax(neg(a), dim, keepdim));
}

}  // namespace ag
