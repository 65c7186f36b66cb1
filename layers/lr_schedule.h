// Learning-rate schedules: each sets an optimiser's lr, as torch.optim.lr_scheduler's do.
//
//   ag::AdamW opt(model.named_parameters(), 1e-3);
//   ag::StepLR schedule(opt, /*step_size=*/30, /*gamma=*/0.1);   // sets opt.lr for epoch 0 at once
//   for (...) { ...; opt.step(); schedule.step(); }                 // step(): the next epoch's lr
//
// The optimiser's lr at construction is the base lr. Each schedule computes the lr of epoch e from the base lr in
// closed form (PyTorch's _get_closed_form_lr), so it equals PyTorch's chained updates to rounding and does not
// depend on how the lr got where it is: a schedule rebuilt for a resumed run just needs its epoch.
#pragma once
#include <cstdint>

#include "layers/optim.h"

namespace ag {

class LRScheduler {
public:
    virtual ~LRScheduler() = default;
    LRScheduler(const LRScheduler&) = delete;
    LRScheduler& operator=(const LRScheduler&) = delete;

    // Advances one epoch and sets the optimiser's lr to that epoch's.
    void step();
    double get_last_lr() const { return last_lr_; }  // the lr last set (torch's get_last_lr()[0])
    int64_t last_epoch() const { return last_epoch_; }
    double base_lr() const { return base_lr_; }

protected:
    explicit LRScheduler(Optimizer& optimizer);
    // The lr of `epoch` (0, 1, ...). A subclass's constructor checks its arguments, then calls start().
    virtual double lr_at(int64_t epoch) const = 0;
    void start();  // sets epoch 0's lr

private:
    Optimizer& optimizer_;
    double base_lr_;
    int64_t last_epoch_ = 0;
    double last_lr_;
};

// torch::optim::StepLR: lr = base_lr * gamma^floor(epoch / step_size).
// Throws for step_size < 1 and gamma < 0 (or NaN).
class StepLR : public LRScheduler {
public:
    StepLR(Optimizer& optimizer, int64_t step_size, double gamma = 0.1);
    const int64_t step_size;
    const double gamma;

protected:
    double lr_at(int64_t epoch) const override;
};

// torch.optim.lr_scheduler.LinearLR: the factor on base_lr goes linearly from start_factor to end_factor over
// total_iters epochs, then stays:  lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters).
// Throws for factors outside PyTorch's range [0, 1] and total_iters < 1.
class LinearLR : public LRScheduler {
public:
    LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0, int64_t total_iters = 5);
    const double start_factor, end_factor;
    const int64_t total_iters;

protected:
    double lr_at(int64_t epoch) const override;
};

// nanoGPT's get_lr(it), with learning_rate the base lr: a linear warm-up, then a cosine decay to min_lr, then
// min_lr:
//   it < warmup_iters:                  lr = base_lr * (it + 1) / (warmup_iters + 1)
//   warmup_iters <= it < lr_decay_iters: lr = min_lr + 0.5 (1 + cos(pi r)) (base_lr - min_lr),
//                                        r = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
//   it >= lr_decay_iters:               lr = min_lr
// Throws for warmup_iters < 0, warmup_iters > lr_decay_iters, and min_lr outside [0, base_lr].
class CosineWarmupLR : public LRScheduler {
public:
    CosineWarmupLR(Optimizer& optimizer, int64_t warmup_iters, int64_t lr_decay_iters, double min_lr);
    const int64_t warmup_iters, lr_decay_iters;
    const double min_lr;

protected:
    double lr_at(int64_t epoch) const override;
};

}  // namespace ag
