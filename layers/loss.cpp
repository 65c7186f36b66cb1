#include "layers/loss.h"

#include <stdexcept>

namespace ag {

Tensor mse_loss(const Tensor& input, const Tensor& target) {
    if (input.shape() != target.shape())
        throw std::invalid_argument("mse_loss: input and target must have the same shape; got " +
                                    shape_str(input.shape()) + " and " + shape_str(target.shape()));
    if (input.dtype() != target.dtype() || !is_floating(input.dtype()))
        throw std::invalid_argument("mse_loss: input and target must have the same floating-point dtype; got " +
                                    dtype_name(input.dtype()) + " and " + dtype_name(target.dtype()));
    // Composed of engine ops, so its gradient comes from theirs: d diff = 2 diff dout / N (the product's rule,
    // with diff reused as both factors), then d input = d diff, d target = -d diff.
    Tensor diff = input - target;
    return mean(diff * diff);
}

}  // namespace ag
