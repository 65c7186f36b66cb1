// LayerNorm over the last dim, one pass forward and one backward (llm.c's layernorm_forward / _backward).
//
// Glossary: x, y, dout, dx are (rows, C) contiguous; w (weight) and b (bias) are (C), or null for no affine part;
// mean and rstd (rows) are each row's mean and 1 / sqrt(biased variance + eps), in double whatever the dtype (a
// float mean would lose the spread of rows with a large offset), saved for the backward.
//
// forward:   xhat = (x - mean) * rstd               y = xhat * w + b
// backward:  dxhat = dout * w
//            dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))     (per row, means over C)
//            dw = sum over rows of dout * xhat ;  db = sum over rows of dout
// Rows run in parallel (a thread owns its rows of y and dx); dw and db are summed per fixed chunk of rows, in the
// backward's one pass, and the chunks' sums added in order, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/kernels.h"

namespace ag::kernels {

template <typename Scalar>
void layer_norm_forward(const Scalar* x, const Scalar* w, const Scalar* b, Scalar* y, double* mean, double* rstd,
                        int64_t rows, int64_t C, double eps) {
    // No affine part reads as w = 1, b = 0, so that the loops below have no test per element (it would stop them
    // from vectorising)
    std::vector<Scalar> ones(w ? 0 : C, Scalar(1)), zeros(b ? 0 : C, Scalar(0));
    if (!w) w = ones.data();
    if (!b) b = zeros.data();
    parallel_for(rows, rows * C >= kParallelGrain, [&](int64_t r) {
        const Scalar* xr = x + r * C;
        const double m = row_sum(xr, C) / static_cast<double>(C);
        double var = 0;
#pragma omp simd reduction(+ : var)
        for (int64_t c = 0; c < C; ++c) var += (xr[c] - m) * (xr[c] - m);
        const double s = 1.0 / std::sqrt(var / static_cast<double>(C) + eps);
        mean[r] = m;
        rstd[r] = s;
        // y = (x - mean) * rstd * w + b in double: x - mean first, so a large mean does not cancel away the spread
        Scalar* yr = y + r * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) {
            const double xhat = (xr[c] - m) * s;
            yr[c] = static_cast<Scalar>(xhat * w[c] + static_cast<double>(b[c]));
        }
    });
}

namespace {

// One row of dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dout * w.
template <typename Scalar>
void dx_row(const Scalar* g, const Scalar* x, const Scalar* w, double m, double s, Scalar* dx, int64_t C) {
    double sum_dxhat = 0, sum_dxhat_xhat = 0;  // the two means, in double
#pragma omp simd reduction(+ : sum_dxhat, sum_dxhat_xhat)
    for (int64_t c = 0; c < C; ++c) {
        const double dxhat = static_cast<double>(g[c]) * w[c];
        sum_dxhat += dxhat;
        sum_dxhat_xhat += dxhat * (x[c] - m) * s;
    }
    const double mean_dxhat = sum_dxhat / static_cast<double>(C);
    const double mean_dxhat_xhat = sum_dxhat_xhat / static_cast<double>(C);
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) {
        const double dxhat = static_cast<double>(g[c]) * w[c];
        dx[c] = static_cast<Scalar>(s * (dxhat - mean_dxhat - (x[c] - m) * s * mean_dxhat_xhat));
    }
}

// One row's part of dw = sum of dout * xhat and db = sum of dout.
template <typename Scalar>
void param_sums_row(const Scalar* g, const Scalar* x, double m, double s, double* dw, double* db, int64_t C) {
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) {
        dw[c] += static_cast<double>(g[c]) * ((x[c] - m) * s);
        db[c] += g[c];
    }
}

}  // namespace

template <typename Scalar>
void layer_norm_backward(const Scalar* dout, const Scalar* x, const double* mean, const double* rstd, const Scalar* w,
                         Scalar* dx, Scalar* dw, Scalar* db, int64_t rows, int64_t C) {
    // Rows in chunks of a fixed size, whatever the thread count; each chunk computes its rows of dx and its own
    // partial sums of dw and db in the same pass over dout and x; the partials are then added in chunk order.
    constexpr int64_t kRowsPerChunk = 32;
    std::vector<Scalar> ones(w ? 0 : C, Scalar(1));  // no weight reads as w = 1 (no test per element)
    if (!w) w = ones.data();
    const int64_t chunks = (rows + kRowsPerChunk - 1) / kRowsPerChunk;
    const bool params = dw || db;
    std::vector<double> partial(params ? static_cast<size_t>(chunks * 2 * C) : 0);  // per chunk: dw's C, db's C
    parallel_for(chunks, rows * C >= kParallelGrain, [&](int64_t k) {
        double* part_w = params ? partial.data() + k * 2 * C : nullptr;
        double* part_b = params ? part_w + C : nullptr;
        for (int64_t r = k * kRowsPerChunk; r < std::min(rows, (k + 1) * kRowsPerChunk); ++r) {
            const Scalar* g = dout + r * C;
            const Scalar* xr = x + r * C;
            const double m = mean[r], s = rstd[r];
            if (dx) dx_row(g, xr, w, m, s, dx + r * C, C);
            if (params) param_sums_row(g, xr, m, s, part_w, part_b, C);
        }
    });
    if (!params) return;
    std::vector<double> total(static_cast<size_t>(2 * C), 0.0);  // dw's sums, then db's
    for (int64_t k = 0; k < chunks; ++k) {
        const double* part = partial.data() + k * 2 * C;
#pragma omp simd
        for (int64_t c = 0; c < 2 * C; ++c) total[c] += part[c];
    }
    for (int64_t c = 0; c < C; ++c) {
        if (dw) dw[c] = static_cast<Scalar>(total[c]);
        if (db) db[c] = static_cast<Scalar>(total[C + c]);
    }
}

template void layer_norm_forward<float>(const float*, const float*, const float*, float*, double*, double*, int64_t,
                                        int64_t, double);
template void layer_norm_forward<double>(const double*, const double*, const double*, double*, double*, double*,
                                         int64_t, int64_t, double);
template void layer_norm_backward<float>(const float*, const float*, const double*, const double*, const float*, float*,
                                         float*, float*, int64_t, int64_t);
template void layer_norm_backward<double>(const double*, const double*, const double*, const double*, const double*,
                                          double*, double*, double*, int64_t, int64_t);

}  // namespace ag::kernels
