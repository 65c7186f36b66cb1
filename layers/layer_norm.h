// LayerNorm: torch.nn.LayerNorm(C) over the last dim, as the lecture's GPT uses it before attention, before the
// feed-forward and before the readout.
#pragma once
#include <cstdint>

#include "layers/module.h"

namespace ag {

class LayerNorm : public Layer {
public:
    // weight (C) ones and bias (C) zeros, as PyTorch initialises them (no draws); eps as PyTorch's default.
    explicit LayerNorm(int64_t C, double eps = 1e-5);

    // x (..., C) -> (..., C): each row normalised to mean 0 and variance 1 (biased), then * weight + bias.
    // Throws if x's last dim is not C.
    Tensor forward(const Tensor& x) const override;

    int64_t normalized_shape;
    double eps;
    Tensor weight, bias;  // (C) each
};

}  // namespace ag
