#include "layers/layer_norm.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/ops.h"

namespace ag {

LayerNorm::LayerNorm(int64_t C, double eps) : normalized_shape(C), eps(eps) {
    if (C < 1) throw std::invalid_argument("LayerNorm: C must be positive; got " + std::to_string(C));
    if (!(eps >= 0) || !std::isfinite(eps))
        throw std::invalid_argument("LayerNorm: eps must be non-negative and finite; got " + number_str(eps));
    weight = ones({C});
    bias = zeros({C});
    register_parameter("weight", weight);
    register_parameter("bias", bias);
}

Tensor LayerNorm::forward(const Tensor& x) const {
    if (x.dim() == 0 || x.size(-1) != normalized_shape)
        throw std::invalid_argument("LayerNorm: the input's last dim must be C = " + std::to_string(normalized_shape) +
                                    "; got shape " + shape_str(x.shape()));
    return layer_norm(x, weight, bias, eps);
}

}  // namespace ag
