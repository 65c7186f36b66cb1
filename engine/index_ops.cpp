// Ops that gather or join rows: cat, index_select and embedding (a lookup table is index_select on dim 0).
#include <cstring>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
    if (tensors.empty()) throw std::invalid_argument("cat: needs at least one tensor; got none");
    const Tensor& first = tensors.front();
    if (first.dim() == 0) throw std::invalid_argument("cat: 0-d tensors cannot be joined; got shape []");
    dim = normalize_dim(dim, first.dim(), "cat");
    Shape shape = first.shape();
    shape[dim] = 0;
    for (const Tensor& t : tensors) {
        if (t.dtype() != first.dtype())
            throw std::invalid_argument("cat: tensors must have the same dtype; got " + dtype_name(first.dtype()) +
                                        " and " + dtype_name(t.dtype()));
        Shape expected = first.shape();
        expected[dim] = t.dim() == first.dim() ? t.shape()[dim] : -1;
        if (t.shape() != expected || t.dtype() != first.dtype())
            throw std::invalid_argument("cat: tensors must match in dtype and in every dim but " + std::to_string(dim) +
                                        "; got " + shape_str(first.shape()) + " and " + shape_str(t.shape()));
        if (__builtin_add_overflow(shape[dim], t.shape()[dim], &shape[dim]))
            throw std::length_error("cat: the joined size along dim " + std::to_string(dim) +
                                    " overflows a 64-bit size");
    }
    Tensor out = empty(shape, first.dtype());
    int64_t at = 0;
    for (const Tensor& t : tensors) {
        out.detach().slice(dim, at, at + t.shape()[dim]).copy_(t.detach());
        at += t.shape()[dim];
    }
    std::vector<const Tensor*> inputs;
    for (const Tensor& t : tensors) inputs.push_back(&t);
    if (needs_grad(inputs))
        set_grad_fn(out, "CatBackward", inputs, /*saved=*/{}, [tensors, dim](const Tensor& dout) {
            int64_t start = 0;  // d tensors[i] += dout[.., start : start + size_i, ..]
            for (const Tensor& t : tensors) {
                accumulate_grad(t, dout.slice(dim, start, start + t.shape()[dim]));
                start += t.shape()[dim];
            }
        });
    return out;
}

Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index) {
    if (index.dtype() != DType::Int64 || index.dim() > 1)
        throw std::invalid_argument("index_select: the index must be a 1-D int64 tensor; got " +
                                    dtype_name(index.dtype()) + " of shape " + shape_str(index.shape()));
    if (a.dim() == 0) throw std::invalid_argument("index_select: a 0-d tensor cannot be indexed");
    dim = normalize_dim(dim, a.dim(), "index_select");
    const Tensor idx = index.contiguous();
    const int64_t* ids = idx.data<int64_t>();
    const int64_t n = idx.numel(), D = a.shape()[dim];
    for (int64_t i = 0; i < n; ++i)
        if (ids[i] < 0 || ids[i] >= D)
            throw std::invalid_argument("index_select: index " + std::to_string(ids[i]) + " at position " +
                                        std::to_string(i) + " is out of range for dim " + std::to_string(dim) +
                                        " of size " + std::to_string(D));
    // Seen as (outer, D, inner) -> (outer, n, inner): copy whole inner blocks.
    const Tensor src = a.detach().contiguous();
    const int64_t outer = numel_of(a.shape(), 0, dim), inner = numel_of(a.shape(), dim + 1, a.dim());
    const size_t bytes = static_cast<size_t>(inner) * dtype_size(a.dtype());
    Shape shape = a.shape();
    shape[dim] = n;
    Tensor out = empty(shape, a.dtype());
    const char* from = static_cast<const char*>(src.impl().storage->data()) + src.offset() * dtype_size(a.dtype());
    char* to = static_cast<char*>(out.impl().storage->data());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < n; ++i) std::memcpy(to + (o * n + i) * bytes, from + (o * D + ids[i]) * bytes, bytes);
    if (needs_grad(a))
        set_grad_fn(out, "IndexSelectBackward", {&a}, /*saved=*/{idx}, [a, idx, dim, outer, inner](const Tensor& dout) {
            // da[.., index[i], ..] += dout[.., i, ..]   (repeated indices add up)
            const Tensor d = dout.contiguous();
            Tensor da = zeros(a.shape(), a.dtype());
            const int64_t* ids = idx.data<int64_t>();
            const int64_t n = idx.numel(), D = a.shape()[dim];
            dispatch_floating(a.dtype(), "index_select", [&]<typename Scalar>() {
                const Scalar* g = d.data<Scalar>();
                Scalar* out_grad = da.data<Scalar>();
                for (int64_t o = 0; o < outer; ++o)
                    for (int64_t i = 0; i < n; ++i)
                        for (int64_t k = 0; k < inner; ++k)
                            out_grad[(o * D + ids[i]) * inner + k] += g[(o * n + i) * inner + k];
            });
            accumulate_grad(a, da);
        });
    return out;
}

Tensor embedding(const Tensor& weight, const Tensor& ids) {
    if (weight.dim() != 2)
        throw std::invalid_argument("embedding: the weight must be (V, C); got shape " + shape_str(weight.shape()));
    if (ids.dtype() != DType::Int64)
        throw std::invalid_argument("embedding: ids must be int64; got " + dtype_name(ids.dtype()));
    // Checked here so that a bad id is reported as embedding's, not index_select's.
    const Tensor flat = reshape(ids, {-1}).contiguous();
    const int64_t* id = flat.data<int64_t>();
    const int64_t V = weight.size(0);
    for (int64_t i = 0; i < flat.numel(); ++i)
        if (id[i] < 0 || id[i] >= V)
            throw std::invalid_argument("embedding: id " + std::to_string(id[i]) + " at position " + std::to_string(i) +
                                        " is out of range for a table of " + std::to_string(V) + " rows");
    Shape shape = ids.shape();
    shape.push_back(weight.size(1));
    return reshape(index_select(weight, 0, flat), shape);
}

}  // namespace ag
