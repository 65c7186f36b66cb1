#include "layers/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "engine/ops.h"

namespace ag {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer), base_lr_(optimizer.lr), last_lr_(optimizer.lr) {}

void LRScheduler::start() {
    last_epoch_ = 0;
    optimizer_.lr = last_lr_ = lr_at(0);
}

void LRScheduler::step() {
    ++last_epoch_;
    optimizer_.lr = last_lr_ = lr_at(last_epoch_);
}

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size(step_size), gamma(gamma) {
    if (step_size < 1) throw std::invalid_argument("StepLR: step_size must be positive; got " + std::to_string(step_size));
    if (!(gamma >= 0)) throw std::invalid_argument("StepLR: gamma must be non-negative; got " + number_str(gamma));
    start();
}

// lr = base_lr * gamma^floor(epoch / step_size)
double StepLR::lr_at(int64_t epoch) const {
    return base_lr() * std::pow(gamma, static_cast<double>(epoch / step_size));
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor, int64_t total_iters)
    : LRScheduler(optimizer), start_factor(start_factor), end_factor(end_factor), total_iters(total_iters) {
    if (!(start_factor >= 0 && start_factor <= 1))
        throw std::invalid_argument("LinearLR: start_factor must be in [0, 1]; got " + number_str(start_factor));
    if (!(end_factor >= 0 && end_factor <= 1))
        throw std::invalid_argument("LinearLR: end_factor must be in [0, 1]; got " + number_str(end_factor));
    if (total_iters < 1)
        throw std::invalid_argument("LinearLR: total_iters must be positive; got " + std::to_string(total_iters));
    start();
}

// lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)
double LinearLR::lr_at(int64_t epoch) const {
    const double done = static_cast<double>(std::min(epoch, total_iters)) / static_cast<double>(total_iters);
    return base_lr() * (start_factor + (end_factor - start_factor) * done);
}

CosineWarmupLR::CosineWarmupLR(Optimizer& optimizer, int64_t warmup_iters, int64_t lr_decay_iters, double min_lr)
    : LRScheduler(optimizer), warmup_iters(warmup_iters), lr_decay_iters(lr_decay_iters), min_lr(min_lr) {
    if (warmup_iters < 0)
        throw std::invalid_argument("CosineWarmupLR: warmup_iters must be non-negative; got " +
                                    std::to_string(warmup_iters));
    if (warmup_iters > lr_decay_iters)
        throw std::invalid_argument("CosineWarmupLR: warmup_iters must not exceed lr_decay_iters; got " +
                                    std::to_string(warmup_iters) + " > " + std::to_string(lr_decay_iters));
    if (!(min_lr >= 0 && min_lr <= base_lr()))
        throw std::invalid_argument("CosineWarmupLR: min_lr must be in [0, the optimiser's lr " +
                                    number_str(base_lr()) + "]; got " + number_str(min_lr));
    start();
}

double CosineWarmupLR::lr_at(int64_t it) const {
    const double lr = base_lr();
    // lr * (it + 1) / (warmup_iters + 1): the warm-up never sets an lr of 0
    if (it < warmup_iters) return lr * static_cast<double>(it + 1) / static_cast<double>(warmup_iters + 1);
    if (it >= lr_decay_iters) return min_lr;
    // min_lr + 0.5 (1 + cos(pi r)) (lr - min_lr): from lr at r = 0 down to min_lr at r = 1
    const double r = static_cast<double>(it - warmup_iters) / static_cast<double>(lr_decay_iters - warmup_iters);
    return min_lr + 0.5 * (1 + std::cos(std::numbers::pi * r)) * (lr - min_lr);
}

}  // namespace ag
