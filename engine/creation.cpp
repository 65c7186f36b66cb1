#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace ag {

Tensor zeros(const Shape& shape, DType dtype) { return empty(shape, dtype, /*zero=*/true); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }

Tensor full(const Shape& shape, double value, DType dtype) {
    Tensor out = empty(shape, dtype);
    dispatch_all(dtype, [&]<typename Scalar>() {
        Scalar* p = out.data<Scalar>();
        const Scalar v = to_element<Scalar>(value, "full");
        for (int64_t i = 0, n = out.numel(); i < n; ++i) p[i] = v;
    });
    return out;
}

Tensor arange(double end, DType dtype) { return arange(0, end, 1, dtype); }

Tensor arange(double start, double end, double step, DType dtype) {
    std::ostringstream got;  // shortest form, as Python prints it: start=0, end=1e+30, step=0.5
    got << "start=" << start << ", end=" << end << ", step=" << step;
    if (step == 0 || !std::isfinite(start) || !std::isfinite(end) || !std::isfinite(step))
        throw std::invalid_argument("arange: start, end and step must be finite and step nonzero; got " + got.str());
    // The count in double first: (end - start) / step can be far beyond int64 (arange(0, 1e30)).
    const double count = std::max(0.0, std::ceil((end - start) / step));
    if (!(count < 9223372036854775808.0))
        throw std::length_error("arange: " + got.str() + " gives more elements than a 64-bit size can count");
    const int64_t n = static_cast<int64_t>(count);
    Tensor out = empty({n}, dtype);
    dispatch_all(dtype, [&]<typename Scalar>() {
        Scalar* p = out.data<Scalar>();
        for (int64_t i = 0; i < n; ++i) p[i] = to_element<Scalar>(start + static_cast<double>(i) * step, "arange");
    });
    return out;
}

// Keeps element [.., i, j] where keep(j - i) holds, zeroes the rest. Differentiable: da = the same mask of dout.
static Tensor triangle(const Tensor& a, int64_t diagonal, bool lower, const char* op) {
    if (a.dim() < 2)
        throw std::invalid_argument(std::string(op) + ": needs a tensor with at least 2 dims; got shape " +
                                    shape_str(a.shape()));
    Tensor out = a.detach().clone();
    const int64_t rows = a.size(-2), cols = a.size(-1), mats = numel_of(a.shape(), 0, a.dim() - 2);
    dispatch_all(a.dtype(), [&]<typename Scalar>() {
        Scalar* p = out.data<Scalar>();
        for (int64_t m = 0; m < mats; ++m)
            for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j) {
                    bool keep = lower ? j - i <= diagonal : j - i >= diagonal;
                    if (!keep) p[(m * rows + i) * cols + j] = Scalar(0);
                }
    });
    if (needs_grad(a))
        set_grad_fn(out, lower ? "TrilBackward" : "TriuBackward", {&a}, /*saved=*/{},
                    [a, diagonal, lower, op](const Tensor& dout) {
                        accumulate_grad(a, triangle(dout, diagonal, lower, op));  // da += tril(dout) (or triu)
                    });
    return out;
}

Tensor tril(const Tensor& a, int64_t diagonal) { return triangle(a, diagonal, true, "tril"); }
Tensor triu(const Tensor& a, int64_t diagonal) { return triangle(a, diagonal, false, "triu"); }

// ---- random ------------------------------------------------------------------------------------------------------------

Tensor randn(const Shape& shape, DType dtype, Generator* gen) {
    Generator& g = gen ? *gen : default_generator();
    Tensor out = empty(shape, dtype);
    dispatch_floating(dtype, "randn", [&]<typename Scalar>() { g.fill_normal(out.data<Scalar>(), out.numel(), 0.0, 1.0); });
    return out;
}

Tensor rand(const Shape& shape, DType dtype, Generator* gen) {
    Generator& g = gen ? *gen : default_generator();
    Tensor out = empty(shape, dtype);
    dispatch_floating(dtype, "rand", [&]<typename Scalar>() { g.fill_uniform(out.data<Scalar>(), out.numel(), 0.0, 1.0); });
    return out;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator* gen) {
    Generator& g = gen ? *gen : default_generator();
    if (high <= low)
        throw std::invalid_argument("randint: high must be greater than low; got low=" + std::to_string(low) +
                                    ", high=" + std::to_string(high));
    Tensor out = empty(shape, DType::Int64);
    g.fill_randint(out.data<int64_t>(), out.numel(), low, high);
    return out;
}

// ---- multinomial ----------------------------------------------------------------------------------------------------

namespace {

// Refuses a row of probs with a negative, NaN or infinite weight, or whose weights sum to 0.
template <typename Scalar>
void check_weights(const Scalar* pp, int64_t rows, int64_t K) {
    for (int64_t r = 0; r < rows; ++r) {
        double total = 0;
        for (int64_t k = 0; k < K; ++k) {
            const Scalar v = pp[r * K + k];
            if (!(v >= 0) || std::isinf(v))
                throw std::invalid_argument("multinomial: probability tensor contains either inf, nan or element < 0; "
                                            "got " + number_str(v) + " at row " + std::to_string(r) +
                                            ", position " + std::to_string(k));
            total += v;
        }
        if (!(total > 0))
            throw std::invalid_argument("multinomial: invalid multinomial distribution (sum of probabilities <= 0) "
                                        "in row " + std::to_string(r));
    }
}

// Without replacement, as PyTorch draws it: q = exponential(1) for every element (all of them, row by row, before
// any sample is taken), then each row's samples are the positions of its largest p / q, largest first. With one
// sample this picks position i with probability p_i / sum(p).
template <typename Scalar>
void sample_without_replacement(const Scalar* pp, int64_t rows, int64_t K, int64_t n, Generator& g, int64_t* picked) {
    std::vector<Scalar> ratio(static_cast<size_t>(rows * K));
    g.fill_exponential(ratio.data(), rows * K);  // q, all drawn first
    for (int64_t i = 0; i < rows * K; ++i) ratio[i] = pp[i] / ratio[i];
    std::vector<int64_t> order(static_cast<size_t>(K));
    for (int64_t r = 0; r < rows; ++r) {
        const Scalar* rr = ratio.data() + r * K;
        std::iota(order.begin(), order.end(), 0);
        // largest ratio first; among equal ratios, the first position first
        std::partial_sort(order.begin(), order.begin() + n, order.end(),
                          [rr](int64_t a, int64_t b) { return rr[a] > rr[b] || (rr[a] == rr[b] && a < b); });
        std::copy(order.begin(), order.begin() + n, picked + r * n);
    }
}

// With replacement, as PyTorch draws it, row after row: the cumulative sums c of the row in its dtype, divided by
// their total, the last set to 1; then each sample is the first position j with c_j >= u, u a 53-bit double
// uniform (2 draws), found by bisection.
template <typename Scalar>
void sample_with_replacement(const Scalar* pp, int64_t rows, int64_t K, int64_t n, Generator& g, int64_t* picked) {
    std::vector<Scalar> cum(static_cast<size_t>(K));
    for (int64_t r = 0; r < rows; ++r) {
        Scalar total = 0;
        for (int64_t k = 0; k < K; ++k) cum[k] = total += pp[r * K + k];
        for (Scalar& c : cum) c /= total;
        cum[K - 1] = 1;
        for (int64_t s = 0; s < n; ++s) {
            const double u = static_cast<double>(g.random64() & ((uint64_t{1} << 53) - 1)) * 0x1p-53;
            int64_t lo = 0, hi = K;  // the answer is in [lo, hi]
            while (lo < hi) {
                const int64_t mid = lo + (hi - lo) / 2;
                if (cum[mid] < u) lo = mid + 1;
                else hi = mid;
            }
            picked[r * n + s] = lo;
        }
    }
}

}  // namespace

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement, Generator* gen) {
    if (probs.dim() != 1 && probs.dim() != 2)
        throw std::invalid_argument("multinomial: probs must be 1-D (K) or 2-D (rows, K); got shape " +
                                    shape_str(probs.shape()));
    const int64_t K = probs.size(-1), rows = probs.dim() == 2 ? probs.size(0) : 1;
    if (!replacement && (num_samples < 1 || num_samples > K))
        throw std::invalid_argument("multinomial: without replacement, num_samples must be in [1, K = " +
                                    std::to_string(K) + "]; got " + std::to_string(num_samples));
    if (num_samples < 1)
        throw std::invalid_argument("multinomial: num_samples must be at least 1; got " + std::to_string(num_samples));
    Generator& g = gen ? *gen : default_generator();
    Tensor out = empty(probs.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples}, DType::Int64);
    dispatch_floating(probs.dtype(), "multinomial", [&]<typename Scalar>() {
        const Tensor p = probs.detach().contiguous();
        check_weights(p.data<Scalar>(), rows, K);
        if (replacement)
            sample_with_replacement(p.data<Scalar>(), rows, K, num_samples, g, out.data<int64_t>());
        else
            sample_without_replacement(p.data<Scalar>(), rows, K, num_samples, g, out.data<int64_t>());
    });
    return out;
}

Tensor multinomial(const Tensor& probs, int64_t num_samples, Generator* gen) {
    return multinomial(probs, num_samples, /*replacement=*/false, gen);
}

Tensor multinomial(const Tensor& probs) { return multinomial(probs, 1, /*replacement=*/false, nullptr); }

// ---- from data -----------------------------------------------------------------------------------------------------------

NestedList::NestedList(std::initializer_list<NestedList> items) {
    shape_ = {static_cast<int64_t>(items.size())};
    if (items.size() == 0) return;
    const Shape& inner = items.begin()->shape();
    for (const NestedList& item : items) {
        if (item.shape() != inner)
            throw std::invalid_argument("tensor: nested lists must be rectangular; got rows of shapes " +
                                        shape_str(inner) + " and " + shape_str(item.shape()));
        values_.insert(values_.end(), item.values().begin(), item.values().end());
    }
    shape_.insert(shape_.end(), inner.begin(), inner.end());
}

Tensor tensor(const NestedList& data, DType dtype) {
    Tensor out = empty(data.shape(), dtype);
    dispatch_all(dtype, [&]<typename Scalar>() {
        Scalar* p = out.data<Scalar>();
        for (size_t i = 0; i < data.values().size(); ++i) p[i] = to_element<Scalar>(data.values()[i], "tensor");
    });
    return out;
}

template <typename Scalar>
static Tensor from_values(const std::vector<Scalar>& values, const Shape& shape) {
    if (static_cast<int64_t>(values.size()) != numel_of(shape))
        throw std::invalid_argument("from_vector: the shape must hold exactly the values given; got " +
                                    std::to_string(values.size()) + " values for shape " + shape_str(shape));
    Tensor out = empty(shape, dtype_of<Scalar>());
    std::copy(values.begin(), values.end(), out.data<Scalar>());
    return out;
}

Tensor from_vector(const std::vector<float>& values, const Shape& shape) { return from_values(values, shape); }
Tensor from_vector(const std::vector<double>& values, const Shape& shape) { return from_values(values, shape); }
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape) { return from_values(values, shape); }
Tensor from_vector(const std::vector<bool>& values, const Shape& shape) { return from_values(values, shape); }

}  // namespace ag
