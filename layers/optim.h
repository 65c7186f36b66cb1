// Optimisers: update parameters from their .grad, with PyTorch's update rules and defaults.
//
//   ag::AdamW opt(model.named_parameters(), /*lr=*/1e-3);
//   for (...) { opt.zero_grad(); loss = ...; loss.backward(); opt.step(); }
//
// step() writes into the parameters' own storage (under NoGradGuard), so the Module's tensors see the update.
// Parameters must be contiguous leaves that require grad; a parameter whose .grad is undefined is skipped.
// State buffers are made once, at construction: a step allocates nothing, and a checkpoint's state loads into a
// fresh optimiser. Results equal those of PyTorch 1.13's single-tensor (non-foreach) loops bit for bit
// (measured against its AVX2 kernels): each coefficient is rounded to the parameter's type once, and each formula
// line is one PyTorch op, rounded (or fused) as PyTorch's CPU kernel does it (see optim.cpp).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace ag {

class Optimizer {
public:
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    // One update of every parameter that has a gradient (parameters whose .grad is undefined are skipped).
    virtual void step() = 0;
    // Zeroes every parameter's gradient.
    void zero_grad();
    // The optimiser's state as named tensors, handles to the live buffers (so a checkpoint loader can write into
    // them): "<slot>.<parameter name>" such as "exp_avg.key.weight", and "step" (0-d int64) where there is one.
    virtual NamedTensors state() = 0;

    const NamedTensors& params() const { return params_; }
    double lr = 0;  // read at every step, so a schedule may change it between steps

protected:
    // `name` starts every error message ("AdamW: ..."). Throws std::invalid_argument for an empty list ("AdamW:
    // optimizer got an empty parameter list", as torch says: a model that registered nothing), for a tensor listed
    // twice ("AdamW: a parameter must appear only once; got 'fc.weight' again as 'head.weight'", PyTorch's "some
    // parameters appear in more than one parameter group"), and unless every parameter is a defined, contiguous
    // leaf that requires grad, with a unique name.
    Optimizer(std::string name, NamedTensors params);
    // Throws "<name>: <rule>; got <value>" unless ok (NaN fails every `x >= 0` rule).
    void require(bool ok, const std::string& rule, double value) const;
    // params_[k]'s gradient, checked to be contiguous and of the parameter's shape and dtype; undefined if it has
    // none. Throws if the parameter itself no longer has the dtype and shape the optimiser was built for.
    Tensor grad_of(size_t k) const;
    // Checks every gradient before a step writes anything (a bad one then leaves every parameter untouched);
    // true if any parameter has one.
    bool check_grads() const;

    NamedTensors params_;
    std::string name_;

private:
    struct Layout {
        DType dtype;
        Shape shape;
    };
    std::vector<Layout> built_for_;  // each parameter's dtype and shape at construction: its state's
};

// torch.optim.SGD. For each parameter p with gradient g:
//   g = g + weight_decay * p                                   (if weight_decay != 0)
//   buf = momentum * buf + (1 - dampening) * g, buf = g at the first step; g = nesterov ? g + momentum * buf : buf
//                                                              (if momentum != 0)
//   p = p - lr * g
class SGD : public Optimizer {
public:
    // Throws for lr, momentum or weight_decay < 0, and for nesterov without momentum > 0 and dampening == 0.
    SGD(NamedTensors params, double lr, double momentum = 0, double weight_decay = 0, double dampening = 0,
        bool nesterov = false);
    void step() override;
    // With momentum: "momentum_buffer.<name>" per parameter, and "momentum_started" (one bool per parameter: has
    // its buffer taken a step, so that the next step updates it rather than starting it at g). Without: nothing.
    NamedTensors state() override;

    const double momentum, weight_decay, dampening;
    const bool nesterov;

private:
    std::vector<Tensor> momentum_buffer_;  // one per parameter, zeros until its first step (when momentum != 0)
    Tensor momentum_started_;              // (P) bool
};

// torch.optim.AdamW (PyTorch 1.13, amsgrad off). With t the step count after this step, for each parameter p with
// gradient g:
//   p = p * (1 - lr * weight_decay)                            (decoupled weight decay)
//   m = beta1 * m + (1 - beta1) * g ;  v = beta2 * v + (1 - beta2) * g^2
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// One step count is shared by all parameters (PyTorch keeps one per parameter): it advances when any parameter has
// a gradient, so a parameter skipped on some steps gets a later bias correction than PyTorch would give it.
class AdamW : public Optimizer {
public:
    // Throws for lr, eps or weight_decay < 0 and for betas outside [0, 1).
    AdamW(NamedTensors params, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
          double weight_decay = 1e-2);
    void step() override;
    // "step" (0-d int64: the steps taken), then "exp_avg.<name>" (m) and "exp_avg_sq.<name>" (v) for each parameter,
    // in parameter order; PyTorch's state_dict uses the same slot names. All exist from construction (zeros), so a
    // checkpoint can be loaded into a fresh optimiser; step() reads the count from the "step" tensor.
    NamedTensors state() override;
    int64_t step_count() const;

    const double beta1, beta2, eps, weight_decay;

private:
    std::vector<Tensor> exp_avg_, exp_avg_sq_;  // m and v, one per parameter
    Tensor step_;                               // 0-d int64
};

}  // namespace ag
