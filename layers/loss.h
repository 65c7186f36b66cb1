// Losses: a scalar to call backward() on.
//
//   Tensor loss = ag::cross_entropy(logits.view({B * T, C}), targets.view({B * T}));   // classification
//   Tensor loss = ag::mse_loss(prediction, target);                                    // regression
//
// cross_entropy is an engine op (engine/ops.h, one fused kernel with its backward); this header includes it so a
// training loop finds every loss here:
//   cross_entropy(logits (N, C) float, targets (N) int64 in [0, C)) = mean over n of -log softmax(logits)[n, t_n].
// With PyTorch's options (engine/loss.cpp): cross_entropy(logits, targets, {.ignore_index, .label_smoothing,
// .reduction}) also on (N, C, d1, ...) and (B, T, V) logits, nll_loss and binary_cross_entropy_with_logits.
#pragma once
#include "engine/ops.h"
#include "engine/tensor.h"

namespace ag {

// torch.nn.functional.mse_loss with reduction 'mean': mean((input - target)^2), a 0-d tensor, differentiable
// wrt both (d input = 2 (input - target) / N, d target = -d input). input and target must have the same floating
// dtype and exactly the same shape (PyTorch broadcasts with a warning; here a mismatch is an error).
Tensor mse_loss(const Tensor& input, const Tensor& target);

}  // namespace ag
