// Statistics along a dim: var and std, logsumexp, cumsum. Each forward is computed on the detached input, and its
// backward is one formula below it, in terms of the input, the result and dout.
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {

// The checks every op here shares; returns dim in [0, a.dim()) (0 for a 0-d tensor).
int64_t checked_dim(const Tensor& a, int64_t dim, const char* op) {
    if (!is_floating(a.dtype()))
        throw std::invalid_argument(std::string(op) + ": expected a floating-point tensor; got " + dtype_name(a.dtype()));
    return normalize_dim(dim, a.dim(), op);
}

// The number of elements along dim (1 for a 0-d tensor, which is its own single element).
int64_t size_along(const Tensor& a, int64_t dim) { return a.dim() == 0 ? 1 : a.size(dim); }

// A keepdim result with its reduced dim removed, unless keepdim (or a 0-d input, which has no dim to remove).
Tensor unkeep(const Tensor& t, int64_t dim, bool keepdim) { return keepdim || t.dim() == 0 ? t : squeeze(t, dim); }

// dout of a result without keepdim, given back its reduced dim of size 1, so that it broadcasts against the input.
Tensor keep(const Tensor& dout, int64_t dim, bool keepdim, const Tensor& a) {
    return keepdim || a.dim() == 0 ? dout : unsqueeze(dout, dim);
}

// What var and std share, all keepdim: the deviations x - mean, the variance, and its divisor N - correction.
struct Spread {
    Tensor dev, var;
    double divisor;
};

Spread spread_along(const Tensor& x, int64_t dim, bool unbiased) {
    const double N = static_cast<double>(size_along(x, dim));
    const Tensor dev = x - mean(x, dim, /*keepdim=*/true);
    const double divisor = std::max(N - (unbiased ? 1 : 0), 0.0);
    return {dev, sum(dev * dev, dim, /*keepdim=*/true) / divisor, divisor};  // 0 / 0 = NaN for N = 1 unbiased, N = 0
}

}  // namespace

// ---- var and std ---------------------------------------------------------------------------------------------------

Tensor var(const Tensor& a, int64_t dim, bool unbiased, bool keepdim) {
    dim = checked_dim(a, dim, "var");
    const Spread s = spread_along(a.detach(), dim, unbiased);
    Tensor out = unkeep(s.var, dim, keepdim);
    if (needs_grad(a)) {
        const Tensor dev = s.dev;
        const double divisor = s.divisor;
        set_grad_fn(out, "VarBackward", {&a}, /*saved=*/{}, [a, dev, divisor, dim, keepdim](const Tensor& dout) {
            accumulate_grad(a, keep(dout, dim, keepdim, a) * dev * (2.0 / divisor));  // da += dout * 2 (a - mean) / (N - c)
        });
    }
    return out;
}

Tensor std(const Tensor& a, int64_t dim, bool unbiased, bool keepdim) {
    dim = checked_dim(a, dim, "std");
    const Spread s = spread_along(a.detach(), dim, unbiased);
    Tensor out = unkeep(sqrt(s.var), dim, keepdim);
    const Tensor sd = keep(out, dim, keepdim, a).detach();  // the result in keepdim shape, without its grad_fn
    if (needs_grad(a)) {
        const Tensor dev = s.dev;
        const double divisor = s.divisor;
        set_grad_fn(out, "StdBackward", {&a}, /*saved=*/{sd}, [a, dev, sd, divisor, dim, keepdim](const Tensor& dout) {
            // da += dout * (a - mean) / ((N - c) std), taken as 0 where std is 0 (a constant slice), as PyTorch does
            const Tensor per_std = where(sd == 0.0, zeros({}, sd.dtype()), keep(dout, dim, keepdim, a) / sd);
            accumulate_grad(a, per_std * dev / divisor);
        });
    }
    return out;
}

// The whole tensor as one dim; reshape's gradient takes da back to a's shape.
Tensor var(const Tensor& a, bool unbiased) { return var(reshape(a, {-1}), int64_t{0}, unbiased); }
Tensor std(const Tensor& a, bool unbiased) { return std(reshape(a, {-1}), int64_t{0}, unbiased); }

// ---- logsumexp -----------------------------------------------------------------------------------------------------

Tensor logsumexp(const Tensor& a, int64_t dim, bool keepdim) {
    dim = checked_dim(a, dim, "logsumexp");
    const Tensor x = a.detach();
    // m: each slice's max, taken as 0 where it is infinite (so that x - m is never inf - inf) or the slice is empty
    Shape kept = x.shape();
    if (x.dim() > 0) kept[dim] = 1;
    Tensor m = size_along(x, dim) == 0 ? zeros(kept, x.dtype()) : amax(x, dim, /*keepdim=*/true);
    m = where(abs(m) == std::numeric_limits<double>::infinity(), zeros({}, x.dtype()), m);
    Tensor out = unkeep(log(sum(exp(x - m), dim, /*keepdim=*/true)) + m, dim, keepdim);  // log(0) = -inf: all -inf
    const Tensor y = keep(out, dim, keepdim, a).detach();  // the result in keepdim shape, without its grad_fn
    if (needs_grad(a))
        set_grad_fn(out, "LogsumexpBackward", {&a}, /*saved=*/{x, y}, [a, x, y, dim, keepdim](const Tensor& dout) {
            accumulate_grad(a, keep(dout, dim, keepdim, a) * exp(x - y));  // da += dout * softmax(a) = dout exp(a - out)
        });
    return out;
}

// ---- cumsum --------------------------------------------------------------------------------------------------------

Tensor cumsum(const Tensor& a, int64_t dim) {
    dim = checked_dim(a, dim, "cumsum");
    const int64_t outer = a.dim() == 0 ? 1 : numel_of(a.shape(), 0, dim);
    const int64_t D = size_along(a, dim), inner = a.dim() == 0 ? 1 : numel_of(a.shape(), dim + 1, a.dim());
    const Tensor x = a.detach().contiguous();
    Tensor out = empty(a.shape(), a.dtype());  // every element is written
    dispatch_floating(a.dtype(), "cumsum", [&]<typename Scalar>() {
        kernels::cumsum_along<Scalar>(x.data<Scalar>(), out.data<Scalar>(), outer, D, inner, /*reverse=*/false);
    });
    if (needs_grad(a))
        set_grad_fn(out, "CumsumBackward", {&a}, /*saved=*/{}, [a, outer, D, inner](const Tensor& dout) {
            // out[i] = sum_{j <= i} a[j]  =>  da[j] += sum_{i >= j} dout[i]
            const Tensor d = dout.contiguous();
            Tensor da = empty(a.shape(), a.dtype());
            dispatch_floating(a.dtype(), "cumsum", [&]<typename Scalar>() {
                kernels::cumsum_along<Scalar>(d.data<Scalar>(), da.data<Scalar>(), outer, D, inner, /*reverse=*/true);
            });
            accumulate_grad(a, da);
        });
    return out;
}

}  // namespace ag
