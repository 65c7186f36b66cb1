// matmul: a (..., M, K) @ b (..., K, N) -> (..., M, N) with broadcast batch dims, on OpenBLAS gemm.
#include <algorithm>
#include <climits>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {

// How BLAS reads the last two dims of t (as stored, transposed, or not at all: then the caller copies it).
kernels::BlasLayout layout_of(const Tensor& t) {
    const int64_t n = t.dim();
    return kernels::blas_layout(t.shape()[n - 2], t.shape()[n - 1], t.strides()[n - 2], t.strides()[n - 1]);
}

// out (contiguous, batch + [M, N]) = a @ b, where a and b are at least 2-D and BLAS-readable, batch dims broadcast.
template <typename Scalar>
void batched_gemm(const Tensor& a, const Tensor& b, const Tensor& out) {
    const int64_t M = out.size(-2), N = out.size(-1), K = a.size(-1);
    Shape batch(out.shape().begin(), out.shape().end() - 2);
    Shape a_batch(a.shape().begin(), a.shape().end() - 2), b_batch(b.shape().begin(), b.shape().end() - 2);
    Shape sa = broadcast_strides(a_batch, Shape(a.strides().begin(), a.strides().end() - 2), batch);
    Shape sb = broadcast_strides(b_batch, Shape(b.strides().begin(), b.strides().end() - 2), batch);
    const kernels::BlasLayout la = layout_of(a), lb = layout_of(b);
    const Scalar* pa = a.data<Scalar>();
    const Scalar* pb = b.data<Scalar>();
    Scalar* po = out.data<Scalar>();
    kernels::parallel_batches(numel_of(batch), 2.0 * M * N * K, [&](int64_t i) {
        int64_t oa = 0, ob = 0, rest = i;
        for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
            oa += (rest % batch[d]) * sa[d];
            ob += (rest % batch[d]) * sb[d];
            rest /= batch[d];
        }
        kernels::gemm(la.trans, lb.trans, M, N, K, Scalar(1), pa + oa, la.ld, pb + ob, lb.ld, Scalar(0), po + i * M * N, N);
    });
}

// The forward product of two tensors of at least 2 dims (no autograd).
Tensor matmul_forward(Tensor a, Tensor b) {
    const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
    if (b.size(-2) != K)
        throw std::invalid_argument("matmul: inner dimensions must match; got " + shape_str(a.shape()) + " @ " +
                                    shape_str(b.shape()));
    if (std::max({M, N, K}) > INT_MAX) throw std::invalid_argument("matmul: a dim exceeds BLAS's 32-bit sizes");
    Shape batch;
    try {
        batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                 Shape(b.shape().begin(), b.shape().end() - 2), "matmul");
    } catch (const std::invalid_argument&) {  // name the whole shapes, not only their batch dims
        throw std::invalid_argument("matmul: batch dimensions cannot be broadcast; got " + shape_str(a.shape()) + " @ " +
                                    shape_str(b.shape()));
    }
    // (B, T, K) @ (K, N): fold the batch into the rows and make one big gemm instead of B small ones.
    if (b.dim() == 2 && a.dim() > 2 && a.is_contiguous()) {
        Shape out_shape = batch;
        out_shape.insert(out_shape.end(), {M, N});
        return reshape(matmul_forward(reshape(a, {numel_of(a.shape(), 0, a.dim() - 1), K}), b), out_shape);
    }
    Shape out_shape = batch;
    out_shape.insert(out_shape.end(), {M, N});
    if (K == 0) return zeros(out_shape, a.dtype());  // a sum of no products
    Tensor out = empty(out_shape, a.dtype());         // gemm (beta = 0) writes every element
    if (out.numel() == 0) return out;
    if (!layout_of(a).ok) a = a.contiguous();
    if (!layout_of(b).ok) b = b.contiguous();
    dispatch_floating(a.dtype(), "matmul", [&]<typename Scalar>() { batched_gemm<Scalar>(a, b, out); });
    return out;
}

// a^T @ d (K, N), the gradient of b in a (M, K) @ b (K, N). When b is the transpose of a row-major (N, K) matrix,
// as w^T in linear, it is computed as (d^T @ a)^T instead: the transpose of a row-major result, so that w's own
// gradient arrives row-major (PyTorch's grad_weight = grad_output^T @ input) and adds into w.grad in one flat pass.
Tensor right_gradient(const Tensor& a, const Tensor& d, const Tensor& b) {
    const bool b_is_transposed = b.size(0) > 1 && b.size(1) > 1 && b.strides()[0] == 1 && b.strides()[1] == b.size(0);
    if (b_is_transposed) return transpose(matmul(transpose(d, 0, 1), a), 0, 1);
    return matmul(transpose(a, 0, 1), d);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    if (a.dim() == 0 || b.dim() == 0)
        throw std::invalid_argument("matmul: both arguments need at least 1 dim; got " + shape_str(a.shape()) + " @ " +
                                    shape_str(b.shape()));
    if (a.dtype() != b.dtype())
        throw std::invalid_argument("matmul: both tensors must have the same dtype; got " + dtype_name(a.dtype()) +
                                    " and " + dtype_name(b.dtype()));
    // A 1-D operand becomes a matrix, (K) -> (1, K) on the left and (K) -> (K, 1) on the right, and the added dim
    // is dropped from the result.
    Tensor a2 = a.dim() == 1 ? unsqueeze(a.detach(), 0) : a.detach();
    Tensor b2 = b.dim() == 1 ? unsqueeze(b.detach(), 1) : b.detach();
    if (a2.size(-1) != b2.size(-2))
        throw std::invalid_argument("matmul: inner dimensions must match; got " + shape_str(a.shape()) + " @ " +
                                    shape_str(b.shape()));
    Tensor out2 = matmul_forward(a2, b2);
    Shape out_shape = out2.shape();
    if (b.dim() == 1) out_shape.erase(out_shape.end() - 1);
    if (a.dim() == 1) out_shape.erase(out_shape.end() - (b.dim() == 1 ? 1 : 2));
    Tensor out = out_shape == out2.shape() ? out2 : reshape(out2, out_shape);
    if (needs_grad(a, b))
        set_grad_fn(out, "MatmulBackward", {&a, &b},
                    /*saved=*/{saved_if(b.requires_grad(), a), saved_if(a.requires_grad(), b)},
                    [a, b, a2, b2, out2_shape = out2.shape()](const Tensor& dout) {
            // da += dout @ b^T ; db += a^T @ dout   (then summed over the batch dims that broadcasting added)
            Tensor d = reshape(dout, out2_shape);
            if (a.requires_grad()) accumulate_grad(a, reshape(sum_to(matmul(d, transpose(b2, -1, -2)), a2.shape()), a.shape()));
            if (!b.requires_grad()) return;
            if (b2.dim() == 2 && a2.dim() > 2) {  // one gemm over all rows: (K, B*T) @ (B*T, N)
                const int64_t rows = numel_of(a2.shape(), 0, a2.dim() - 1);  // not -1: K or N may be 0
                Tensor rows_a = reshape(a2, {rows, a2.size(-1)}), rows_d = reshape(d, {rows, d.size(-1)});
                accumulate_grad(b, reshape(right_gradient(rows_a, rows_d, b2), b.shape()));
            } else if (b2.dim() == 2 && a2.dim() == 2) {
                accumulate_grad(b, reshape(right_gradient(a2, d, b2), b.shape()));
            } else {
                accumulate_grad(b, reshape(sum_to(matmul(transpose(a2, -1, -2), d), b2.shape()), b.shape()));
            }
        });
    return out;
}

}  // namespace ag
