// The loops every op runs on, and the only home of the thread pool's loops and BLAS calls. Internal: the ops
// include it, the public headers (engine.h) do not.
//
// An element-wise loop walks an output shape in row-major order and reads each operand through its own strides,
// with stride 0 on the dims where it is broadcast. Dims that are contiguous for every operand are merged first, so
// most loops become one flat, vectorisable row. Rows are spread over the engine's threads (thread_pool.h) when
// there is enough work; each item owns the output elements it writes, so results do not depend on the thread count.
#pragma once
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "engine/tensor.h"
#include "engine/thread_pool.h"

namespace ag::kernels {

// Below this many elements a loop stays on one thread: waking threads costs more than the work.
constexpr int64_t kParallelGrain = 1 << 15;

// Runs fn(i) for i in [0, count), spread over the engine's threads when `parallel` is true and there are at least
// two items; small loops never wake a thread. Each i must write only what it owns.
template <typename Fn>
void parallel_for(int64_t count, bool parallel, Fn fn) {
    if (!parallel || count < 2) {
        for (int64_t i = 0; i < count; ++i) fn(i);
        return;
    }
    run_on_pool(count, [](void* f, int64_t i) { (*static_cast<Fn*>(f))(i); }, &fn);
}

// ---- exp for softmax -------------------------------------------------------------------------------------------------

// exp(x) for x <= 0, the only arguments softmax ever exponentiates (x - max), written without calls or branches so
// that a loop of it vectorises (libm's expf is one call per element). Cephes' expf: x = n ln2 + r with |r| <= ln2/2,
// exp(r) by a degree-7 polynomial, times 2^n built from its exponent bits; within ~1 ulp of expf. Below -87.3 the
// result is exactly 0 (so exp(-inf) = 0, as masks need), and NaN stays NaN.
inline float exp_nonpositive(float x) {
    const float lowest = -87.3365447504f;  // log(FLT_MIN): below it, exp underflows
    const float xc = x < lowest ? lowest : x;
    const float n = std::floor(xc * 1.44269504088896341f + 0.5f);  // round(x / ln2)
    float r = xc - n * 0.693359375f;                                 // x - n ln2, ln2 split in two for accuracy
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const float two_to_n = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
    const float y = x < lowest ? 0.0f : p * two_to_n;
    return x != x ? x : y;
}
inline double exp_nonpositive(double x) { return std::exp(x); }  // float64 keeps libm's exp: gradchecks run there

// The largest of x[0..D), -inf for D = 0. Eight running maxima let the loop vectorise (vmaxps); a NaN may be
// skipped, which is fine for softmax: exp(NaN - m) still makes the row NaN.
template <typename Scalar>
Scalar row_max(const Scalar* x, int64_t D) {
    constexpr int kLanes = 8;
    Scalar lanes[kLanes];
    std::fill(lanes, lanes + kLanes, -std::numeric_limits<Scalar>::infinity());
    int64_t d = 0;
    for (; d + kLanes <= D; d += kLanes)
        for (int j = 0; j < kLanes; ++j) lanes[j] = x[d + j] > lanes[j] ? x[d + j] : lanes[j];
    Scalar m = -std::numeric_limits<Scalar>::infinity();
    for (; d < D; ++d) m = x[d] > m ? x[d] : m;
    for (int j = 0; j < kLanes; ++j) m = lanes[j] > m ? lanes[j] : m;
    return m;
}

// sum of x[0..D) in double, vectorised: the order of the additions is fixed for a given D and binary.
template <typename Scalar>
double row_sum(const Scalar* x, int64_t D) {
    double total = 0;
#pragma omp simd reduction(+ : total)
    for (int64_t d = 0; d < D; ++d) total += x[d];
    return total;
}

// ---- element-wise loops ------------------------------------------------------------------------------------------

// The geometry of a loop over `shape` with N operands (operand 0 is the output).
template <size_t N>
struct Loop {
    Shape shape;
    std::array<Shape, N> strides;
};

// Drops size-1 dims and merges dim d into d+1 wherever every operand steps through them as one contiguous run.
template <size_t N>
Loop<N> coalesce(const Loop<N>& in) {
    Loop<N> out;
    for (size_t d = 0; d < in.shape.size(); ++d) {
        if (in.shape[d] == 1) continue;
        bool merge = !out.shape.empty();
        for (size_t k = 0; k < N && merge; ++k) merge = out.strides[k].back() == in.strides[k][d] * in.shape[d];
        if (merge) {
            out.shape.back() *= in.shape[d];
            for (size_t k = 0; k < N; ++k) out.strides[k].back() = in.strides[k][d];
        } else {
            out.shape.push_back(in.shape[d]);
            for (size_t k = 0; k < N; ++k) out.strides[k].push_back(in.strides[k][d]);
        }
    }
    if (out.shape.empty()) {  // a single element
        out.shape.push_back(1);
        for (size_t k = 0; k < N; ++k) out.strides[k].push_back(1);
    }
    return out;
}

// Calls row(offsets, n, steps) once per innermost row: offsets[k] is operand k's element offset at the row's start,
// steps[k] its stride along the row, n the row length.
template <size_t N, typename RowFn>
void for_each_row(const Loop<N>& loop_in, RowFn row) {
    Loop<N> loop = coalesce(loop_in);
    const int64_t nd = static_cast<int64_t>(loop.shape.size());
    const int64_t n = loop.shape[nd - 1];
    const int64_t rows = numel_of(loop.shape, 0, nd - 1);
    if (n == 0 || rows == 0) return;
    std::array<int64_t, N> steps;
    for (size_t k = 0; k < N; ++k) steps[k] = loop.strides[k][nd - 1];
    parallel_for(rows, rows * n >= kParallelGrain, [&](int64_t r) {
        std::array<int64_t, N> offsets{};
        int64_t rest = r;
        for (int64_t d = nd - 2; d >= 0; --d) {
            int64_t i = rest % loop.shape[d];
            rest /= loop.shape[d];
            for (size_t k = 0; k < N; ++k) offsets[k] += i * loop.strides[k][d];
        }
        row(offsets, n, steps);
    });
}

// True when `a` is laid out as a contiguous `out`: an element-wise loop over the two is one flat row, with no
// geometry to work out (the common case, and the whole cost of an op on a few elements).
inline bool same_flat_layout(const Tensor& out, const Tensor& a) {
    return a.shape() == out.shape() && a.is_contiguous() && out.is_contiguous();
}

// out = f(a), a broadcast to out's shape. out may be any strided tensor (a view being assigned into).
template <typename R, typename Scalar, typename F>
void map(const Tensor& out, const Tensor& a, F f) {
    R* po = out.data<R>();
    const Scalar* pa = a.data<Scalar>();
    if (same_flat_layout(out, a)) {
        const int64_t n = out.numel();
        for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i]);
        return;
    }
    Loop<2> loop{out.shape(), {out.strides(), broadcast_strides(a.shape(), a.strides(), out.shape())}};
    for_each_row(loop, [&](const std::array<int64_t, 2>& off, int64_t n, const std::array<int64_t, 2>& step) {
        R* o = po + off[0];
        const Scalar* x = pa + off[1];
        if (step[0] == 1 && step[1] == 1)
            for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
        else
            for (int64_t i = 0; i < n; ++i) o[i * step[0]] = f(x[i * step[1]]);
    });
}

// out = f(a, b), a and b broadcast to out's shape; R, A, B are the element types of out, a and b.
template <typename R, typename A, typename B = A, typename F>
void zip(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
    R* po = out.data<R>();
    const A* pa = a.data<A>();
    const B* pb = b.data<B>();
    if (same_flat_layout(out, a) && same_flat_layout(out, b)) {
        const int64_t n = out.numel();
        for (int64_t i = 0; i < n; ++i) po[i] = f(pa[i], pb[i]);
        return;
    }
    Loop<3> loop{out.shape(),
                 {out.strides(), broadcast_strides(a.shape(), a.strides(), out.shape()),
                  broadcast_strides(b.shape(), b.strides(), out.shape())}};
    for_each_row(loop, [&](const std::array<int64_t, 3>& off, int64_t n, const std::array<int64_t, 3>& step) {
        R* o = po + off[0];
        const A* x = pa + off[1];
        const B* y = pb + off[2];
        if (step[0] == 1 && step[1] == 1 && step[2] == 1)
            for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
        else if (step[0] == 1 && step[1] == 1 && step[2] == 0)  // a row plus a broadcast scalar, e.g. x - max
            for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[0]);
        else
            for (int64_t i = 0; i < n; ++i) o[i * step[0]] = f(x[i * step[1]], y[i * step[2]]);
    });
}

// ---- reductions --------------------------------------------------------------------------------------------------

// out = sum of a over the dims where out's (keepdim) shape is 1 and a's is not; out is contiguous, with a's rank.
// Accumulates in double (int64 in int64, exactly); each output element is summed by one thread in a fixed order.
template <typename Scalar>
void sum_into(const Tensor& out, const Tensor& a);

// For a contiguous tensor viewed as (outer, D, inner): out[o, i] = max over d of a[o, d, i] and its first position.
template <typename Scalar>
void max_along(const Scalar* a, int64_t outer, int64_t D, int64_t inner, Scalar* values, int64_t* positions);

// For a contiguous array viewed as (outer, D, inner): running sums along D, y[o, d, i] = sum over e <= d of
// x[o, e, i], or over e >= d when reverse (cumsum's backward). Accumulates in double.
template <typename Scalar>
void cumsum_along(const Scalar* x, Scalar* y, int64_t outer, int64_t D, int64_t inner, bool reverse);

// ---- softmax -------------------------------------------------------------------------------------------------------

// Contiguous x viewed as (outer, D, inner), softmax (or log_softmax) along D into y.
template <typename Scalar>
void softmax_forward(const Scalar* x, Scalar* y, int64_t outer, int64_t D, int64_t inner, bool log);
// dx = y * (dy - sum(dy * y))  (softmax)   or   dx = dy - exp(y) * sum(dy)  (log_softmax), along D.
template <typename Scalar>
void softmax_backward(const Scalar* y, const Scalar* dy, Scalar* dx, int64_t outer, int64_t D, int64_t inner, bool log);
// Cross-entropy's gradient from the saved log-probabilities logp (N, C):  dx = scale * (exp(logp) - onehot(target)).
template <typename Scalar>
void cross_entropy_backward(const Scalar* logp, const int64_t* target, Scalar scale, Scalar* dx, int64_t N, int64_t C);

// ---- LayerNorm (kernels_layer_norm.cpp) -------------------------------------------------------------------------

// y (rows, C) = (x - mean) * rstd * w + b per row, and each row's mean and rstd = 1 / sqrt(biased variance + eps)
// (in double);
// w and b may be null (no affine part). All contiguous.
template <typename Scalar>
void layer_norm_forward(const Scalar* x, const Scalar* w, const Scalar* b, Scalar* y, double* mean, double* rstd,
                        int64_t rows, int64_t C, double eps);
// dx = (the gradient wrt x), dw and db = (sums over rows), from dout and the saved mean and rstd; each of dx, dw,
// db may be null (not wanted), w too (no affine part). dx, dw, db are written, not accumulated.
template <typename Scalar>
void layer_norm_backward(const Scalar* dout, const Scalar* x, const double* mean, const double* rstd, const Scalar* w,
                         Scalar* dx, Scalar* dw, Scalar* db, int64_t rows, int64_t C);

// ---- fused self-attention (kernels_attention.cpp) ------------------------------------------------------------------

// Query rows per block: the scores of one block are (64, T), and a T up to 64 is one block.
constexpr int64_t kAttentionBlock = 64;

// One fused attention call: B batches of n_head heads of width hs over T positions; causal: row t sees keys <= t.
struct AttentionShape {
    int64_t B, n_head, T, hs;
    bool causal;
    double scale;           // the scores are scale * q . k
    double drop_scale = 1;  // with dropout: a kept weight is multiplied by this, 1 / (1 - p) in the tensor's dtype
};

// out (B, T, C) = for every head h, softmax(scale * q_h @ k_h^T, masked) @ v_h, the heads side by side, for the packed
// projection kqv (B, T, 3 C) = [keys of every head | queries | values], C = n_head hs, all contiguous. lse
// (B, n_head, T) gets each row's log-sum-exp of its visible scores, which is all the backward needs to recompute the
// probabilities. probs is null, or (B, n_head, T, T) to keep the probabilities in (0 where masked; before dropout).
// keep is null, or dropout's mask (n_head, B, T, T): the weights that multiply v are P * keep * drop_scale.
template <typename Scalar>
void attention_forward(const Scalar* kqv, const bool* keep, Scalar* out, Scalar* lse, Scalar* probs,
                       const AttentionShape& shape);
// dkqv (laid out like kqv) += the gradients of that forward, given the same keep, dout, the saved out and lse, and
// the kept probs if the forward kept them (else null: the backward recomputes them from kqv and lse).
template <typename Scalar>
void attention_backward(const Scalar* kqv, const bool* keep, const Scalar* out, const Scalar* lse,
                        const Scalar* probs, const Scalar* dout, Scalar* dkqv, const AttentionShape& shape);

// ---- BLAS ------------------------------------------------------------------------------------------------------------

// How BLAS can read a rows x cols matrix whose elements are rs apart down a column and cs apart along a row:
// as stored (row-major, leading dim rs) when cs == 1, as the transpose of a row-major matrix (leading dim cs) when
// rs == 1; otherwise not at all (ok is false: the caller copies it), also when the leading dim does not fit BLAS's
// 32-bit int. A dim of size 1 has no meaningful stride.
struct BlasLayout {
    bool ok = false;
    bool trans = false;
    int64_t ld = 1;
};
BlasLayout blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs);

// C = alpha * op(A) @ op(B) + beta * C, row-major, with op(X) = X^T when trans_x; M x K times K x N. OpenBLAS
// runs on one thread; a large product is split into blocks of C's rows (or columns) over the engine's threads.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc);

// Runs fn(i) for i in [0, count), one gemm each: across threads when the calls are small but there is enough work
// in total to pay for waking the threads; one after another when each call is big enough to split itself.
template <typename Fn>
void parallel_batches(int64_t count, double flops_per_call, Fn fn) {
    const double total = flops_per_call * static_cast<double>(count);
    parallel_for(count, flops_per_call < 4.0e6 && total >= 1.0e6, fn);
}

}  // namespace ag::kernels
