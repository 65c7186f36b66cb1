// Causal attention in blocks of query rows, without the T x T matrix (the idea of FlashAttention, on BLAS).
//
// Glossary: q, k, v are (B, T, hs) with rows `ld` elements apart (ld = hs when contiguous, 3 hs for the columns of
// a packed (B, T, 3 hs) projection); dq, dk, dv likewise with rows `ld_grad` apart; out and dout are (B, T, hs)
// contiguous; lse (B, T) is each query row's log-sum-exp of its scores.
// For a block of query rows [i0, i1) only keys [0, i1) can be visible (causal), so every product below covers the
// lower-triangle blocks only: about half the flops of the full (T, T) products at large T.
//
// forward, per block:   S = scale * Q_blk @ K[0:i1]^T                  (rows, i1)
//                       P = softmax(S) over the visible keys j <= i     (0 elsewhere), lse = m + log(sum exp(S - m))
//                       out_blk = P @ V[0:i1]                           (rows, hs)
// backward, per block:  P = exp(S - lse) recomputed from q, k and the saved lse (or, when T fits one block, the
//                         forward's P, kept in `probs`: the (T, T) matrix is then no larger than a block)
//                       dV[0:i1] += P^T @ dout_blk
//                       dP = dout_blk @ V[0:i1]^T
//                       dS = P * (dP - rowsum(dout_blk * out_blk))      (the softmax rule; rowsum(P * dP) equals it)
//                       dQ_blk   += scale * dS @ K[0:i1]
//                       dK[0:i1] += scale * dS^T @ Q_blk
// Batches run in parallel (each thread owns its batch's dq, dk, dv); the gemms inside are then single-threaded.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "engine/kernels.h"

namespace ag::kernels {

namespace {

// S[r, :] -> P[r, :] in place over the first `visible` entries, zeros after; returns the row's log-sum-exp.
template <typename T>
T softmax_row(T* s, int64_t visible, int64_t width) {
    const T m = row_max(s, visible);
#pragma omp simd
    for (int64_t j = 0; j < visible; ++j) s[j] = exp_nonpositive(s[j] - m);
    const double total = row_sum(s, visible);
    const T inv = static_cast<T>(1.0 / total);
#pragma omp simd
    for (int64_t j = 0; j < visible; ++j) s[j] *= inv;
    std::fill(s + visible, s + width, T(0));
    return m + static_cast<T>(std::log(total));
}

// Scores of query rows [i0, i1) against keys [0, i1): S = scale * Q_blk @ K^T, row stride i1.
template <typename T>
void block_scores(const T* q, const T* k, int64_t ld, T* S, int64_t i0, int64_t i1, int64_t hs, double scale) {
    gemm(false, true, i1 - i0, i1, hs, T(scale), q + i0 * ld, ld, k, ld, T(0), S, i1);
}

// One batch. `probs` is null, or (T, T) to keep P in when T fits one block.
template <typename T>
void forward_one(const T* q, const T* k, const T* v, int64_t ld, T* out, T* lse, T* probs, int64_t Tn, int64_t hs,
                 double scale) {
    std::vector<T> block(probs ? 0 : static_cast<size_t>(std::min(kAttentionBlock, Tn) * Tn));
    T* S = probs ? probs : block.data();
    for (int64_t i0 = 0; i0 < Tn; i0 += kAttentionBlock) {
        const int64_t i1 = std::min(Tn, i0 + kAttentionBlock), rows = i1 - i0;
        block_scores(q, k, ld, S, i0, i1, hs, scale);
        for (int64_t r = 0; r < rows; ++r) lse[i0 + r] = softmax_row(S + r * i1, i0 + r + 1, i1);
        gemm(false, false, rows, hs, i1, T(1), S, i1, v, ld, T(0), out + i0 * hs, hs);
    }
}

// One batch. `probs` is null (recompute P) or the forward's (T, T) P when T fits one block.
template <typename T>
void backward_one(const T* q, const T* k, const T* v, int64_t ld, const T* out, const T* lse, const T* probs,
                  const T* dout, T* dq, T* dk, T* dv, int64_t ld_grad, int64_t Tn, int64_t hs, double scale) {
    const size_t block_size = static_cast<size_t>(std::min(kAttentionBlock, Tn) * Tn);
    std::vector<T> recomputed(probs ? 0 : block_size), dP(block_size);
    for (int64_t i0 = 0; i0 < Tn; i0 += kAttentionBlock) {
        const int64_t i1 = std::min(Tn, i0 + kAttentionBlock), rows = i1 - i0;
        const T* P = probs;
        if (!probs) {
            T* S = recomputed.data();
            block_scores(q, k, ld, S, i0, i1, hs, scale);
            for (int64_t r = 0; r < rows; ++r) {  // P = exp(S - lse) where visible, else 0
                T* p = S + r * i1;
                const int64_t visible = i0 + r + 1;
                const T row_lse = lse[i0 + r];
#pragma omp simd
                for (int64_t j = 0; j < visible; ++j) p[j] = exp_nonpositive(p[j] - row_lse);  // S <= lse
                std::fill(p + visible, p + i1, T(0));
            }
            P = S;
        }
        const T* dout_blk = dout + i0 * hs;
        gemm(true, false, i1, hs, rows, T(1), P, i1, dout_blk, hs, T(1), dv, ld_grad);
        gemm(false, true, rows, i1, hs, T(1), dout_blk, hs, v, ld, T(0), dP.data(), i1);
        for (int64_t r = 0; r < rows; ++r) {  // dS = P * (dP - D), D = rowsum(dout * out), written over dP
            const T* dout_row = dout_blk + r * hs;
            const T* out_row = out + (i0 + r) * hs;
            double D = 0;
#pragma omp simd reduction(+ : D)
            for (int64_t c = 0; c < hs; ++c) D += static_cast<double>(dout_row[c]) * out_row[c];
            T* d = dP.data() + r * i1;
            const T* p = P + r * i1;
            const T Dt = static_cast<T>(D);
#pragma omp simd
            for (int64_t j = 0; j < i1; ++j) d[j] = p[j] * (d[j] - Dt);
        }
        gemm(false, false, rows, hs, i1, T(scale), dP.data(), i1, k, ld, T(1), dq + i0 * ld_grad, ld_grad);
        gemm(true, false, i1, hs, rows, T(scale), dP.data(), i1, q + i0 * ld, ld, T(1), dk, ld_grad);
    }
}

// Enough work to split the batches over threads (the attention flops of one batch: ~4 T^2 hs, halved by causality).
bool worth_parallel(int64_t B, int64_t Tn, int64_t hs) { return B > 1 && 2.0 * Tn * Tn * hs * B >= 1.0e6; }

}  // namespace

template <typename T>
void causal_attention_forward(const T* q, const T* k, const T* v, int64_t ld, T* out, T* lse, T* probs, int64_t B,
                              int64_t Tn, int64_t hs, double scale) {
    if (probs && Tn > kAttentionBlock) throw std::logic_error("causal_attention_forward: probs need T <= one block");
    parallel_for(B, worth_parallel(B, Tn, hs), [&](int64_t b) {
        const int64_t in = b * Tn * ld, o = b * Tn * hs;
        forward_one(q + in, k + in, v + in, ld, out + o, lse + b * Tn, probs ? probs + b * Tn * Tn : nullptr, Tn, hs,
                    scale);
    });
}

template <typename T>
void causal_attention_backward(const T* q, const T* k, const T* v, int64_t ld, const T* out, const T* lse,
                               const T* probs, const T* dout, T* dq, T* dk, T* dv, int64_t ld_grad, int64_t B,
                               int64_t Tn, int64_t hs, double scale) {
    if (probs && Tn > kAttentionBlock) throw std::logic_error("causal_attention_backward: probs need T <= one block");
    parallel_for(B, worth_parallel(B, Tn, hs), [&](int64_t b) {
        const int64_t in = b * Tn * ld, o = b * Tn * hs, g = b * Tn * ld_grad;
        backward_one(q + in, k + in, v + in, ld, out + o, lse + b * Tn, probs ? probs + b * Tn * Tn : nullptr,
                     dout + o, dq + g, dk + g, dv + g, ld_grad, Tn, hs, scale);
    });
}

template void causal_attention_forward<float>(const float*, const float*, const float*, int64_t, float*, float*,
                                              float*, int64_t, int64_t, int64_t, double);
template void causal_attention_forward<double>(const double*, const double*, const double*, int64_t, double*, double*,
                                               double*, int64_t, int64_t, int64_t, double);
template void causal_attention_backward<float>(const float*, const float*, const float*, int64_t, const float*,
                                               const float*, const float*, const float*, float*, float*, float*,
                                               int64_t, int64_t, int64_t, int64_t, double);
template void causal_attention_backward<double>(const double*, const double*, const double*, int64_t, const double*,
                                                const double*, const double*, const double*, double*, double*,
                                                double*, int64_t, int64_t, int64_t, int64_t, double);

}  // namespace ag::kernels
