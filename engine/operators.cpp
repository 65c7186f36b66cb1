// Operator spellings of the arithmetic ops, comparisons (bool masks, no gradient) and allclose.
#include <cmath>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/elementwise.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
namespace {

// mask = f(a, b) over the broadcast shape.
template <typename F>
Tensor compare(const Tensor& a, const Tensor& b, const char* op, F f) {
    if (a.dtype() != b.dtype())
        throw std::invalid_argument(std::string(op) + ": both tensors must have the same dtype; got " +
                                    dtype_name(a.dtype()) + " and " + dtype_name(b.dtype()));
    Tensor out = empty(broadcast_shapes(a.shape(), b.shape(), op), DType::Bool);
    dispatch_all(a.dtype(), [&]<typename Scalar>() { kernels::zip<bool, Scalar>(out, a, b, f); });
    return out;
}

// A number as a 0-d tensor of floating a's dtype, so that x * 2.0 reuses mul and its backward. As in PyTorch, a
// number beyond float32's range becomes an infinity here (x * 1e300 is inf), it is not an error.
Tensor scalar_like(double s, const Tensor& a, const char* op) {
    return dispatch_floating(a.dtype(), op, [&]<typename Scalar>() {
        Tensor out = empty({}, a.dtype());
        *out.data<Scalar>() = static_cast<Scalar>(s);  // rounds to nearest, +-inf past float's largest value
        return out;
    });
}

enum class Comparison { Eq, Ne, Lt, Le, Gt, Ge };

// a (int64 or bool) against a number s, exactly, as real numbers compare: s is not rounded to an integer first
// (PyTorch compares such a pair in floating point: [0, 1, 2] == 0.5 is all false and [0, 1, 2] < 1e30 all true).
// Each case becomes a comparison of a with an integer threshold, or a constant.
Tensor compare_integers_with(const Tensor& a, double s, Comparison c) {
    const Tensor x = a.dtype() == DType::Bool ? a.to(DType::Int64) : a;
    auto constant = [&](bool value) { return full(a.shape(), value ? 1.0 : 0.0, DType::Bool); };
    const bool is_ne = c == Comparison::Ne;
    if (std::isnan(s)) return constant(is_ne);  // NaN equals nothing and is ordered with nothing
    if (s >= 9223372036854775808.0 || s < -9223372036854775808.0) {  // beyond every int64
        const bool above = s > 0;
        switch (c) {
            case Comparison::Eq: return constant(false);
            case Comparison::Ne: return constant(true);
            case Comparison::Lt: case Comparison::Le: return constant(above);
            case Comparison::Gt: case Comparison::Ge: return constant(!above);
        }
    }
    const double lower = std::floor(s), upper = std::ceil(s);  // both fit in int64 here
    const Tensor below = full({}, lower, DType::Int64), over = full({}, upper, DType::Int64);
    switch (c) {
        case Comparison::Eq: return lower == s ? eq(x, below) : constant(false);
        case Comparison::Ne: return lower == s ? ne(x, below) : constant(true);
        case Comparison::Lt: return lt(x, over);    // x < s  <=>  x < ceil(s)
        case Comparison::Le: return le(x, below);   // x <= s <=>  x <= floor(s)
        case Comparison::Gt: return gt(x, below);   // x > s  <=>  x > floor(s)
        case Comparison::Ge: return ge(x, over);    // x >= s <=>  x >= ceil(s)
    }
    return constant(false);
}

// a compared with a number: floating tensors compare with the number rounded to their dtype, as PyTorch does.
Tensor compare_with(const Tensor& a, double s, Comparison c, Tensor (*op)(const Tensor&, const Tensor&)) {
    if (!is_floating(a.dtype())) return compare_integers_with(a, s, c);
    return op(a, scalar_like(s, a, "compare"));
}

}  // namespace

namespace {

// a (op) s with the number kept in the backward function rather than in a 0-d tensor: the same values as
// add/sub/mul/div with scalar_like(s, a) (s rounded to a's dtype first), without a second tensor in the graph.
template <typename F, typename Back>
Tensor with_number(const Tensor& a, double s, const char* op, const char* backward_name, F f, Back back) {
    Tensor out = unary(a, op, [s, f](auto x) { return f(x, static_cast<decltype(x)>(s)); });
    if (needs_grad(a))
        set_grad_fn(out, backward_name, {&a}, /*saved=*/{}, [a, s, back](const Tensor& dout) {
            accumulate_grad(a, back(dout, s));
        });
    return out;
}

}  // namespace

// da = dout for a + s and a - s, -dout for s - a; dout * s for a * s; dout / s for a / s.
Tensor operator+(const Tensor& a, double s) {
    return with_number(a, s, "add", "AddBackward", [](auto x, auto y) { return x + y; },
                       [](const Tensor& dout, double) { return dout; });
}
Tensor operator+(double s, const Tensor& a) {
    return with_number(a, s, "add", "AddBackward", [](auto x, auto y) { return y + x; },
                       [](const Tensor& dout, double) { return dout; });
}
Tensor operator-(const Tensor& a, double s) {
    return with_number(a, s, "sub", "SubBackward", [](auto x, auto y) { return x - y; },
                       [](const Tensor& dout, double) { return dout; });
}
Tensor operator-(double s, const Tensor& a) {
    return with_number(a, s, "sub", "SubBackward", [](auto x, auto y) { return y - x; },
                       [](const Tensor& dout, double) { return -dout; });
}
Tensor operator*(const Tensor& a, double s) {
    return with_number(a, s, "mul", "MulBackward", [](auto x, auto y) { return x * y; },
                       [](const Tensor& dout, double s) { return dout * s; });
}
Tensor operator*(double s, const Tensor& a) {
    return with_number(a, s, "mul", "MulBackward", [](auto x, auto y) { return y * x; },
                       [](const Tensor& dout, double s) { return s * dout; });
}
Tensor operator/(const Tensor& a, double s) {
    return with_number(a, s, "div", "DivBackward", [](auto x, auto y) { return x / y; },
                       [](const Tensor& dout, double s) { return dout / s; });
}
Tensor operator/(double s, const Tensor& a) { return div(scalar_like(s, a, "div"), a); }

Tensor eq(const Tensor& a, const Tensor& b) { return compare(a, b, "eq", [](auto x, auto y) { return x == y; }); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(a, b, "ne", [](auto x, auto y) { return x != y; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(a, b, "lt", [](auto x, auto y) { return x < y; }); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(a, b, "le", [](auto x, auto y) { return x <= y; }); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(a, b, "gt", [](auto x, auto y) { return x > y; }); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(a, b, "ge", [](auto x, auto y) { return x >= y; }); }

Tensor operator==(const Tensor& a, double s) { return compare_with(a, s, Comparison::Eq, eq); }
Tensor operator!=(const Tensor& a, double s) { return compare_with(a, s, Comparison::Ne, ne); }
Tensor operator<(const Tensor& a, double s) { return compare_with(a, s, Comparison::Lt, lt); }
Tensor operator<=(const Tensor& a, double s) { return compare_with(a, s, Comparison::Le, le); }
Tensor operator>(const Tensor& a, double s) { return compare_with(a, s, Comparison::Gt, gt); }
Tensor operator>=(const Tensor& a, double s) { return compare_with(a, s, Comparison::Ge, ge); }
Tensor operator==(const Tensor& a, const Tensor& b) { return eq(a, b); }
Tensor operator!=(const Tensor& a, const Tensor& b) { return ne(a, b); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol) {
    Shape shape = broadcast_shapes(a.shape(), b.shape(), "allclose");
    std::vector<double> x = expand(a.detach(), shape).to_vector<double>();
    std::vector<double> y = expand(b.detach(), shape).to_vector<double>();
    for (size_t i = 0; i < x.size(); ++i) {
        if (x[i] == y[i]) continue;  // equal infinities are close
        if (std::isinf(x[i]) || std::isinf(y[i])) return false;  // unequal ones are not (inf - -inf <= rtol * inf)
        if (!(std::abs(x[i] - y[i]) <= atol + rtol * std::abs(y[i]))) return false;  // NaN fails here
    }
    return true;
}

}  // namespace ag
