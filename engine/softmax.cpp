// softmax, log_softmax and cross_entropy. Each is one fused kernel forward and backward: softmax's and log_softmax's
// backward use their saved output only, cross_entropy's the saved log_softmax of the logits, which is simpler and
// more accurate than differentiating exp, sum and div separately.
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {

// A contiguous tensor seen as (outer, D, inner) along `dim`: D is dim's size, outer the count of slices before it,
// inner the elements after it; element (o, d, i) is at (o D + d) inner + i.
struct AlongDim {
    int64_t outer, D, inner;
};

AlongDim along_dim(const Tensor& t, int64_t dim) {
    if (t.dim() == 0) return {1, 1, 1};
    return {numel_of(t.shape(), 0, dim), t.shape()[dim], numel_of(t.shape(), dim + 1, t.dim())};
}

// softmax (log = false) or log_softmax (log = true) along dim, and its backward, which only needs the output y:
//   softmax:     dx = y * (dout - sum(dout * y, dim))
//   log_softmax: dx = dout - exp(y) * sum(dout, dim)
Tensor softmax_along(const Tensor& x, int64_t dim, bool log, const char* op) {
    dim = normalize_dim(dim, x.dim(), op);
    const Tensor in = x.detach().contiguous();
    Tensor out = empty(x.shape(), x.dtype());
    const AlongDim g = along_dim(x, dim);
    dispatch_floating(x.dtype(), op, [&]<typename Scalar>() {
        kernels::softmax_forward<Scalar>(in.data<Scalar>(), out.data<Scalar>(), g.outer, g.D, g.inner, log);
    });
    if (!needs_grad(x)) return out;
    const Tensor y = out.detach();  // the result, without its grad_fn (no cycle)
    const char* name = log ? "LogSoftmaxBackward" : "SoftmaxBackward";
    set_grad_fn(out, name, {&x}, /*saved=*/{y}, [x, g, log, y](const Tensor& dout) {
        const Tensor d = dout.contiguous();
        Tensor dx = empty(x.shape(), x.dtype());  // every element is written
        dispatch_floating(x.dtype(), "softmax", [&]<typename Scalar>() {
            kernels::softmax_backward<Scalar>(y.data<Scalar>(), d.data<Scalar>(), dx.data<Scalar>(), g.outer, g.D, g.inner, log);
        });
        accumulate_grad(x, dx);
    });
    return out;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_along(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_along(x, dim, true, "log_softmax"); }

Tensor cross_entropy(const Tensor& logits, const Tensor& targets) {
    if (logits.dim() != 2) return cross_entropy(logits, targets, CrossEntropyFuncOptions{});  // loss.cpp's layouts
    if (targets.dtype() != DType::Int64)
        throw std::invalid_argument("cross_entropy: targets must be int64 class indices; got " +
                                    dtype_name(targets.dtype()));
    const int64_t N = logits.size(0), C = logits.size(1);
    if (targets.dim() != 1 || targets.size(0) != N)
        throw std::invalid_argument("cross_entropy: targets must be (N) for logits (N, C); got " +
                                    shape_str(targets.shape()) + " for " + shape_str(logits.shape()));
    Tensor t = targets.contiguous();
    const int64_t* target = t.data<int64_t>();
    for (int64_t n = 0; n < N; ++n)
        if (target[n] < 0 || target[n] >= C)
            throw std::invalid_argument("cross_entropy: target " + std::to_string(target[n]) + " at position " +
                                        std::to_string(n) + " is out of range for " + std::to_string(C) + " classes");
    // loss = -(1/N) sum_n log_softmax(logits)[n, target[n]]
    Tensor logp = log_softmax(logits.detach(), 1);
    Tensor out = empty({}, logits.dtype());
    dispatch_floating(logits.dtype(), "cross_entropy", [&]<typename Scalar>() {
        const Scalar* lp = logp.data<Scalar>();
        double total = 0;
        for (int64_t n = 0; n < N; ++n) total -= lp[n * C + target[n]];
        *out.data<Scalar>() = static_cast<Scalar>(total / static_cast<double>(N));
    });
    if (needs_grad(logits))
        set_grad_fn(out, "CrossEntropyBackward", {&logits}, /*saved=*/{t, logp}, [logits, t, logp](const Tensor& dout) {
            // dlogits = dout * (softmax(logits) - onehot(target)) / N
            const int64_t N = logp.size(0), C = logp.size(1);
            Tensor dx = empty(logp.shape(), logp.dtype());  // every element is written
            dispatch_floating(logp.dtype(), "cross_entropy", [&]<typename Scalar>() {
                const Scalar scale = static_cast<Scalar>(dout.item() / static_cast<double>(N));
                kernels::cross_entropy_backward<Scalar>(logp.data<Scalar>(), t.data<int64_t>(), scale, dx.data<Scalar>(), N, C);
            });
            accumulate_grad(logits, dx);
        });
    return out;
}

}  // namespace ag
