// Activations as layers, for a Sequential: torch.nn.ReLU and torch.nn.GELU. No parameters.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>

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
    // Throws for an approximation other than "none" and "tanh" (here, not at the first forward).
    explicit GELU(std::string approximate = "none") : approximate(std::move(approximate)) {
        if (this->approximate != "none" && this->approximate != "tanh")
            throw std::invalid_argument("GELU: approximate must be \"none\" or \"tanh\"; got \"" + this->approximate +
                                        "\"");
    }
    Tensor forward(const Tensor& x) const override { return gelu(x, approximate); }

    std::string approximate;
};

}  // namespace ag
