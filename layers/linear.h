// Linear: y = x W^T + b, the affine layer of torch.nn.Linear.
#pragma once
#include "layers/module.h"

namespace ag {

class Linear : public Layer {
public:
    // weight (out, in) and bias (out) drawn as torch.nn.Linear does (kaiming-uniform, bound 1/sqrt(in)) from the
    // default generator: after manual_seed(s), Linear(in, out) holds PyTorch's numbers for the same seed.
    Linear(int64_t in_features, int64_t out_features, bool bias = true);

    // x (..., in) -> (..., out). Throws if x's last dim is not in_features.
    Tensor forward(const Tensor& x) const override;
    // relu(forward(x)) as one op (linear_relu): what Sequential runs for this layer followed by a ReLU.
    Tensor forward_relu(const Tensor& x) const;

    // The kaiming-uniform bound PyTorch's nn.Linear uses for its weight, computed in double as
    // sqrt(3) * sqrt(2 / (1 + a^2)) / sqrt(in) with a = sqrt(5). Same as 1/sqrt(in) up to the last bit
    // of the double; identical once rounded to float (tested for in = 1..4096). 0 when in_features == 0.
    static double weight_bound(int64_t in_features);
    // The bias bound 1/sqrt(in) (0 when in_features == 0).
    static double bias_bound(int64_t in_features);

    int64_t in_features, out_features;
    Tensor weight;  // (out, in)
    Tensor bias;    // (out), undefined when built with bias = false
};

}  // namespace ag
