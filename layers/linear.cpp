#include "layers/linear.h"

#include <cmath>
#include <stdexcept>
#include <string>

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

void check_in_features(const char* op, int64_t in_features) {
    if (in_features < 0)
        throw std::invalid_argument(std::string(op) + ": in_features must be non-negative; got " +
                                    std::to_string(in_features));
}

}  // namespace

double Linear::weight_bound(int64_t in_features) {
    check_in_features("Linear::weight_bound", in_features);
    if (in_features == 0) return 0.0;
    // kaiming_uniform_(a = sqrt(5)): gain = sqrt(2 / (1 + a^2)), std = gain / sqrt(fan_in),
    // bound = sqrt(3) * std. Kept in this exact order so the double matches PyTorch's.
    const double a = std::sqrt(5.0);
    const double gain = std::sqrt(2.0 / (1.0 + a * a));
    const double std_dev = gain / std::sqrt(static_cast<double>(in_features));
    return std::sqrt(3.0) * std_dev;
}

double Linear::bias_bound(int64_t in_features) {
    check_in_features("Linear::bias_bound", in_features);
    if (in_features == 0) return 0.0;
    return 1.0 / std::sqrt(static_cast<double>(in_features));
}

Linear::Linear(int64_t in, int64_t out, bool has_bias) : in_features(in), out_features(out) {
    if (in < 0 || out < 0)
        throw std::invalid_argument("Linear: sizes must be non-negative; got in=" + std::to_string(in) +
                                    ", out=" + std::to_string(out));
    weight = uniform({out, in}, weight_bound(in));
    register_parameter("weight", weight);
    if (has_bias) {
        bias = uniform({out}, bias_bound(in));
        register_parameter("bias", bias);
    }
}

namespace {

void check_input(const Tensor& x, int64_t in_features) {
    if (x.dim() == 0 || x.size(-1) != in_features)
        throw std::invalid_argument("Linear: the input's last dim must be in_features = " + std::to_string(in_features) +
                                    "; got shape " + shape_str(x.shape()));
}

}  // namespace

Tensor Linear::forward(const Tensor& x) const {
    check_input(x, in_features);
    return linear(x, weight, bias);  // (..., in) @ (in, out) + (out)
}

Tensor Linear::forward_relu(const Tensor& x) const {
    check_input(x, in_features);
    return linear_relu(x, weight, bias);
}

}  // namespace ag
