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
// Rows run in parallel for y and dx (a thread owns its rows); dw and db in blocks of columns, each summed over every
// row by one thread in row order, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>

#include "engine/kernels.h"

namespace ag::kernels {

template <typename Scalar>
void layer_norm_forward(const Scalar* x, const Scalar* w, const Scalar* b, Scalar* y, double* mean, double* rstd,
                        int64_t rows, int64_t C, double eps) {
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
            yr[c] = static_cast<Scalar>((w ? xhat * w[c] : xhat) + (b ? static_cast<double>(b[c]) : 0.0));
        }
    });
}

template <typename Scalar>
void layer_norm_backward(const Scalar* dout, const Scalar* x, const double* mean, const double* rstd, const Scalar* w,
                         Scalar* dx, Scalar* dw, Scalar* db, int64_t rows, int64_t C) {
    if (dx)
        parallel_for(rows, rows * C >= kParallelGrain, [&](int64_t r) {
            const Scalar* g = dout + r * C;
            const Scalar* xr = x + r * C;
            const double m = mean[r], s = rstd[r];
            double sum_dxhat = 0, sum_dxhat_xhat = 0;  // the two means, in double
#pragma omp simd reduction(+ : sum_dxhat, sum_dxhat_xhat)
            for (int64_t c = 0; c < C; ++c) {
                const double dxhat = static_cast<double>(g[c]) * (w ? w[c] : Scalar(1));
                sum_dxhat += dxhat;
                sum_dxhat_xhat += dxhat * (xr[c] - m) * s;
            }
            const double mean_dxhat = sum_dxhat / static_cast<double>(C);
            const double mean_dxhat_xhat = sum_dxhat_xhat / static_cast<double>(C);
            Scalar* d = dx + r * C;
#pragma omp simd
            for (int64_t c = 0; c < C; ++c) {
                const double dxhat = static_cast<double>(g[c]) * (w ? w[c] : Scalar(1));
                d[c] = static_cast<Scalar>(s * (dxhat - mean_dxhat - (xr[c] - m) * s * mean_dxhat_xhat));
            }
        });
    if (!dw && !db) return;
    constexpr int64_t kColumns = 256;
    const int64_t blocks = (C + kColumns - 1) / kColumns;
    parallel_for(blocks, rows * C >= kParallelGrain, [&](int64_t blk) {
        const int64_t c0 = blk * kColumns, width = std::min(kColumns, C - c0);
        double acc_w[kColumns] = {}, acc_b[kColumns] = {};
        for (int64_t r = 0; r < rows; ++r) {
            const Scalar* g = dout + r * C + c0;
            const Scalar* xr = x + r * C + c0;
            const double m = mean[r], s = rstd[r];
#pragma omp simd
            for (int64_t c = 0; c < width; ++c) {
                acc_w[c] += static_cast<double>(g[c]) * ((xr[c] - m) * s);
                acc_b[c] += g[c];
            }
        }
        for (int64_t c = 0; c < width; ++c) {
            if (dw) dw[c0 + c] = static_cast<Scalar>(acc_w[c]);
            if (db) db[c0 + c] = static_cast<Scalar>(acc_b[c]);
        }
    });
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
