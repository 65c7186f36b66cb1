// Element-wise ops: forward through kernels::map / kernels::zip (unary and binary, engine/elementwise.h), backward
// right below each as a formula. Broadcasting is handled once: the forward kernels read broadcast operands with
// stride 0, and accumulate_grad sums a gradient of the broadcast shape back to each input's shape.
#include <cmath>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/elementwise.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

Tensor add(const Tensor& a, const Tensor& b) {
    Tensor out = binary(a, b, "add", [](auto x, auto y) { return x + y; });
    if (needs_grad(a, b))
        set_grad_fn(out, "AddBackward", {&a, &b}, /*saved=*/{}, [a, b](const Tensor& dout) {
            accumulate_grad(a, dout);  // da += dout
            accumulate_grad(b, dout);  // db += dout
        });
    return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
    Tensor out = binary(a, b, "sub", [](auto x, auto y) { return x - y; });
    if (needs_grad(a, b))
        set_grad_fn(out, "SubBackward", {&a, &b}, /*saved=*/{}, [a, b](const Tensor& dout) {
            accumulate_grad(a, dout);                          // da += dout
            if (b.requires_grad()) accumulate_grad(b, -dout);  // db -= dout
        });
    return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor out = binary(a, b, "mul", [](auto x, auto y) { return x * y; });
    if (needs_grad(a, b))
        set_grad_fn(out, "MulBackward", {&a, &b},
                    /*saved=*/{saved_if(b.requires_grad(), a), saved_if(a.requires_grad(), b)}, [a, b](const Tensor& dout) {
            if (a.requires_grad()) accumulate_grad(a, dout * b);  // da += dout * b
            if (b.requires_grad()) accumulate_grad(b, dout * a);  // db += dout * a
        });
    return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
    Tensor out = binary(a, b, "div", [](auto x, auto y) { return x / y; });
    if (needs_grad(a, b))
        set_grad_fn(out, "DivBackward", {&a, &b}, /*saved=*/{saved_if(b.requires_grad(), a), b}, [a, b](const Tensor& dout) {
            if (a.requires_grad()) accumulate_grad(a, dout / b);            // da += dout / b
            if (b.requires_grad()) accumulate_grad(b, -dout * a / (b * b));  // db += -dout * a / b^2
        });
    return out;
}

Tensor neg(const Tensor& a) {
    Tensor out = unary(a, "neg", [](auto x) { return -x; });
    if (needs_grad(a))
        set_grad_fn(out, "NegBackward", {&a}, /*saved=*/{}, [a](const Tensor& dout) {
            accumulate_grad(a, -dout);  // da += -dout
        });
    return out;
}

Tensor pow(const Tensor& a, double p) {
    Tensor out = unary(a, "pow", [p](auto x) { return static_cast<decltype(x)>(std::pow(x, p)); });
    if (needs_grad(a))
        set_grad_fn(out, "PowBackward", {&a}, /*saved=*/{a}, [a, p](const Tensor& dout) {
            if (p == 0) accumulate_grad(a, zeros_like(a));  // a^0 = 1: da += 0 (also at a = 0, where a^-1 is inf)
            else accumulate_grad(a, dout * pow(a, p - 1) * p);  // da += dout * p * a^(p-1)
        });
    return out;
}

Tensor exp(const Tensor& a) {
    Tensor out = unary(a, "exp", [](auto x) { return std::exp(x); });
    if (needs_grad(a)) {
        const Tensor y = out.detach();  // the result, without its grad_fn (no cycle)
        set_grad_fn(out, "ExpBackward", {&a}, /*saved=*/{y}, [a, y](const Tensor& dout) {
            accumulate_grad(a, dout * y);  // da += dout * exp(a)
        });
    }
    return out;
}

Tensor log(const Tensor& a) {
    Tensor out = unary(a, "log", [](auto x) { return std::log(x); });
    if (needs_grad(a))
        set_grad_fn(out, "LogBackward", {&a}, /*saved=*/{a}, [a](const Tensor& dout) {
            accumulate_grad(a, dout / a);  // da += dout / a
        });
    return out;
}

Tensor sqrt(const Tensor& a) {
    Tensor out = unary(a, "sqrt", [](auto x) { return std::sqrt(x); });
    if (needs_grad(a)) {
        const Tensor y = out.detach();  // the result, without its grad_fn (no cycle)
        set_grad_fn(out, "SqrtBackward", {&a}, /*saved=*/{y}, [a, y](const Tensor& dout) {
            accumulate_grad(a, dout / (y * 2.0));  // da += dout / (2 sqrt(a))
        });
    }
    return out;
}

Tensor tanh(const Tensor& a) {
    Tensor out = unary(a, "tanh", [](auto x) { return std::tanh(x); });
    if (needs_grad(a)) {
        const Tensor y = out.detach();  // the result, without its grad_fn (no cycle)
        set_grad_fn(out, "TanhBackward", {&a}, /*saved=*/{y}, [a, y](const Tensor& dout) {
            accumulate_grad(a, dout * (1.0 - y * y));  // da += dout * (1 - tanh(a)^2)
        });
    }
    return out;
}

Tensor sigmoid(const Tensor& a) {
    Tensor out = unary(a, "sigmoid", [](auto x) { return 1 / (1 + std::exp(-x)); });
    if (needs_grad(a)) {
        const Tensor y = out.detach();  // the result, without its grad_fn (no cycle)
        set_grad_fn(out, "SigmoidBackward", {&a}, /*saved=*/{y}, [a, y](const Tensor& dout) {
            accumulate_grad(a, dout * y * (1.0 - y));  // da += dout * y * (1 - y)
        });
    }
    return out;
}

Tensor relu(const Tensor& a) {
    // Written so that NaN stays NaN (and -0 stays -0), as torch.relu (clamp_min) does.
    Tensor out = unary(a, "relu", [](auto x) { return x < 0 ? decltype(x)(0) : x; });
    if (needs_grad(a)) {
        const Tensor y = out.detach();  // y <= 0 exactly where a <= 0, so the result tells where the gradient flows
        set_grad_fn(out, "ReluBackward", {&a}, /*saved=*/{y}, [a, y](const Tensor& dout) {
            // da += dout * (a > 0), in one pass: 0 where y <= 0 (exactly where a <= 0; a NaN passes dout, as in torch)
            accumulate_grad(a, binary(dout, y, "relu", [](auto g, auto v) { return v <= 0 ? decltype(g)(0) : g; }));
        });
    }
    return out;
}

Tensor gelu(const Tensor& a, const std::string& approximate) {
    if (approximate != "none" && approximate != "tanh")
        throw std::invalid_argument("gelu: approximate must be \"none\" or \"tanh\"; got \"" + approximate + "\"");
    const bool tanh_form = approximate == "tanh";
    // exact:  y = x/2 (1 + erf(x / sqrt 2))          tanh:  y = x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Tensor out = unary(a, "gelu", [tanh_form](auto x) {
        using S = decltype(x);
        if (tanh_form) return S(0.5) * x * (S(1) + std::tanh(S(0.7978845608028654) * (x + S(0.044715) * x * x * x)));
        return S(0.5) * x * (S(1) + std::erf(x * S(0.7071067811865476)));
    });
    if (needs_grad(a))
        set_grad_fn(out, "GeluBackward", {&a}, /*saved=*/{a}, [a, tanh_form](const Tensor& dout) {
            // exact:  dy/dx = (1 + erf(x / sqrt 2)) / 2 + x exp(-x^2 / 2) / sqrt(2 pi)
            // tanh:   dy/dx = (1 + t) / 2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 0.044715 x^2),  t = tanh(...)
            Tensor slope = unary(a, "gelu", [tanh_form](auto x) {
                using S = decltype(x);
                if (tanh_form) {
                    const S k = S(0.7978845608028654), t = std::tanh(k * (x + S(0.044715) * x * x * x));
                    return S(0.5) * (S(1) + t) + S(0.5) * x * (S(1) - t * t) * k * (S(1) + S(3 * 0.044715) * x * x);
                }
                return S(0.5) * (S(1) + std::erf(x * S(0.7071067811865476))) +
                       x * std::exp(S(-0.5) * x * x) * S(0.3989422804014327);
            });
            accumulate_grad(a, dout * slope);  // da += dout * gelu'(a)
        });
    return out;
}

Tensor masked_fill(const Tensor& a, const Tensor& mask, double value) {
    if (mask.dtype() != DType::Bool)
        throw std::invalid_argument("masked_fill: the mask must be a bool tensor (e.g. tril == 0); got " +
                                    dtype_name(mask.dtype()));
    if (broadcast_shapes(a.shape(), mask.shape(), "masked_fill") != a.shape())
        throw std::invalid_argument("masked_fill: the mask must broadcast to the tensor's shape; got mask " +
                                    shape_str(mask.shape()) + " for tensor " + shape_str(a.shape()));
    Tensor out = empty(a.shape(), a.dtype());
    dispatch_all(a.dtype(), [&]<typename Scalar>() {
        const Scalar v = to_element<Scalar>(value, "masked_fill");
        kernels::zip<Scalar, Scalar, bool>(out, a, mask, [v](Scalar x, bool masked) { return masked ? v : x; });
    });
    if (needs_grad(a))
        set_grad_fn(out, "MaskedFillBackward", {&a}, /*saved=*/{mask}, [a, mask](const Tensor& dout) {
            accumulate_grad(a, masked_fill(dout, mask, 0.0));  // da += dout where the mask is false, else 0
        });
    return out;
}

}  // namespace ag
