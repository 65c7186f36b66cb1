// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace ag {

// Scales every parameter's .grad by max_norm / (total_norm + 1e-6) when the L2 norm of all gradients together
// exceeds max_norm; returns that total norm (before clipping). Parameters without a gradient are skipped.
// A non-finite total norm is returned as is and nothing is scaled, so the caller can stop (see the trainers).
// Throws if max_norm is not positive.
double clip_grad_norm(const std::vector<Tensor>& parameters, double max_norm);

}  // namespace ag
