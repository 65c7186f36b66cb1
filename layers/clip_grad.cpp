#include "layers/clip_grad.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type) {
    if (!(max_norm > 0))
        throw std::invalid_argument("clip_grad_norm_: max_norm must be positive; got " + number_str(max_norm));
    if (!(norm_type > 0))
        throw std::invalid_argument("clip_grad_norm_: norm_type must be positive (or infinity); got " +
                                    number_str(norm_type));
    NoGradGuard no_grad;
    const bool inf_norm = std::isinf(norm_type);
    // total = (sum over every element of |g|^p)^(1/p), or max |g|; accumulated in double: float32 squares of
    // gradients near 1e20 would overflow to inf although the norm itself is finite.
    double acc = 0;
    for (const Tensor& p : parameters) {
        const Tensor g = p.grad().defined() ? p.grad().contiguous() : Tensor();
        if (!g.defined()) continue;
        dispatch_floating(g.dtype(), "clip_grad_norm_", [&]<typename Scalar>() {
            const Scalar* x = g.data<Scalar>();
            for (int64_t i = 0, n = g.numel(); i < n; ++i) {
                const double a = std::abs(static_cast<double>(x[i]));
                if (inf_norm) acc = std::isnan(a) || std::isnan(acc) ? NAN : std::max(acc, a);
                else acc += norm_type == 2 ? a * a : std::pow(a, norm_type);
            }
        });
    }
    const double total = inf_norm ? acc : norm_type == 2 ? std::sqrt(acc) : std::pow(acc, 1 / norm_type);
    if (!std::isfinite(total) || total <= max_norm) return total;
    const double scale = max_norm / (total + 1e-6);  // g *= max_norm / (total + 1e-6)
    for (const Tensor& p : parameters)
        if (p.grad().defined()) p.grad().copy_(p.grad() * scale);
    return total;
}

}  // namespace ag
