// sort and topk: the positions along a dim in sorted order; the values are gather(t, dim, positions), so their
// gradient goes back to the chosen positions.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "engine/ops.h"

namespace ag {

namespace {

// x < y, with NaN larger than every number (and equal to NaN), as PyTorch sorts.
template <typename Scalar>
bool less_nan_last(Scalar x, Scalar y) {
    return std::isnan(x) ? false : (std::isnan(y) || x < y);
}

// For t seen as (outer, D, inner) along dim: the first k positions of each slice in sorted order (descending or
// ascending), int64 of t's shape with k at dim. Equal values keep their original order (the lower position first).
Tensor sorted_positions(const Tensor& t, int64_t dim, int64_t k, bool descending, const char* op) {
    const Tensor x = t.detach().contiguous();
    const int64_t D = t.shape()[dim];
    const int64_t outer = numel_of(t.shape(), 0, dim), inner = numel_of(t.shape(), dim + 1, t.dim());
    Shape shape = t.shape();
    shape[dim] = k;
    Tensor out = empty(shape, DType::Int64);
    int64_t* picked = out.data<int64_t>();
    dispatch_floating(t.dtype(), op, [&]<typename Scalar>() {
        std::vector<int64_t> order(static_cast<size_t>(D));
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
                const Scalar* slice = x.data<Scalar>() + o * D * inner + i;  // element d at slice[d * inner]
                // p before q: p's value comes first, or the values tie and p is the earlier position
                auto before = [slice, inner, descending](int64_t p, int64_t q) {
                    const Scalar vp = slice[p * inner], vq = slice[q * inner];
                    const bool first = descending ? less_nan_last(vq, vp) : less_nan_last(vp, vq);
                    const bool second = descending ? less_nan_last(vp, vq) : less_nan_last(vq, vp);
                    return first || (!second && p < q);
                };
                std::iota(order.begin(), order.end(), 0);
                std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
                for (int64_t j = 0; j < k; ++j) picked[(o * k + j) * inner + i] = order[j];
            }
    });
    return out;
}

}  // namespace

std::tuple<Tensor, Tensor> sort(const Tensor& t, int64_t dim, bool descending) {
    dim = normalize_dim(dim, t.dim(), "sort");
    if (t.dim() == 0) {  // one element: itself, at index 0
        auto [values, positions] = sort(reshape(t, {1}), 0, descending);
        return {reshape(values, {}), reshape(positions, {})};
    }
    const Tensor positions = sorted_positions(t, dim, t.shape()[dim], descending, "sort");
    return {gather(t, dim, positions), positions};
}

std::tuple<Tensor, Tensor> topk(const Tensor& t, int64_t k, int64_t dim, bool largest, bool /*sorted*/) {
    dim = normalize_dim(dim, t.dim(), "topk");
    const int64_t D = t.dim() == 0 ? 1 : t.shape()[dim];
    if (k < 0 || k > D)
        throw std::invalid_argument("topk: k must be in [0, " + std::to_string(D) + "] (the size of dim " +
                                    std::to_string(dim) + "); got " + std::to_string(k));
    if (t.dim() == 0) {
        auto [values, positions] = topk(reshape(t, {1}), k, 0, largest);
        return {reshape(values, {k}).squeeze(0), reshape(positions, {k}).squeeze(0)};
    }
    const Tensor positions = sorted_positions(t, dim, k, /*descending=*/largest, "topk");
    return {gather(t, dim, positions), positions};
}

}  // namespace ag
