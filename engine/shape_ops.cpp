// Views: new shapes and strides over the same storage, no copies. The backward of a view maps dout back onto the
// base's geometry (reshape back, transpose back, or add it into the selected part of the base's gradient).
#include <algorithm>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

namespace {

// Replaces a single -1 in `shape` by the size that makes numel match; checks the total.
Shape infer_shape(const Shape& shape, int64_t numel, const char* op, const Shape& from) {
    Shape out = shape;
    int64_t infer_at = -1;
    for (size_t i = 0; i < out.size(); ++i) {
        if (out[i] == -1 && infer_at < 0) {
            infer_at = static_cast<int64_t>(i);
            out[i] = 1;  // for now, so that the known sizes can be counted
        } else if (out[i] < 0) {
            throw std::invalid_argument(std::string(op) + ": sizes must be non-negative (one may be -1); got " +
                                        shape_str(shape));
        }
    }
    check_shape(out, op);
    const int64_t known = numel_of(out);
    bool fits = true;
    if (infer_at >= 0) {  // with a 0 among the known sizes, any size would do: refused as ambiguous
        fits = known != 0 && numel % known == 0;
        if (fits) out[infer_at] = numel / known;
    }
    if (!fits || numel_of(out) != numel)
        throw std::invalid_argument(std::string(op) + ": shape " + shape_str(shape) + " is invalid for a tensor of shape " +
                                    shape_str(from) + " (" + std::to_string(numel) + " elements)");
    return out;
}

// Strides that read a tensor of (old_shape, old_strides) in the new shape without copying, if there are any.
// Walk the old dims from the inside out, cutting them into chunks that are contiguous in memory (each dim steps
// exactly over the one inside it); within a chunk the elements are evenly spaced, so the new dims that cover the
// same number of elements can take strides from the chunk's base stride. A new dim that straddles two chunks fails.
bool view_strides(const Shape& old_shape, const Shape& old_strides, const Shape& shape, Shape& strides) {
    strides.assign(shape.size(), 1);
    if (old_shape.empty() || numel_of(shape) == 0) {
        strides = contiguous_strides(shape);
        return true;
    }
    int64_t new_d = static_cast<int64_t>(shape.size()) - 1;
    int64_t base_stride = old_strides.back(), old_count = 1, new_count = 1;
    for (int64_t d = static_cast<int64_t>(old_shape.size()) - 1; d >= 0; --d) {
        old_count *= old_shape[d];
        bool chunk_ends = d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != old_count * base_stride);
        if (!chunk_ends) continue;
        while (new_d >= 0 && (new_count < old_count || shape[new_d] == 1)) {
            strides[new_d] = new_count * base_stride;
            new_count *= shape[new_d];
            --new_d;
        }
        if (new_count != old_count) return false;
        if (d > 0) {
            base_stride = old_strides[d - 1];
            old_count = new_count = 1;
        }
    }
    return new_d == -1;
}

// Records the backward of a view: da += back(dout).
template <typename Back>
Tensor record_view(Tensor out, const Tensor& a, const char* name, Back back) {
    if (needs_grad(a))
        set_grad_fn(out, name, {&a}, /*saved=*/{}, [a, back](const Tensor& dout) { accumulate_grad(a, back(dout)); });
    return out;
}

}  // namespace

Tensor view(const Tensor& a, const Shape& shape) {
    Shape target = infer_shape(shape, a.numel(), "view", a.shape()), strides;
    if (!view_strides(a.shape(), a.strides(), target, strides))
        throw std::invalid_argument("view: the strides of a tensor of shape " + shape_str(a.shape()) +
                                    " do not allow viewing it as " + shape_str(target) + " (use reshape, which copies)");
    Shape from = a.shape();
    return record_view(make_view(a, target, strides, a.offset()), a, "ViewBackward",
                       [from](const Tensor& dout) { return reshape(dout, from); });  // da += dout reshaped back
}

Tensor reshape(const Tensor& a, const Shape& shape) {
    Shape target = infer_shape(shape, a.numel(), "reshape", a.shape()), strides;
    if (view_strides(a.shape(), a.strides(), target, strides)) return view(a, target);
    return view(a.contiguous(), target);
}

Tensor transpose(const Tensor& a, int64_t d0, int64_t d1) {
    d0 = normalize_dim(d0, a.dim(), "transpose");
    d1 = normalize_dim(d1, a.dim(), "transpose");
    if (a.dim() == 0) return a;
    Shape shape = a.shape(), strides = a.strides();
    std::swap(shape[d0], shape[d1]);
    std::swap(strides[d0], strides[d1]);
    return record_view(make_view(a, shape, strides, a.offset()), a, "TransposeBackward",
                       [d0, d1](const Tensor& dout) { return transpose(dout, d0, d1); });  // da += dout^T
}

Tensor permute(const Tensor& a, const Shape& dims) {
    if (static_cast<int64_t>(dims.size()) != a.dim())
        throw std::invalid_argument("permute: need one dim per dim of the tensor; got " + shape_str(dims) +
                                    " for shape " + shape_str(a.shape()));
    Shape shape(dims.size()), strides(dims.size()), inverse(dims.size(), -1);
    for (size_t i = 0; i < dims.size(); ++i) {
        int64_t d = normalize_dim(dims[i], a.dim(), "permute");
        if (inverse[d] >= 0) throw std::invalid_argument("permute: each dim must appear once; got " + shape_str(dims));
        inverse[d] = static_cast<int64_t>(i);
        shape[i] = a.shape()[d];
        strides[i] = a.strides()[d];
    }
    return record_view(make_view(a, shape, strides, a.offset()), a, "PermuteBackward",
                       [inverse](const Tensor& dout) { return permute(dout, inverse); });  // da += dout permuted back
}

Tensor unsqueeze(const Tensor& a, int64_t dim) {
    dim = normalize_dim(dim, a.dim() + 1, "unsqueeze");
    Shape shape = a.shape(), strides = a.strides();
    shape.insert(shape.begin() + dim, 1);
    strides.insert(strides.begin() + dim, dim < a.dim() ? checked_mul(a.strides()[dim], a.shape()[dim], "unsqueeze") : 1);
    return record_view(make_view(a, shape, strides, a.offset()), a, "UnsqueezeBackward",
                       [dim](const Tensor& dout) { return squeeze(dout, dim); });  // da += dout without the dim
}

Tensor squeeze(const Tensor& a, int64_t dim) {
    dim = normalize_dim(dim, a.dim(), "squeeze");
    if (a.dim() == 0) return a;
    if (a.shape()[dim] != 1) return a;
    Shape shape = a.shape(), strides = a.strides();
    shape.erase(shape.begin() + dim);
    strides.erase(strides.begin() + dim);
    return record_view(make_view(a, shape, strides, a.offset()), a, "SqueezeBackward",
                       [dim](const Tensor& dout) { return unsqueeze(dout, dim); });  // da += dout with the dim back
}

Tensor expand(const Tensor& a, const Shape& shape) {
    check_shape(shape, "expand");
    if (shape.size() < a.shape().size() || broadcast_shapes(a.shape(), shape, "expand") != shape)
        throw std::invalid_argument("expand: the tensor must broadcast to the target shape; got " + shape_str(a.shape()) +
                                    " to " + shape_str(shape));
    if (shape == a.shape()) return a;
    Shape from = a.shape();
    return record_view(make_view(a, shape, broadcast_strides(a.shape(), a.strides(), shape), a.offset()), a,
                       "ExpandBackward", [from](const Tensor& dout) { return sum_to(dout, from); });  // da += sum over copies
}

Tensor Tensor::select(int64_t dim, int64_t i) const {
    if (this->dim() == 0) throw std::invalid_argument("select: a 0-d tensor cannot be indexed");
    dim = normalize_dim(dim, this->dim(), "select");
    const int64_t n = shape()[dim];
    if (i < -n || i >= n)
        throw std::invalid_argument("select: index " + std::to_string(i) + " is out of range for dim " +
                                    std::to_string(dim) + " of size " + std::to_string(n));
    if (i < 0) i += n;
    Shape shape_out = shape(), strides_out = strides();
    shape_out.erase(shape_out.begin() + dim);
    strides_out.erase(strides_out.begin() + dim);
    Tensor out = make_view(*this, shape_out, strides_out, offset() + i * strides()[dim]);
    if (needs_grad(*this))
        set_grad_fn(out, "SelectBackward", {this}, /*saved=*/{}, [a = *this, dim, i](const Tensor& dout) {  // da[.., i, ..] += dout
            accumulate_grad_into(a, dout, [dim, i](const Tensor& da) { return da.select(dim, i); });
        });
    return out;
}

Tensor Tensor::slice(int64_t dim, int64_t start, int64_t stop, int64_t step) const {
    if (this->dim() == 0) throw std::invalid_argument("slice: a 0-d tensor cannot be sliced");
    dim = normalize_dim(dim, this->dim(), "slice");
    if (step <= 0) throw std::invalid_argument("slice: step must be positive; got " + std::to_string(step));
    const int64_t n = shape()[dim];
    // Python's rules: negative bounds count from the end, then both are clamped into [0, n].
    auto clamp = [n](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + n : v, 0, n); };
    start = clamp(start);
    stop = std::max(start, clamp(stop));
    Shape shape_out = shape(), strides_out = strides();
    shape_out[dim] = stop == start ? 0 : (stop - start - 1) / step + 1;  // ceil((stop - start) / step), no overflow
    // The new stride only matters when the slice keeps two elements or more; then it is at most the dim's span.
    if (shape_out[dim] > 1) strides_out[dim] = checked_mul(strides_out[dim], step, "slice");
    Tensor out = make_view(*this, shape_out, strides_out, offset() + start * strides()[dim]);
    if (needs_grad(*this))
        set_grad_fn(out, "SliceBackward", {this}, /*saved=*/{}, [a = *this, dim, start, stop, step](const Tensor& dout) {
            // da[start:stop:step] += dout
            accumulate_grad_into(a, dout, [=](const Tensor& da) { return da.slice(dim, start, stop, step); });
        });
    return out;
}

}  // namespace ag
