// self_attention and self_attention_weights: the fused op around kernels::attention_forward / attention_backward.
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace ag {

namespace {

// kqv must be (B, T, 3 C) with C a positive multiple of n_head.
kernels::AttentionShape attention_shape(const Tensor& kqv, int64_t n_head, bool causal, double scale, const char* op) {
    if (n_head < 1)
        throw std::invalid_argument(std::string(op) + ": n_head must be positive; got " + std::to_string(n_head));
    if (kqv.dim() != 3 || kqv.size(2) == 0 || kqv.size(2) % (3 * n_head) != 0)
        throw std::invalid_argument(std::string(op) + ": kqv must be (B, T, 3 C), the keys, queries and values of " +
                                    std::to_string(n_head) + " head(s) side by side, with C a positive multiple of " +
                                    std::to_string(n_head) + "; got shape " + shape_str(kqv.shape()));
    if (std::max(kqv.size(1), kqv.size(2)) > std::numeric_limits<int>::max())
        throw std::invalid_argument(std::string(op) + ": T and 3 C must fit BLAS's 32-bit sizes; got shape " +
                                    shape_str(kqv.shape()));
    return {kqv.size(0), n_head, kqv.size(1), kqv.size(2) / (3 * n_head), causal, scale};
}

// The forward's results: out (B, T, C), lse (B, n_head, T), probs (B, n_head, T, T) when asked to keep them, and
// dropout's mask keep (n_head, B, T, T) when there is dropout.
struct Saved {
    Tensor out, lse, probs, keep;
};

template <typename Scalar>
const Scalar* data_or_null(const Tensor& t) { return t.defined() ? t.template data<Scalar>() : nullptr; }

Saved forward(const Tensor& kqv, const Tensor& keep, const kernels::AttentionShape& s, bool keep_probs) {
    const DType dtype = kqv.dtype();
    Saved r{empty({s.B, s.T, s.n_head * s.hs}, dtype), empty({s.B, s.n_head, s.T}, dtype), Tensor(), keep};
    if (keep_probs) r.probs = empty({s.B, s.n_head, s.T, s.T}, dtype);
    dispatch_floating(dtype, "self_attention", [&]<typename Scalar>() {
        kernels::attention_forward<Scalar>(kqv.data<Scalar>(), data_or_null<bool>(keep), r.out.data<Scalar>(),
                                           r.lse.data<Scalar>(), keep_probs ? r.probs.data<Scalar>() : nullptr, s);
    });
    return r;
}

}  // namespace

Tensor self_attention(const Tensor& kqv, int64_t n_head, bool causal, double scale, double dropout, Generator* gen) {
    kernels::AttentionShape s = attention_shape(kqv, n_head, causal, scale, "self_attention");
    if (!(dropout >= 0 && dropout < 1))
        throw std::invalid_argument("self_attention: dropout must be in [0, 1); got " + number_str(dropout));
    const Tensor in = kqv.detach().contiguous();
    // Dropout on the weights, drawn as the lecture's heads draw it: head 0's (B, T, T) mask, then head 1's, ...
    // over every entry (the masked future too), one double uniform each.
    Tensor keep;
    if (dropout > 0) {
        keep = empty({s.n_head, s.B, s.T, s.T}, DType::Bool);
        (gen ? *gen : default_generator()).fill_bernoulli(keep.data<bool>(), keep.numel(), 1 - dropout);
        s.drop_scale = dispatch_floating(kqv.dtype(), "self_attention", [&]<typename Scalar>() {
            return static_cast<double>(Scalar(1) / static_cast<Scalar>(1 - dropout));  // rounded like PyTorch's noise
        });
    }
    const bool grad = needs_grad(kqv);
    // When T fits one block, the (T, T) probabilities are no larger than the kernel's own scratch: keep them, and
    // the backward skips recomputing them. Beyond that, it recomputes them from kqv and lse.
    Saved saved = forward(in, keep, s, grad && s.T <= kernels::kAttentionBlock);
    Tensor out = saved.out;
    if (!grad) return out;
    saved.out = out.detach();  // the result, without its grad_fn (no cycle)
    set_grad_fn(out, "SelfAttentionBackward", {&kqv}, /*saved=*/{in, saved.out}, [kqv, in, saved, s](const Tensor& d) {
        // dkqv = [dk | dq | dv] of every head, in one buffer laid out like kqv (the formulas: kernels_attention.cpp)
        const Tensor dout = d.contiguous();
        const Tensor dkqv = zeros(kqv.shape(), kqv.dtype());
        dispatch_floating(kqv.dtype(), "self_attention", [&]<typename Scalar>() {
            kernels::attention_backward<Scalar>(in.data<Scalar>(), data_or_null<bool>(saved.keep),
                                                saved.out.data<Scalar>(), saved.lse.data<Scalar>(),
                                                data_or_null<Scalar>(saved.probs), dout.data<Scalar>(),
                                                dkqv.data<Scalar>(), s);
        });
        accumulate_grad(kqv, dkqv);
    });
    return out;
}

Tensor self_attention_weights(const Tensor& kqv, int64_t n_head, bool causal, double scale) {
    const kernels::AttentionShape s = attention_shape(kqv, n_head, causal, scale, "self_attention_weights");
    return forward(kqv.detach().contiguous(), Tensor(), s, /*keep_probs=*/true).probs;
}

}  // namespace ag
