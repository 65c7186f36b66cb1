#include "layers/clip_grad.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

double clip_grad_norm(const std::vector<Tensor>& parameters, double max_norm) {
    if (!(max_norm > 0))
        throw std::invalid_argument("clip_grad_norm: max_norm must be positive; got " + std::to_string(max_norm));
    NoGradGuard no_grad;
    // total = sqrt(sum over parameters of sum(grad^2)), summed in double: float32 squares of gradients near 1e20
    // would overflow to inf although the norm itself is finite.
    double squares = 0;
    for (const Tensor& p : parameters) {
        const Tensor g = p.grad().defined() ? p.grad().contiguous() : Tensor();
        if (!g.defined()) continue;
        dispatch_floating(g.dtype(), "clip_grad_norm", [&]<typename Scalar>() {
            const Scalar* x = g.data<Scalar>();
            for (int64_t i = 0, n = g.numel(); i < n; ++i) squares += static_cast<double>(x[i]) * x[i];
        });
    }
    const double total = std::sqrt(squares);
    if (!std::isfinite(total) || total <= max_norm) return total;
    const double scale = max_norm / (total + 1e-6);
    for (const Tensor& p : parameters)
        if (p.grad().defined()) p.grad().copy_(p.grad() * scale);
    return total;
}

}  // namespace ag
