// Dropout as a layer: torch.nn.Dropout(p). No parameters.
#pragma once
#include <stdexcept>
#include <string>

#include "engine/ops.h"
#include "layers/module.h"

namespace ag {

// In training mode, zeroes each element with probability p and scales the rest by 1 / (1 - p), with PyTorch's
// mask from the default generator (engine/ops.h, dropout); in eval mode (Module::eval), the identity.
class Dropout : public Layer {
public:
    explicit Dropout(double p = 0.5) : p(p) {
        if (!(p >= 0 && p <= 1)) throw std::invalid_argument("Dropout: p must be in [0, 1]; got " + number_str(p));
    }
    Tensor forward(const Tensor& x) const override { return dropout(x, p, is_training()); }

    double p;
};

}  // namespace ag
