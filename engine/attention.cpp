// causal_attention and causal_self_attention: the fused ops around kernels::causal_attention_forward/backward.
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {

// Where q, k and v sit: (B, T, hs) each, rows `ld` elements apart, inside the contiguous tensors that hold them.
struct QKV {
    Tensor q_base, k_base, v_base;  // contiguous holders (the same tensor for a packed projection)
    int64_t q_at, k_at, v_at;       // element offset of q, k, v in their holder
    int64_t ld, B, T, hs;
};

// What the forward leaves for the backward: its output, each row's log-sum-exp and, when T fits one block of the
// kernel (the (T, T) probabilities are then small), the probabilities themselves, so the backward skips recomputing.
struct Saved {
    Tensor out, lse, probs;
};

Saved attention_forward(const QKV& in, double scale, bool for_backward) {
    const DType dtype = in.q_base.dtype();
    Saved s{empty({in.B, in.T, in.hs}, dtype), empty({in.B, in.T}, dtype), Tensor()};
    if (for_backward && in.T <= kernels::kAttentionBlock) s.probs = empty({in.B, in.T, in.T}, dtype);
    dispatch_floating(dtype, "causal_attention", [&]<typename E>() {
        kernels::causal_attention_forward<E>(in.q_base.data<E>() + in.q_at, in.k_base.data<E>() + in.k_at,
                                             in.v_base.data<E>() + in.v_at, in.ld, s.out.data<E>(), s.lse.data<E>(),
                                             s.probs.defined() ? s.probs.data<E>() : nullptr, in.B, in.T, in.hs, scale);
    });
    return s;
}

// dq, dk, dv += the gradients, written where `grad` (laid out like `in`, offsets and rows ld apart) keeps them.
void attention_backward(const QKV& in, const QKV& grad, const Saved& saved, const Tensor& dout, double scale) {
    Tensor d = dout.contiguous();
    dispatch_floating(d.dtype(), "causal_attention", [&]<typename E>() {
        kernels::causal_attention_backward<E>(
            in.q_base.data<E>() + in.q_at, in.k_base.data<E>() + in.k_at, in.v_base.data<E>() + in.v_at, in.ld,
            saved.out.data<E>(), saved.lse.data<E>(), saved.probs.defined() ? saved.probs.data<E>() : nullptr,
            d.data<E>(), grad.q_base.data<E>() + grad.q_at, grad.k_base.data<E>() + grad.k_at,
            grad.v_base.data<E>() + grad.v_at, grad.ld, in.B, in.T, in.hs, scale);
    });
}

}  // namespace

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
    if (q.dim() != 3 || k.shape() != q.shape() || v.shape() != q.shape())
        throw std::invalid_argument("causal_attention: q, k and v must all be (B, T, hs) of one shape; got " +
                                    shape_str(q.shape()) + ", " + shape_str(k.shape()) + " and " + shape_str(v.shape()));
    if (k.dtype() != q.dtype() || v.dtype() != q.dtype())
        throw std::invalid_argument("causal_attention: q, k and v must have one dtype; got " + dtype_name(q.dtype()) +
                                    ", " + dtype_name(k.dtype()) + " and " + dtype_name(v.dtype()));
    const int64_t B = q.size(0), T = q.size(1), hs = q.size(2);
    const QKV in{q.detach().contiguous(), k.detach().contiguous(), v.detach().contiguous(), 0, 0, 0, hs, B, T, hs};
    const bool grad = needs_grad({&q, &k, &v});
    Saved saved = attention_forward(in, scale, grad);
    Tensor out = saved.out;
    saved.out = out.detach();
    if (grad)
        set_grad_fn(out, "CausalAttentionBackward", {&q, &k, &v}, /*saved=*/{in.q_base, in.k_base, in.v_base, saved.out},
                    [q, k, v, in, saved, scale](const Tensor& dout) {
            // dq, dk, dv from the probabilities (see kernels_attention.cpp for the formulas)
            const QKV grad{zeros(q.shape(), q.dtype()), zeros(q.shape(), q.dtype()),
                           zeros(q.shape(), q.dtype()), 0, 0, 0, in.hs, in.B, in.T, in.hs};
            attention_backward(in, grad, saved, dout, scale);
            accumulate_grad(q, grad.q_base);
            accumulate_grad(k, grad.k_base);
            accumulate_grad(v, grad.v_base);
        });
    return out;
}

Tensor causal_self_attention(const Tensor& kqv, double scale) {
    if (kqv.dim() != 3 || kqv.size(2) % 3 != 0 || kqv.size(2) == 0)
        throw std::invalid_argument("causal_self_attention: kqv must be (B, T, 3 hs), keys, queries and values side by "
                                    "side; got shape " + shape_str(kqv.shape()));
    const int64_t B = kqv.size(0), T = kqv.size(1), hs = kqv.size(2) / 3;
    const Tensor base = kqv.detach().contiguous();
    const QKV in{base, base, base, hs, 0, 2 * hs, 3 * hs, B, T, hs};  // k | q | v along the last dim
    const bool grad = needs_grad(kqv);
    Saved saved = attention_forward(in, scale, grad);
    Tensor out = saved.out;
    saved.out = out.detach();
    if (grad)
        set_grad_fn(out, "CausalSelfAttentionBackward", {&kqv}, /*saved=*/{base, saved.out},
                    [kqv, in, saved, scale](const Tensor& dout) {
            // [dk | dq | dv] in one buffer: the packed projection gets one gradient, no slicing
            const Tensor dkqv = zeros(kqv.shape(), kqv.dtype());
            attention_backward(in, QKV{dkqv, dkqv, dkqv, in.q_at, in.k_at, in.v_at, in.ld, in.B, in.T, in.hs},
                               saved, dout, scale);
            accumulate_grad(kqv, dkqv);
        });
    return out;
}

}  // namespace ag
