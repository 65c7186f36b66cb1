// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
#pragma once
#include <limits>
#include <vector>

#include "engine/tensor.h"

namespace ag {

// torch::nn::utils::clip_grad_norm_. The norm of all gradients together, as if joined into one vector:
//   total = (sum over every gradient element of |g|^p)^(1/p)     (norm_type p; max |g| for p = infinity)
// and, when total > max_norm, every .grad is scaled by max_norm / (total + 1e-6). Returns total (before
// clipping), summed in double; 0 when no parameter has a gradient (parameters without one are skipped).
// A non-finite total is returned as is and nothing is scaled (PyTorch would scale by 0 or NaN), so the caller can
// stop (see the trainers). Throws unless max_norm > 0 and norm_type > 0 (infinity allowed).
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2);
// The older spelling, kept so existing code compiles: clip_grad_norm_(parameters, max_norm).
inline double clip_grad_norm(const std::vector<Tensor>& parameters, double max_norm) {
    return clip_grad_norm_(parameters, max_norm);
}

}  // namespace ag
