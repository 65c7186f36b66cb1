// In-place arithmetic, as methods: x += y, x -= y, x *= y, x /= y, x.add_(y, alpha), x.mul_(y), with a tensor y that
// broadcasts to x's shape or a number. Not recorded in the graph (tensor.h says what is refused and why). The same
// roundings as PyTorch's kernels, so results equal torch's bit for bit:
//   add_:  x = x + alpha y  (alpha = 1 or -1: x + y or x - y, one rounding)
//   mul_:  x = x * y
//   div_:  x = x / y
// With another alpha, torch's compiled loops fuse x + alpha y into one rounding for some elements and round twice
// for others (it depends on the layout and the block); we round twice everywhere, so a value may differ by an ulp.
#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/inplace.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {

enum class Arith { Add, Mul, Div };

// A number an int64 tensor's arithmetic uses (an operand or alpha) must be whole, as in PyTorch.
void check_whole_for(const Tensor& self, double v, const char* op, const char* what) {
    if (self.dtype() == DType::Int64 && v != std::trunc(v))
        throw std::invalid_argument(std::string(op) + ": " + what + " must be a whole number for an int64 tensor; got " +
                                    number_str(v));
}

// self = self (op) alpha-scaled other, element by element; other broadcast to self's shape.
Tensor& arith_(Tensor& self, const Tensor& other, Arith kind, double alpha, const char* op) {
    inplace::check_destination(self, op);
    if (self.dtype() == DType::Bool)
        throw std::invalid_argument(std::string(op) + ": expected a float32, float64 or int64 tensor; got bool");
    if (self.dtype() != other.dtype())
        throw std::invalid_argument(std::string(op) + ": both tensors must have the same dtype; got " +
                                    dtype_name(self.dtype()) + " and " + dtype_name(other.dtype()));
    if (kind == Arith::Div && self.dtype() == DType::Int64)
        throw std::invalid_argument(std::string(op) + ": true division gives floats, which an int64 tensor cannot "
                                    "hold; got int64 (divide a float copy, x.to(DType::Float32))");
    check_whole_for(self, alpha, op, "alpha");
    inplace::check_broadcasts_to(other, self, op);
    const Tensor y = inplace::readable_source(self, other);
    dispatch_all(self.dtype(), [&]<typename Scalar>() {
        if constexpr (!std::is_same_v<Scalar, bool>) {
            const Scalar a = to_element<Scalar>(alpha, op);
            if (kind == Arith::Add) {
                kernels::zip<Scalar, Scalar>(self, self, y, [a](Scalar x, Scalar v) { return x + a * v; });
            } else if (kind == Arith::Mul) {
                kernels::zip<Scalar, Scalar>(self, self, y, [](Scalar x, Scalar v) { return x * v; });
            } else {
                kernels::zip<Scalar, Scalar>(self, self, y, [](Scalar x, Scalar v) { return x / v; });
            }
        }
    });
    self.bump_version();
    return self;
}

// A number as a 0-d tensor of self's dtype (rounded to float32 for a float32 tensor, as torch rounds it; whole for
// int64), so that x += 0.1 runs the tensor path.
Tensor number_like(const Tensor& self, double v, const char* op) {
    check_whole_for(self, v, op, "the number");
    Tensor out = empty({}, self.dtype() == DType::Bool ? DType::Float32 : self.dtype());
    dispatch_all(out.dtype(), [&]<typename Scalar>() { *out.data<Scalar>() = to_element<Scalar>(v, op); });
    return out;
}

}  // namespace

Tensor& Tensor::add_(const Tensor& other, double alpha) { return arith_(*this, other, Arith::Add, alpha, "add_"); }
Tensor& Tensor::add_(double other, double alpha) { return add_(number_like(*this, other, "add_"), alpha); }
Tensor& Tensor::mul_(const Tensor& other) { return arith_(*this, other, Arith::Mul, 1, "mul_"); }
Tensor& Tensor::mul_(double other) { return mul_(number_like(*this, other, "mul_")); }

Tensor& Tensor::operator+=(const Tensor& other) { return add_(other); }
Tensor& Tensor::operator+=(double other) { return add_(other); }
Tensor& Tensor::operator-=(const Tensor& other) { return arith_(*this, other, Arith::Add, -1, "sub_"); }
Tensor& Tensor::operator-=(double other) { return *this -= number_like(*this, other, "sub_"); }
Tensor& Tensor::operator*=(const Tensor& other) { return mul_(other); }
Tensor& Tensor::operator*=(double other) { return mul_(other); }
Tensor& Tensor::operator/=(const Tensor& other) { return arith_(*this, other, Arith::Div, 1, "div_"); }
Tensor& Tensor::operator/=(double other) { return *this /= number_like(*this, other, "div_"); }

}  // namespace ag
