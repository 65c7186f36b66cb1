// Random fills of an existing float32 or float64 tensor: normal_, uniform_ and bernoulli_, drawn from `gen` (or the
// default generator) exactly as torch 1.13's CPU kernels draw them (random.h has the algorithms):
//   uniform_(lo, hi):  lo + u (hi - lo) with one rounding, u a float (24-bit) or double (53-bit) uniform in [0, 1)
//   normal_(mean, std): mean + std z, z from Box-Muller (blocks of 16 when the tensor has 16 or more elements)
//   bernoulli_(p):     1 if u < p else 0, u a 53-bit double uniform
// The draws land in row-major order, as torch's do on a contiguous tensor. Like every in-place write (inplace.cpp),
// these are not recorded in the graph, are refused on a tensor that requires grad outside NoGradGuard, and bump the
// version.
#include "engine/inplace.h"
#include "engine/kernels.h"
#include "engine/ops.h"
#include "engine/random.h"

namespace ag {

namespace {

// self = draw(a fresh contiguous buffer of self's shape and dtype), draw(Scalar* out, int64_t n) filling n values.
template <typename Draw>
Tensor& fill_drawn(Tensor& self, const char* op, Draw draw) {
    inplace::check_destination(self, op);
    dispatch_floating(self.dtype(), op, [&]<typename Scalar>() {
        Tensor drawn = empty(self.shape(), self.dtype());
        draw(drawn.data<Scalar>(), drawn.numel());
        kernels::map<Scalar, Scalar>(self, drawn, [](Scalar v) { return v; });
    });
    self.bump_version();
    return self;
}

Generator& generator_or_default(Generator* gen) { return gen ? *gen : default_generator(); }

}  // namespace

Tensor& Tensor::normal_(double mean, double std_dev, Generator* gen) {
    return fill_drawn(*this, "normal_", [&](auto* out, int64_t n) {
        generator_or_default(gen).fill_normal(out, n, mean, std_dev);
    });
}

Tensor& Tensor::uniform_(double lo, double hi, Generator* gen) {
    return fill_drawn(*this, "uniform_", [&](auto* out, int64_t n) {
        generator_or_default(gen).fill_uniform(out, n, lo, hi);
    });
}

Tensor& Tensor::bernoulli_(double p, Generator* gen) {
    return fill_drawn(*this, "bernoulli_", [&](auto* out, int64_t n) {
        Tensor mask = empty({n}, DType::Bool);  // the draws of dropout's mask: u < p as a bool
        generator_or_default(gen).fill_bernoulli(mask.data<bool>(), n, p);
        const bool* kept = mask.data<bool>();
        for (int64_t i = 0; i < n; ++i) out[i] = kept[i] ? 1 : 0;
    });
}

}  // namespace ag
