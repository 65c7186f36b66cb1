#include "layers/linear.h"

#include <stdexcept>

#include "engine/ops.h"
#include "engine/random.h"

namespace ag {

namespace {

// uniform_(-bound, bound) on a fresh float32 tensor, from the default generator (PyTorch's init draws).
Tensor uniform(const Shape& shape, double bound) {
    Tensor t = empty(shape, DType::Float32);
    default_generator().fill_uniform(t.data<float>(), t.numel(), -bound, bound);
    return t;
}

}  // namespace

Linear::Linear(int64_t in, int64_t out, bool has_bias) : in_features(in), out_features(out) {
    if (in < 0 || out < 0)
        throw std::invalid_argument("Linear: sizes must be non-negative; got in=" + std::to_string(in) +
                                    ", out=" + std::to_string(out));
    weight = uniform({out, in}, linear_weight_bound(in));
    register_parameter("weight", weight);
    if (has_bias) {
        bias = uniform({out}, linear_bias_bound(in));
        register_parameter("bias", bias);
    }
}

Tensor Linear::forward(const Tensor& x) const {
    if (x.dim() == 0 || x.size(-1) != in_features)
        throw std::invalid_argument("Linear: the input's last dim must be in_features = " + std::to_string(in_features) +
                                    "; got shape " + shape_str(x.shape()));
    Tensor y = matmul(x, weight.transpose(0, 1));  // (..., in) @ (in, out): W^T is a view, passed to BLAS as a flag
    return bias.defined() ? y + bias : y;
}

}  // namespace ag
