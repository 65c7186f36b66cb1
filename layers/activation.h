// Activations as layers, for a Sequential: torch.nn.ReLU and torch.nn.GELU. No parameters.
#pragma once
#include <string>

#include "engine/ops.h"
#include "layers/module.h"

namespace ag {

// max(x, 0), element-wise.
class ReLU : public Layer {
public:
    Tensor forward(const Tensor& x) const override { return relu(x); }
};

// x Phi(x), element-wise; approximate "tanh" is GPT-2's (and nanoGPT's) form, "none" the exact one (engine/ops.h).
class GELU : public Layer {
public:
    explicit GELU(std::string approximate = "none") : approximate(std::move(approximate)) {
        (void)gelu(zeros({1}), this->approximate);  // an unknown form is refused here, not at the first forward
    }
    Tensor forward(const Tensor& x) const override { return gelu(x, approximate); }

    std::string approximate;
};

}  // namespace ag
