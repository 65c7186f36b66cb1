// Running sums along one dim (cumsum, and its backward, which runs the same sum from the other end).
//
// x and y are contiguous, viewed as (outer, D, inner): element (o, d, i) is at (o D + d) inner + i.
//   forward:  y[o, d, i] = sum over e <= d of x[o, e, i]
//   reverse:  y[o, d, i] = sum over e >= d of x[o, e, i]      (dx of cumsum, from dout)
// Each (o, i) column is one thread's, summed in order in double, so results do not depend on the thread count.
#include "engine/kernels.h"

namespace ag::kernels {

template <typename Scalar>
void cumsum_along(const Scalar* x, Scalar* y, int64_t outer, int64_t D, int64_t inner, bool reverse) {
    parallel_for(outer * inner, outer * D * inner >= kParallelGrain, [&](int64_t k) {
        const int64_t base = (k / inner) * D * inner + k % inner;
        double total = 0;
        for (int64_t step = 0; step < D; ++step) {
            const int64_t at = base + (reverse ? D - 1 - step : step) * inner;
            total += x[at];
            y[at] = static_cast<Scalar>(total);
        }
    });
}

template void cumsum_along<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void cumsum_along<double>(const double*, double*, int64_t, int64_t, int64_t, bool);

}  // namespace ag::kernels
