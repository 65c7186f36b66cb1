// linear: the affine map of every Linear layer, y = x @ w^T + b, as one op over the rows of x (all its dims but the
// last). The bias is written into y first and the product added onto it by one gemm (BLAS's C = A B + C, as
// PyTorch's addmm), so y is made in one pass and the graph gets one node instead of a transpose, a product and an add.
//   x (..., in), w (out, in), b (out) -> y (..., out);   R = the rows of x (its elements / in)
//   forward   y[r, o] = b[o] + sum_i x[r, i] w[o, i]
//   backward  dx = dout @ w            (R, out) @ (out, in)
//             dw = dout^T @ x          (out, R) @ (R, in): summed over every row
//             db = dout summed over every row
// linear_relu is relu(linear(x, w, b)) in the same op: the ReLU is applied to y in place, so the product before it
// is never a tensor of its own (at the GPT's feed-forward, the largest activation of a layer), and the backward
// first zeroes dout where y <= 0 (exactly where the product was <= 0), then is linear's.
#include <algorithm>
#include <climits>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/elementwise.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {

// c (M, N) = a @ b + beta c, row-major, a (M, K) or stored transposed, b (K, N) or stored transposed. Sizes of 0
// are fine: no element (M or N is 0), or a sum of no products (K is 0: c = beta c), which BLAS would refuse.
template <typename Scalar>
void product(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const Scalar* a, const Scalar* b,
             Scalar beta, Scalar* c) {
    if (M == 0 || N == 0) return;
    if (K == 0) {
        if (beta == Scalar(0)) std::fill(c, c + M * N, Scalar(0));
        return;
    }
    kernels::gemm(trans_a, trans_b, M, N, K, Scalar(1), a, trans_a ? M : K, b, trans_b ? K : N, beta, c, N);
}

// Which arguments get a gradient, fixed when the forward runs (as the tensors it saved): a weight that starts to
// require grad later gets none from this graph, whose x was not saved for it.
struct GradFlags {
    bool x, weight, bias;
};
GradFlags grad_flags(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    return {x.requires_grad(), weight.requires_grad(), bias.defined() && bias.requires_grad()};
}

// A row-major copy of t, or t itself when it is one; never recorded in the graph.
Tensor row_major(const Tensor& t) { return t.is_contiguous() ? t : t.detach().contiguous(); }

// linear, or linear_relu when `relu`; `op` names the function in errors.
Tensor affine(const Tensor& x, const Tensor& weight, const Tensor& bias, bool relu, const char* op) {
    const auto shapes = [&] {  // for the error messages only: not built when the arguments are fine
        return "x " + shape_str(x.shape()) + ", weight " + shape_str(weight.shape()) +
               (bias.defined() ? ", bias " + shape_str(bias.shape()) : std::string());
    };
    if (x.dim() == 0 || weight.dim() != 2)
        throw std::invalid_argument(std::string(op) + ": x must be (..., in) and weight (out, in); got " + shapes());
    if (x.size(-1) != weight.size(1))
        throw std::invalid_argument(std::string(op) + ": x's last dim must equal weight's in (its dim 1); got " + shapes());
    if (bias.defined() && (bias.dim() != 1 || bias.size(0) != weight.size(0)))
        throw std::invalid_argument(std::string(op) + ": bias must be (out), out = weight's dim 0; got " + shapes());
    if (x.dtype() != weight.dtype() || (bias.defined() && bias.dtype() != x.dtype()))
        throw std::invalid_argument(std::string(op) + ": x, weight and bias must have the same dtype; got " +
                                    dtype_name(x.dtype()) + ", " + dtype_name(weight.dtype()) +
                                    (bias.defined() ? ", " + dtype_name(bias.dtype()) : std::string()));
    if (!is_floating(x.dtype()))
        throw std::invalid_argument(std::string(op) + ": expected floating-point tensors; got " + dtype_name(x.dtype()));
    const int64_t in = weight.size(1), out = weight.size(0), rows = numel_of(x.shape(), 0, x.dim() - 1);
    if (std::max({rows, in, out}) > INT_MAX)
        throw std::invalid_argument(std::string(op) + ": a size exceeds BLAS's 32-bit sizes; got " + shapes());

    const Tensor xr = row_major(x), wr = row_major(weight);
    Shape y_shape = x.shape();
    y_shape.back() = out;
    Tensor y = empty(y_shape, x.dtype());
    dispatch_floating(x.dtype(), op, [&]<typename Scalar>() {
        Scalar* py = y.data<Scalar>();
        if (bias.defined()) {  // y[r] = b for every row, then y += x @ w^T
            const Tensor br = row_major(bias);
            const Scalar* pb = br.data<Scalar>();
            kernels::parallel_for(rows, rows * out >= kernels::kParallelGrain,
                                  [&](int64_t r) { std::copy(pb, pb + out, py + r * out); });
        }
        product<Scalar>(false, true, rows, out, in, xr.data<Scalar>(), wr.data<Scalar>(),
                        bias.defined() ? Scalar(1) : Scalar(0), py);
        if (relu)  // y = max(y, 0), written so that NaN stays NaN (as torch.relu)
            kernels::parallel_for(rows, rows * out >= kernels::kParallelGrain, [&](int64_t r) {
                Scalar* row = py + r * out;
                for (int64_t o = 0; o < out; ++o) row[o] = row[o] < 0 ? Scalar(0) : row[o];
            });
    });
    if (!needs_grad({&x, &weight, &bias})) return y;
    const Tensor y_values = relu ? y.detach() : Tensor();  // where the gradient flows: y > 0 (or NaN)
    const GradFlags need = grad_flags(x, weight, bias);
    const Tensor x_read = saved_if(need.weight, xr), w_read = saved_if(need.x, wr);  // what the backward reads
    set_grad_fn(y, relu ? "LinearReluBackward" : "LinearBackward", {&x, &weight, &bias},
                /*saved=*/{x_read, w_read, y_values},
                [x, weight, bias, x_read, w_read, y_values, need, rows, in, out, op](const Tensor& dout) {
            Tensor d = dout.contiguous();  // (R, out) as stored
            if (y_values.defined())        // through the ReLU: d = dout where y > 0, else 0
                d = binary(d, y_values, op, [](auto g, auto v) { return v <= 0 ? decltype(g)(0) : g; });
            dispatch_floating(d.dtype(), op, [&]<typename Scalar>() {
                if (need.x) {  // dx = dout @ w
                    Tensor dx = empty(x.shape(), d.dtype());
                    product<Scalar>(false, false, rows, in, out, d.data<Scalar>(), w_read.data<Scalar>(), 0,
                                    dx.data<Scalar>());
                    accumulate_grad(x, dx);
                }
                if (need.weight) {  // dw = dout^T @ x
                    Tensor dw = empty({out, in}, d.dtype());
                    product<Scalar>(true, false, out, in, rows, d.data<Scalar>(), x_read.data<Scalar>(), 0,
                                    dw.data<Scalar>());
                    accumulate_grad(weight, dw);
                }
            });
            if (need.bias) accumulate_grad(bias, sum_to(d, bias.shape()));  // db
        });
    return y;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    return affine(x, weight, bias, /*relu=*/false, "linear");
}

Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    return affine(x, weight, bias, /*relu=*/true, "linear_relu");
}

}  // namespace ag
