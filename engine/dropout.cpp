// dropout: the regulariser of the lecture's GPT, with PyTorch's mask (so a run with dropout reproduces PyTorch's).
#include <stdexcept>
#include <string>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace ag {

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
    if (!(p >= 0 && p <= 1))
        throw std::invalid_argument("dropout: p must be in [0, 1]; got " + number_str(p));
    if (!is_floating(x.dtype()))  // before anything is drawn, and in eval mode too
        throw std::invalid_argument("dropout: expected a floating-point tensor; got " + dtype_name(x.dtype()));
    if (!training || p == 0) return x;
    if (p == 1) return x * 0.0;  // every element dropped, nothing drawn (as in PyTorch)
    // keep = bernoulli(1 - p), one double uniform per element in row-major order (PyTorch's draws)
    Tensor keep = empty(x.shape(), DType::Bool);
    (gen ? *gen : default_generator()).fill_bernoulli(keep.data<bool>(), keep.numel(), 1 - p);
    Tensor out = empty(x.shape(), x.dtype());
    // y = x * noise with noise = keep / (1 - p): the scale is rounded to x's dtype first, as PyTorch's noise is
    const double scale = dispatch_floating(x.dtype(), "dropout", [&]<typename Scalar>() {
        const Scalar s = Scalar(1) / static_cast<Scalar>(1 - p);
        kernels::zip<Scalar, Scalar, bool>(out, x, keep, [s](Scalar v, bool k) { return v * (k ? s : Scalar(0)); });
        return static_cast<double>(s);
    });
    if (needs_grad(x))
        set_grad_fn(out, "DropoutBackward", {&x}, /*saved=*/{keep}, [x, keep, scale](const Tensor& dout) {
            // dx += dout * noise, noise = keep / (1 - p)
            Tensor dx = empty(dout.shape(), dout.dtype());
            dispatch_floating(dout.dtype(), "dropout", [&]<typename Scalar>() {
                const Scalar s = static_cast<Scalar>(scale);
                kernels::zip<Scalar, Scalar, bool>(dx, dout, keep, [s](Scalar g, bool k) { return g * (k ? s : Scalar(0)); });
            });
            accumulate_grad(x, dx);
        });
    return out;
}

}  // namespace ag
