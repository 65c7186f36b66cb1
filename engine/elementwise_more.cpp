// More element-wise ops, PyTorch's everyday ones: abs, clamp, minimum, maximum, silu, log1p, sin, cos. Written as
// elementwise.cpp writes its ops: forward through unary / binary (engine/elementwise.h), the backward right below
// under its formula. (sigmoid, the worked example of CONTRIBUTING.md, lives in elementwise.cpp.)
#include <cmath>
#include <optional>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/elementwise.h"
#include "engine/ops.h"

namespace ag {

Tensor abs(const Tensor& a) {
    Tensor out = unary(a, "abs", [](auto x) { return std::abs(x); });
    if (needs_grad(a))
        set_grad_fn(out, "AbsBackward", {&a}, /*saved=*/{a}, [a](const Tensor& dout) {
            // da += dout * sign(a), sign(0) = 0 as in torch (a NaN passes NaN)
            accumulate_grad(a, binary(dout, a, "abs", [](auto g, auto x) {
                using S = decltype(g);
                return x > 0 ? g : x < 0 ? -g : x == 0 ? S(0) : x;
            }));
        });
    return out;
}

Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max) {
    if (!min && !max) throw std::invalid_argument("clamp: at least one of min and max must be given; got neither");
    const double lo = min.value_or(-INFINITY), hi = max.value_or(INFINITY);
    // y = min(max(x, lo), hi): hi wherever lo > hi, as torch; a NaN stays NaN (both comparisons are false)
    Tensor out = unary(a, "clamp", [lo, hi](auto x) {
        using S = decltype(x);
        const S y = x < S(lo) ? S(lo) : x;
        return y > S(hi) ? S(hi) : y;
    });
    if (needs_grad(a))
        set_grad_fn(out, "ClampBackward", {&a}, /*saved=*/{a}, [a, lo, hi](const Tensor& dout) {
            // da += dout where lo <= a <= hi (bounds included), 0 outside (and at NaN)
            accumulate_grad(a, binary(dout, a, "clamp", [lo, hi](auto g, auto x) {
                using S = decltype(g);
                return x >= S(lo) && x <= S(hi) ? g : S(0);
            }));
        });
    return out;
}

namespace {

// minimum (sign -1) or maximum (sign +1) of a and b, the NaN of either when there is one.
// Gradient, as torch 1.13: the winner gets dout, the loser 0, a tie dout / 2 each (and with a NaN, both get dout).
Tensor extremum(const Tensor& a, const Tensor& b, int sign, const char* op, const char* backward_name) {
    Tensor out = binary(a, b, op, [sign](auto x, auto y) {
        if (x != x || y != y) return x != x ? x : y;
        return (sign > 0 ? x > y : x < y) ? x : y;
    });
    if (needs_grad(a, b))
        set_grad_fn(out, backward_name, {&a, &b}, /*saved=*/{a, b}, [a, b, sign, op](const Tensor& dout) {
            // share of x against y: 1 if x wins, 1/2 at a tie, 0 if x loses (1 when either is NaN)
            auto share = [sign](auto x, auto y) {
                using S = decltype(x);
                if (x == y) return S(0.5);
                return (sign > 0 ? x < y : x > y) ? S(0) : S(1);
            };
            // da += dout * share(a, b) ; db += dout * share(b, a)
            if (a.requires_grad()) accumulate_grad(a, dout * binary(a, b, op, share));
            if (b.requires_grad()) accumulate_grad(b, dout * binary(b, a, op, share));
        });
    return out;
}

}  // namespace

Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(a, b, -1, "minimum", "MinimumBackward"); }
Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(a, b, +1, "maximum", "MaximumBackward"); }

Tensor silu(const Tensor& a) {
    // y = x s,  s = sigmoid(x) = 1 / (1 + exp(-x))
    Tensor out = unary(a, "silu", [](auto x) { return x / (1 + std::exp(-x)); });
    if (needs_grad(a))
        set_grad_fn(out, "SiluBackward", {&a}, /*saved=*/{a}, [a](const Tensor& dout) {
            // dy/dx = s (1 + x (1 - s))
            Tensor slope = unary(a, "silu", [](auto x) {
                const auto s = 1 / (1 + std::exp(-x));
                return s * (1 + x * (1 - s));
            });
            accumulate_grad(a, dout * slope);  // da += dout * silu'(a)
        });
    return out;
}

Tensor log1p(const Tensor& a) {
    Tensor out = unary(a, "log1p", [](auto x) { return std::log1p(x); });
    if (needs_grad(a))
        set_grad_fn(out, "Log1pBackward", {&a}, /*saved=*/{a}, [a](const Tensor& dout) {
            accumulate_grad(a, dout / (a + 1.0));  // da += dout / (1 + a)
        });
    return out;
}

Tensor sin(const Tensor& a) {
    Tensor out = unary(a, "sin", [](auto x) { return std::sin(x); });
    if (needs_grad(a))
        set_grad_fn(out, "SinBackward", {&a}, /*saved=*/{a}, [a](const Tensor& dout) {
            accumulate_grad(a, dout * cos(a.detach()));  // da += dout * cos(a)
        });
    return out;
}

Tensor cos(const Tensor& a) {
    Tensor out = unary(a, "cos", [](auto x) { return std::cos(x); });
    if (needs_grad(a))
        set_grad_fn(out, "CosBackward", {&a}, /*saved=*/{a}, [a](const Tensor& dout) {
            accumulate_grad(a, -dout * sin(a.detach()));  // da += -dout * sin(a)
        });
    return out;
}

}  // namespace ag
