// Self-attention in blocks of query rows, all heads at once, without building the (T, T) weights (the idea of
// FlashAttention, on BLAS).
//
// Glossary: the packed projection kqv (B, T, 3 C) holds, along its last dim, the keys of every head, then their
// queries, then their values; head h's (T, hs) block of each starts hs h columns into its third, and its rows are
// ld = 3 C elements apart (C = n_head hs). out and dout (B, T, C) hold the heads side by side (rows C apart).
// lse (B, n_head, T) is each query row's log-sum-exp of its scores. One (batch, head) pair is a "unit".
// With the causal mask, the query rows [i0, i1) of a block can see keys [0, i1) only, so every product below covers
// the lower-triangle blocks only (about half the flops at large T); without it, every block sees all T keys.
//
// forward, per block:   S = scale * Q_blk @ K[0:w]^T                   (rows, w), w = i1 causal, else T
//                       P = softmax(S) over the visible keys            (0 elsewhere), lse = m + log(sum exp(S - m))
//                       out_blk = P @ V[0:w]                            (rows, hs)
// with dropout:         out_blk = (P * noise) @ V[0:w], noise = keep / (1 - p), the mask drawn before the call
// backward, per block:  P = exp(S - lse) recomputed from q, k and the saved lse (or read from the forward's kept P)
//                       dV[0:w] += P^T @ dout_blk                      ((P * noise)^T with dropout)
//                       dP = dout_blk @ V[0:w]^T                        (times noise with dropout)
//                       dS = P * (dP - rowsum(dout_blk * out_blk))      (the softmax rule; rowsum(P * dP) equals it)
//                       dQ_blk  += scale * dS @ K[0:w]
//                       dK[0:w] += scale * dS^T @ Q_blk
// Units run in parallel (each thread owns its unit's columns of out and dkqv); the gemms inside are then
// single-threaded.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels.h"

namespace ag::kernels {

namespace {

// Where one unit's blocks sit: k, q, v rows ld apart (and so their gradients); out, dout rows ld_out apart; its
// dropout mask keep (T, T), or null without dropout.
template <typename Scalar>
struct Unit {
    const Scalar *k, *q, *v;
    int64_t ld, ld_out;
    const bool* keep;
};

// P's block [i0, i0 + rows) x [0, w) with dropout applied: into[r, j] = P[r, j] * (keep ? drop_scale : 0).
template <typename Scalar>
void drop_block(const Scalar* P, int64_t ldP, const bool* keep, int64_t i0, int64_t rows, int64_t w, int64_t Tn,
                Scalar drop_scale, Scalar* into, int64_t ld_into) {
    for (int64_t r = 0; r < rows; ++r) {
        const bool* k = keep + (i0 + r) * Tn;
        const Scalar* p = P + r * ldP;
        Scalar* d = into + r * ld_into;
#pragma omp simd
        for (int64_t j = 0; j < w; ++j) d[j] = p[j] * (k[j] ? drop_scale : Scalar(0));
    }
}

// S[r, :] -> P[r, :] in place over the first `visible` entries, zeros up to `width`; returns the row's log-sum-exp.
template <typename Scalar>
Scalar softmax_row(Scalar* s, int64_t visible, int64_t width) {
    const Scalar m = row_max(s, visible);
#pragma omp simd
    for (int64_t j = 0; j < visible; ++j) s[j] = exp_nonpositive(s[j] - m);
    const double total = row_sum(s, visible);
    const Scalar inv = static_cast<Scalar>(1.0 / total);
#pragma omp simd
    for (int64_t j = 0; j < visible; ++j) s[j] *= inv;
    std::fill(s + visible, s + width, Scalar(0));
    return m + static_cast<Scalar>(std::log(total));
}

// The calling thread's scratch number `slot` (0 to 2), at least n elements, uninitialised: every kernel below
// writes a block before reading it. Kept between calls (a unit's blocks are T wide, so a few times 64 T elements
// per thread), so that no unit allocates or zero-fills its scratch.
template <typename Scalar>
Scalar* scratch(int slot, size_t n) {
    thread_local std::vector<Scalar> buffers[3];
    std::vector<Scalar>& buffer = buffers[slot];
    if (buffer.size() < n) buffer.resize(n);
    return buffer.data();
}

// The keys a block of query rows ending at i1 sees, and the keys row i sees.
int64_t block_width(int64_t i1, const AttentionShape& s) { return s.causal ? i1 : s.T; }
int64_t row_visible(int64_t i, const AttentionShape& s) { return s.causal ? i + 1 : s.T; }

// One unit's forward; probs is null, or (T, T) to keep P in.
template <typename Scalar>
void forward_unit(const Unit<Scalar>& u, Scalar* out, Scalar* lse, Scalar* probs, const AttentionShape& s) {
    const int64_t Tn = s.T, hs = s.hs;
    const size_t block = static_cast<size_t>(std::min(kAttentionBlock, Tn) * Tn);
    // scores: the block's scores when P is not kept; dropped: P after dropout when P is kept undropped
    Scalar* scores = probs ? nullptr : scratch<Scalar>(0, block);
    Scalar* dropped = probs && u.keep ? scratch<Scalar>(1, block) : nullptr;
    for (int64_t i0 = 0; i0 < Tn; i0 += kAttentionBlock) {
        const int64_t i1 = std::min(Tn, i0 + kAttentionBlock), rows = i1 - i0, w = block_width(i1, s);
        Scalar* S = probs ? probs + i0 * Tn : scores;  // the block's scores, then its probabilities
        const int64_t ldS = probs ? Tn : w;
        gemm(false, true, rows, w, hs, Scalar(s.scale), u.q + i0 * u.ld, u.ld, u.k, u.ld, Scalar(0), S, ldS);
        for (int64_t r = 0; r < rows; ++r) lse[i0 + r] = softmax_row(S + r * ldS, row_visible(i0 + r, s), ldS);
        const Scalar* weights = S;  // what multiplies V: P, or P after dropout
        int64_t ld_weights = ldS;
        if (u.keep) {
            Scalar* into = probs ? dropped : S;  // in place unless P itself is kept for the backward
            ld_weights = probs ? w : ldS;
            drop_block(S, ldS, u.keep, i0, rows, w, Tn, Scalar(s.drop_scale), into, ld_weights);
            weights = into;
        }
        gemm(false, false, rows, hs, w, Scalar(1), weights, ld_weights, u.v, u.ld, Scalar(0), out + i0 * u.ld_out,
             u.ld_out);
    }
}

// One unit's backward: dk, dq, dv (rows u.ld apart) += the gradients; probs is the forward's kept P, or null.
template <typename Scalar>
void backward_unit(const Unit<Scalar>& u, const Scalar* out, const Scalar* lse, const Scalar* probs, const Scalar* dout, Scalar* dk, Scalar* dq, Scalar* dv,
                   const AttentionShape& s) {
    const int64_t Tn = s.T, hs = s.hs;
    const size_t block = static_cast<size_t>(std::min(kAttentionBlock, Tn) * Tn);
    Scalar* recomputed = probs ? nullptr : scratch<Scalar>(0, block);
    Scalar* dP = scratch<Scalar>(1, block);
    Scalar* dropped = u.keep ? scratch<Scalar>(2, block) : nullptr;
    for (int64_t i0 = 0; i0 < Tn; i0 += kAttentionBlock) {
        const int64_t i1 = std::min(Tn, i0 + kAttentionBlock), rows = i1 - i0, w = block_width(i1, s);
        const Scalar* P = probs ? probs + i0 * Tn : recomputed;
        const int64_t ldP = probs ? Tn : w;
        if (!probs) {  // P = exp(S - lse) where visible, else 0
            Scalar* S = recomputed;
            gemm(false, true, rows, w, hs, Scalar(s.scale), u.q + i0 * u.ld, u.ld, u.k, u.ld, Scalar(0), S, w);
            for (int64_t r = 0; r < rows; ++r) {
                Scalar* p = S + r * w;
                const int64_t visible = row_visible(i0 + r, s);
                const Scalar row_lse = lse[i0 + r];
#pragma omp simd
                for (int64_t j = 0; j < visible; ++j) p[j] = exp_nonpositive(p[j] - row_lse);  // S <= lse
                std::fill(p + visible, p + w, Scalar(0));
            }
        }
        const Scalar* dout_blk = dout + i0 * u.ld_out;
        if (u.keep) {  // with dropout: dV += (P * noise)^T @ dout, and dP = (dout @ V^T) * noise
            drop_block(P, ldP, u.keep, i0, rows, w, Tn, Scalar(s.drop_scale), dropped, w);
            gemm(true, false, w, hs, rows, Scalar(1), dropped, w, dout_blk, u.ld_out, Scalar(1), dv, u.ld);
            gemm(false, true, rows, w, hs, Scalar(1), dout_blk, u.ld_out, u.v, u.ld, Scalar(0), dP, w);
            drop_block(dP, w, u.keep, i0, rows, w, Tn, Scalar(s.drop_scale), dP, w);
        } else {
            gemm(true, false, w, hs, rows, Scalar(1), P, ldP, dout_blk, u.ld_out, Scalar(1), dv, u.ld);
            gemm(false, true, rows, w, hs, Scalar(1), dout_blk, u.ld_out, u.v, u.ld, Scalar(0), dP, w);
        }
        for (int64_t r = 0; r < rows; ++r) {  // dS = P * (dP - D), D = rowsum(dout * out), written over dP
            const Scalar* dout_row = dout_blk + r * u.ld_out;
            const Scalar* out_row = out + (i0 + r) * u.ld_out;
            double D = 0;
#pragma omp simd reduction(+ : D)
            for (int64_t c = 0; c < hs; ++c) D += static_cast<double>(dout_row[c]) * out_row[c];
            Scalar* d = dP + r * w;
            const Scalar* p = P + r * ldP;
            const Scalar Dt = static_cast<Scalar>(D);
#pragma omp simd
            for (int64_t j = 0; j < w; ++j) d[j] = p[j] * (d[j] - Dt);
        }
        gemm(false, false, rows, hs, w, Scalar(s.scale), dP, w, u.k, u.ld, Scalar(1), dq + i0 * u.ld, u.ld);
        gemm(true, false, w, hs, rows, Scalar(s.scale), dP, w, u.q + i0 * u.ld, u.ld, Scalar(1), dk, u.ld);
    }
}

// Unit n = b n_head + h: where its k starts in kqv (and in dkqv, laid out alike), and its block in out and dout.
int64_t kqv_offset(int64_t n, const AttentionShape& s) {
    return (n / s.n_head) * s.T * 3 * s.n_head * s.hs + (n % s.n_head) * s.hs;
}
int64_t out_offset(int64_t n, const AttentionShape& s) {
    return (n / s.n_head) * s.T * s.n_head * s.hs + (n % s.n_head) * s.hs;
}

// Unit n's mask inside keep (n_head, B, T, T): the layout of PyTorch's draws, one head's (B, T, T) after another.
template <typename Scalar>
Unit<Scalar> unit(const Scalar* kqv, const bool* keep, int64_t n, const AttentionShape& s) {
    const int64_t C = s.n_head * s.hs, b = n / s.n_head, h = n % s.n_head;
    const Scalar* k = kqv + kqv_offset(n, s);
    return {k, k + C, k + 2 * C, 3 * C, C, keep ? keep + (h * s.B + b) * s.T * s.T : nullptr};
}

// Enough work to split the units over threads (the attention flops of one unit: ~4 T^2 hs, halved by causality).
bool worth_parallel(const AttentionShape& s) {
    const int64_t units = s.B * s.n_head;
    return units > 1 && 2.0 * s.T * s.T * s.hs * units >= 1.0e6;
}

}  // namespace

template <typename Scalar>
void attention_forward(const Scalar* kqv, const bool* keep, Scalar* out, Scalar* lse, Scalar* probs,
                       const AttentionShape& s) {
    parallel_for(s.B * s.n_head, worth_parallel(s), [&](int64_t n) {
        Scalar* unit_probs = probs ? probs + n * s.T * s.T : nullptr;
        forward_unit(unit(kqv, keep, n, s), out + out_offset(n, s), lse + n * s.T, unit_probs, s);
    });
}

template <typename Scalar>
void attention_backward(const Scalar* kqv, const bool* keep, const Scalar* out, const Scalar* lse, const Scalar* probs,
                        const Scalar* dout, Scalar* dkqv, const AttentionShape& s) {
    parallel_for(s.B * s.n_head, worth_parallel(s), [&](int64_t n) {
        const int64_t C = s.n_head * s.hs, o = out_offset(n, s);
        Scalar* dk = dkqv + kqv_offset(n, s);
        backward_unit(unit(kqv, keep, n, s), out + o, lse + n * s.T, probs ? probs + n * s.T * s.T : nullptr, dout + o, dk,
                      dk + C, dk + 2 * C, s);
    });
}

template void attention_forward<float>(const float*, const bool*, float*, float*, float*, const AttentionShape&);
template void attention_forward<double>(const double*, const bool*, double*, double*, double*, const AttentionShape&);
template void attention_backward<float>(const float*, const bool*, const float*, const float*, const float*,
                                        const float*, float*, const AttentionShape&);
template void attention_backward<double>(const double*, const bool*, const double*, const double*, const double*,
                                         const double*, double*, const AttentionShape&);

}  // namespace ag::kernels
