// causal_attention: the fused op around kernels::causal_attention_forward/backward.
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
    if (q.dim() != 3 || k.shape() != q.shape() || v.shape() != q.shape())
        throw std::invalid_argument("causal_attention: q, k and v must all be (B, T, hs) of one shape; got " +
                                    shape_str(q.shape()) + ", " + shape_str(k.shape()) + " and " + shape_str(v.shape()));
    if (k.dtype() != q.dtype() || v.dtype() != q.dtype())
        throw std::invalid_argument("causal_attention: q, k and v must have one dtype; got " + dtype_name(q.dtype()) +
                                    ", " + dtype_name(k.dtype()) + " and " + dtype_name(v.dtype()));
    const int64_t B = q.size(0), T = q.size(1), hs = q.size(2);
    Tensor qc = q.detach().contiguous(), kc = k.detach().contiguous(), vc = v.detach().contiguous();
    Tensor out = empty(q.shape(), q.dtype());
    Tensor lse = empty({B, T}, q.dtype());
    dispatch_floating(q.dtype(), "causal_attention", [&]<typename E>() {
        kernels::causal_attention_forward<E>(qc.data<E>(), kc.data<E>(), vc.data<E>(), out.data<E>(), lse.data<E>(), B,
                                             T, hs, scale);
    });
    if (needs_grad({&q, &k, &v}))
        set_grad_fn(out, "CausalAttentionBackward", {&q, &k, &v},
                    [q, k, v, qc, kc, vc, lse, y = out.detach(), scale](const Tensor& dout) {
                        // dq, dk, dv from the recomputed probabilities (see kernels_attention.cpp for the formulas)
                        const int64_t B = qc.size(0), T = qc.size(1), hs = qc.size(2);
                        Tensor d = dout.contiguous();
                        Tensor dq = zeros(qc.shape(), qc.dtype()), dk = zeros(qc.shape(), qc.dtype()),
                               dv = zeros(qc.shape(), qc.dtype());
                        dispatch_floating(qc.dtype(), "causal_attention", [&]<typename E>() {
                            kernels::causal_attention_backward<E>(qc.data<E>(), kc.data<E>(), vc.data<E>(), y.data<E>(),
                                                                  lse.data<E>(), d.data<E>(), dq.data<E>(), dk.data<E>(),
                                                                  dv.data<E>(), B, T, hs, scale);
                        });
                        accumulate_grad(q, dq);
                        accumulate_grad(k, dk);
                        accumulate_grad(v, dv);
                    });
    return out;
}

}  // namespace ag
