#include "engine/kernels.h"

#include "engine/threads.h"

#include <cblas.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <limits>
#include <stdexcept>
#include <vector>

namespace ag {

int set_num_threads(int n) {
    if (n < 1) throw std::invalid_argument("set_num_threads: need at least 1 thread; got " + std::to_string(n));
    const int previous = kernels::pool_threads();
    kernels::set_pool_threads(n);
    return previous;
}

int num_threads() { return kernels::pool_threads(); }

}  // namespace ag

namespace ag::kernels {

// ---- sum over a set of dims --------------------------------------------------------------------------------------

// Each output element is the sum of a's elements at its kept index, taken over the reduced positions in row-major
// order; both paths below add in that order, so the result does not depend on which path or thread count runs.
// Floats add in double; int64 in int64, exactly (a double would round past 2^53).
template <typename Scalar>
void sum_into(const Tensor& out, const Tensor& a) {
    using Acc = std::conditional_t<std::is_integral_v<Scalar>, int64_t, double>;
    // Split a's dims into kept ones (out has the same size there) and reduced ones (out has size 1).
    Shape kept_shape, kept_strides, red_shape, red_strides;
    for (int64_t d = 0; d < a.dim(); ++d) {
        bool reduced = out.shape()[d] == 1 && a.shape()[d] != 1;
        (reduced ? red_shape : kept_shape).push_back(a.shape()[d]);
        (reduced ? red_strides : kept_strides).push_back(a.strides()[d]);
    }
    const int64_t n_out = numel_of(kept_shape), n_red = numel_of(red_shape);
    Loop<1> red = coalesce(Loop<1>{red_shape, {red_strides}});
    Loop<1> kept = coalesce(Loop<1>{kept_shape, {kept_strides}});
    const Scalar* pa = a.data<Scalar>();
    Scalar* po = out.data<Scalar>();
    // a's element offset of reduced position p (row-major over the reduced dims).
    auto reduced_offset = [&](int64_t p) {
        int64_t off = 0;
        for (int64_t d = static_cast<int64_t>(red.shape.size()) - 1; d >= 0; --d) {
            off += (p % red.shape[d]) * red.strides[0][d];
            p /= red.shape[d];
        }
        return off;
    };
    if (kept.shape.size() == 1 && kept.strides[0][0] == 1 && n_out >= 8) {
        // Column sums, e.g. a bias gradient (N, C) -> (C): the kept elements are contiguous, so add whole rows of
        // them into double (or int64) accumulators (vectorised), a block of columns per thread.
        constexpr int64_t kColumns = 512;
        const int64_t blocks = (n_out + kColumns - 1) / kColumns;
        parallel_for(blocks, n_out * n_red >= kParallelGrain, [&](int64_t blk) {
            const int64_t c0 = blk * kColumns, width = std::min(kColumns, n_out - c0);
            Acc acc[kColumns] = {};
            for (int64_t p = 0; p < n_red; ++p) {
                const Scalar* x = pa + reduced_offset(p) + c0;
#pragma omp simd
                for (int64_t c = 0; c < width; ++c) acc[c] += x[c];
            }
            for (int64_t c = 0; c < width; ++c) po[c0 + c] = static_cast<Scalar>(acc[c]);
        });
        return;
    }
    // General case: one output element at a time, walking its reduced elements (contiguous runs when they are).
    const int64_t inner = red.shape.back(), step = red.strides[0].back();
    const int64_t rows = n_red / (inner ? inner : 1);
    parallel_for(n_out, n_out * n_red >= kParallelGrain, [&](int64_t o) {
        int64_t base = 0, rest = o;
        for (int64_t d = static_cast<int64_t>(kept_shape.size()) - 1; d >= 0; --d) {
            base += (rest % kept_shape[d]) * kept_strides[d];
            rest /= kept_shape[d];
        }
        Acc acc = 0;
        for (int64_t r = 0; r < rows && inner > 0; ++r) {
            const Scalar* x = pa + base + reduced_offset(r * inner);
            for (int64_t i = 0; i < inner; ++i) acc += x[i * step];
        }
        po[o] = static_cast<Scalar>(acc);
    });
}

// ---- max along one dim -------------------------------------------------------------------------------------------

template <typename Scalar>
void max_along(const Scalar* a, int64_t outer, int64_t D, int64_t inner, Scalar* values, int64_t* positions) {
    parallel_for(outer * inner, outer * D * inner >= kParallelGrain, [&](int64_t k) {
        const Scalar* x = a + (k / inner) * D * inner + k % inner;
        Scalar best = x[0];
        int64_t where = 0;
        for (int64_t d = 1; d < D; ++d) {
            Scalar v = x[d * inner];
            // NaN wins (as in PyTorch: max propagates NaN); otherwise the first maximum is kept.
            if (!(v <= best) && !std::isnan(best)) {
                best = v;
                where = d;
            }
        }
        values[k] = best;
        positions[k] = where;
    });
}

// ---- softmax -------------------------------------------------------------------------------------------------------

// One slice x[0], x[s], ..., x[(D-1) s]:  y = exp(x - m) / sum exp(x - m)  with m = max x, so exp never overflows;
// log form: y = x - m - log(sum exp(x - m)). If every x is -inf, m = -inf and x - m is NaN: the slice becomes NaN.
// x and y must not overlap (the log form reads x again after writing y).
template <typename Scalar>
static void softmax_slice(const Scalar* x, Scalar* y, int64_t D, int64_t s, bool log) {
    Scalar m = -std::numeric_limits<Scalar>::infinity();
    double total = 0;
    if (s == 1) {  // the common case, a contiguous row: vectorised passes for max, exp and scale
        // (a NaN in the row need not win the max here: exp(NaN - m) still makes the row NaN, as it must)
        m = row_max(x, D);
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) y[d] = exp_nonpositive(x[d] - m);
        total = row_sum(y, D);
        if (log) {
            const Scalar log_total = static_cast<Scalar>(std::log(total));
#pragma omp simd
            for (int64_t d = 0; d < D; ++d) y[d] = x[d] - m - log_total;
        } else {
            const Scalar scale = static_cast<Scalar>(1.0 / total);
#pragma omp simd
            for (int64_t d = 0; d < D; ++d) y[d] *= scale;
        }
        return;
    }
    for (int64_t d = 0; d < D; ++d) m = std::max(m, x[d * s]);
    if (std::isnan(m)) m = std::numeric_limits<Scalar>::quiet_NaN();
    for (int64_t d = 0; d < D; ++d) {
        Scalar e = exp_nonpositive(x[d * s] - m);
        if (!log) y[d * s] = e;
        total += e;
    }
    if (log) {
        Scalar log_total = static_cast<Scalar>(std::log(total));
        for (int64_t d = 0; d < D; ++d) y[d * s] = x[d * s] - m - log_total;
    } else {
        Scalar scale = static_cast<Scalar>(1.0 / total);
        for (int64_t d = 0; d < D; ++d) y[d * s] *= scale;
    }
}

template <typename Scalar>
void softmax_forward(const Scalar* x, Scalar* y, int64_t outer, int64_t D, int64_t inner, bool log) {
    parallel_for(outer * inner, outer * D * inner >= kParallelGrain, [&](int64_t k) {
        const int64_t base = (k / inner) * D * inner + k % inner;
        softmax_slice(x + base, y + base, D, inner, log);
    });
}

template <typename Scalar>
void softmax_backward(const Scalar* y, const Scalar* dy, Scalar* dx, int64_t outer, int64_t D, int64_t inner, bool log) {
    parallel_for(outer * inner, outer * D * inner >= kParallelGrain, [&](int64_t k) {
        const int64_t base = (k / inner) * D * inner + k % inner;
        double dot = 0;  // softmax: sum(dy * y);  log_softmax: sum(dy)
        for (int64_t d = 0; d < D; ++d) dot += log ? dy[base + d * inner] : dy[base + d * inner] * y[base + d * inner];
        const Scalar c = static_cast<Scalar>(dot);
        for (int64_t d = 0; d < D; ++d) {
            const int64_t at = base + d * inner;
            dx[at] = log ? dy[at] - exp_nonpositive(y[at]) * c : y[at] * (dy[at] - c);
        }
    });
}

template <typename Scalar>
void cross_entropy_backward(const Scalar* logp, const int64_t* target, Scalar scale, Scalar* dx, int64_t N, int64_t C) {
    parallel_for(N, N * C >= kParallelGrain, [&](int64_t n) {
        const Scalar* lp = logp + n * C;
        Scalar* d = dx + n * C;
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) d[c] = exp_nonpositive(lp[c]) * scale;  // softmax = exp(log_softmax)
        d[target[n]] -= scale;
    });
}

// ---- BLAS ------------------------------------------------------------------------------------------------------------

BlasLayout blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
    BlasLayout layout;
    if ((cs == 1 || cols == 1) && (rows == 1 || rs >= std::max<int64_t>(1, cols)))
        layout = {true, false, rows == 1 ? std::max<int64_t>(1, cols) : rs};
    else if ((rs == 1 || rows == 1) && (cols == 1 || cs >= std::max<int64_t>(1, rows)))
        layout = {true, true, cols == 1 ? std::max<int64_t>(1, rows) : cs};
    if (layout.ld > std::numeric_limits<int>::max()) layout = {};  // cblas takes int leading dims
    return layout;
}

}  // namespace ag::kernels

// OpenBLAS's kernel selection, exported by its DYNAMIC_ARCH builds (Debian's): weak, so that a build without them
// links too and keeps its own choice.
extern "C" {
char* openblas_get_corename(void) __attribute__((weak));
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));
}

namespace ag::kernels {
namespace {

// OpenBLAS 0.3.21 does not know AMD's Zen 4 and runs it on its AVX2 (Haswell) kernels, although the CPU has the
// AVX-512 its SkylakeX kernels need: measured here, sgemm runs at about 105 GFLOP/s a core on the first and 210 on
// the second. So, once, before the first product: when OpenBLAS chose Haswell or Zen on a CPU with AVX-512 F, DQ, CD,
// BW and VL, and the user did not choose (OPENBLAS_CORETYPE), select SkylakeX as newer OpenBLAS releases do there.
// Also makes OpenBLAS single-threaded: the engine splits large products over its own threads.
bool setup_blas() {
    openblas_set_num_threads(1);
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return false;
    const std::string core = openblas_get_corename();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl");
    if (std::getenv("OPENBLAS_CORETYPE") || !avx512 || (core != "Haswell" && core != "Zen")) return false;
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
    return true;
}

void blas(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
          int64_t ldb, float beta, float* C, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
                B, ldb, beta, C, ldc);
}
void blas(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
                B, ldb, beta, C, ldc);
}

// Products below this many flops run whole on one thread; above, in blocks of at least kMinBlock rows or columns.
constexpr double kSplitFlops = 4.0e6;
constexpr int64_t kMinBlock = 64;

// C's rows [m0, m1) need A's rows [m0, m1) (columns when A is stored transposed); C's columns [n0, n1) need B's
// columns (rows when B is stored transposed). Each block is a whole product over K, so every element of C is
// computed by one call, the same way whichever thread runs it.
template <typename Scalar>
void split_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, Scalar alpha, const Scalar* A, int64_t lda,
                const Scalar* B, int64_t ldb, Scalar beta, Scalar* C, int64_t ldc) {
    static const bool blas_ready = (setup_blas(), true);
    (void)blas_ready;
    const int threads = pool_threads();
    const bool rows = M >= N;
    const int64_t extent = rows ? M : N;
    const int64_t blocks = std::min<int64_t>(4 * threads, extent / kMinBlock);
    if (threads == 1 || blocks < 2 || 2.0 * M * N * K < kSplitFlops) {
        blas(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    parallel_for(blocks, true, [&](int64_t b) {
        const int64_t begin = extent * b / blocks, end = extent * (b + 1) / blocks;
        if (rows)
            blas(ta, tb, end - begin, N, K, alpha, ta ? A + begin : A + begin * lda, lda, B, ldb, beta,
                 C + begin * ldc, ldc);
        else
            blas(ta, tb, M, end - begin, K, alpha, A, lda, tb ? B + begin * ldb : B + begin, ldb, beta, C + begin,
                 ldc);
    });
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
          const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
    split_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
          const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
    split_gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

template void sum_into<float>(const Tensor&, const Tensor&);
template void sum_into<double>(const Tensor&, const Tensor&);
template void sum_into<int64_t>(const Tensor&, const Tensor&);
template void max_along<float>(const float*, int64_t, int64_t, int64_t, float*, int64_t*);
template void max_along<double>(const double*, int64_t, int64_t, int64_t, double*, int64_t*);
template void softmax_forward<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_forward<double>(const double*, double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<float>(const float*, const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_backward<double>(const double*, const double*, double*, int64_t, int64_t, int64_t, bool);
template void cross_entropy_backward<float>(const float*, const int64_t*, float, float*, int64_t, int64_t);
template void cross_entropy_backward<double>(const double*, const int64_t*, double, double*, int64_t, int64_t);

}  // namespace ag::kernels
