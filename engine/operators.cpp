// Operator spellings of the arithmetic ops, comparisons (bool masks, no gradient) and allclose.
#include <cmath>
#include <stdexcept>

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
    dispatch_all(a.dtype(), [&]<typename T>() { kernels::zip<bool, T>(out, a, b, f); });
    return out;
}

// A number as a 0-d tensor of a's dtype, so that x * 2.0 reuses mul and its backward.
Tensor scalar_like(double s, const Tensor& a) { return full({}, s, a.dtype()); }

}  // namespace

Tensor operator+(const Tensor& a, double s) { return add(a, scalar_like(s, a)); }
Tensor operator+(double s, const Tensor& a) { return add(scalar_like(s, a), a); }
Tensor operator-(const Tensor& a, double s) { return sub(a, scalar_like(s, a)); }
Tensor operator-(double s, const Tensor& a) { return sub(scalar_like(s, a), a); }
Tensor operator*(const Tensor& a, double s) { return mul(a, scalar_like(s, a)); }
Tensor operator*(double s, const Tensor& a) { return mul(scalar_like(s, a), a); }
Tensor operator/(const Tensor& a, double s) { return div(a, scalar_like(s, a)); }
Tensor operator/(double s, const Tensor& a) { return div(scalar_like(s, a), a); }

Tensor eq(const Tensor& a, const Tensor& b) { return compare(a, b, "eq", [](auto x, auto y) { return x == y; }); }
Tensor ne(const Tensor& a, const Tensor& b) { return compare(a, b, "ne", [](auto x, auto y) { return x != y; }); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(a, b, "lt", [](auto x, auto y) { return x < y; }); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(a, b, "le", [](auto x, auto y) { return x <= y; }); }
Tensor gt(const Tensor& a, const Tensor& b) { return compare(a, b, "gt", [](auto x, auto y) { return x > y; }); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(a, b, "ge", [](auto x, auto y) { return x >= y; }); }

Tensor operator==(const Tensor& a, double s) { return eq(a, scalar_like(s, a)); }
Tensor operator!=(const Tensor& a, double s) { return ne(a, scalar_like(s, a)); }
Tensor operator<(const Tensor& a, double s) { return lt(a, scalar_like(s, a)); }
Tensor operator<=(const Tensor& a, double s) { return le(a, scalar_like(s, a)); }
Tensor operator>(const Tensor& a, double s) { return gt(a, scalar_like(s, a)); }
Tensor operator>=(const Tensor& a, double s) { return ge(a, scalar_like(s, a)); }
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
