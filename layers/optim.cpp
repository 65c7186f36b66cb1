// The Optimizer base, SGD and AdamW. Each update is one plain loop over a parameter's contiguous elements, with the
// formula of each line above it. As in PyTorch, the coefficients are computed in double (PyTorch does it in Python)
// and rounded once to the parameter's type T, and each line is one PyTorch op rounded to T. PyTorch's CPU kernels
// for add_(x, alpha=a) and addcmul_ are fused multiply-adds (vec::fmadd), so the lines that mirror them use
// std::fma: float32 and float64 results then equal PyTorch 1.13's bit for bit (on the AVX2 kernels it runs on any
// recent x86 CPU; tests allow a few units in the last place).
#include "layers/optim.h"

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/ops.h"

namespace ag {

// ---- Optimizer ------------------------------------------------------------------------------------------------------

Optimizer::Optimizer(std::string name, NamedTensors params) : params_(std::move(params)), name_(std::move(name)) {
    if (params_.empty())  // a model that registered nothing: training it would silently do nothing
        throw std::invalid_argument(name_ + ": optimizer got an empty parameter list; got 0 parameters (does the "
                                    "model register its layers with register_module?)");
    std::set<std::string> names;
    std::map<const TensorImpl*, std::string> tensors;  // each tensor, with the name it was first listed under
    for (const auto& [pname, p] : params_) {
        const std::string got = "; got '" + pname + "'";
        if (!p.defined()) throw std::invalid_argument(name_ + ": every parameter must be defined" + got + " undefined");
        if (!p.requires_grad())
            throw std::invalid_argument(name_ + ": every parameter must require grad" + got + ", which does not");
        if (!p.is_leaf())
            throw std::invalid_argument(name_ + ": every parameter must be a leaf" + got + ", made by '" +
                                        std::string(p.grad_fn()->name) + "'");
        if (!p.is_contiguous())
            throw std::invalid_argument(name_ + ": every parameter must be contiguous" + got + " with strides " +
                                        shape_str(p.strides()));
        // PyTorch: "some parameters appear in more than one parameter group"; stepped twice, it would move twice
        const auto [first, is_new] = tensors.emplace(p.impl_ptr().get(), pname);
        if (!is_new)
            throw std::invalid_argument(name_ + ": a parameter must appear only once; got '" + first->second +
                                        (first->second == pname ? "' twice" : "' again as '" + pname + "'"));
        if (!names.insert(pname).second)
            throw std::invalid_argument(name_ + ": parameter names must be unique" + got + " twice");
        built_for_.push_back({p.dtype(), p.shape()});
    }
}

void Optimizer::zero_grad() {
    for (auto& named : params_) named.second.zero_grad();
}

void Optimizer::require(bool ok, const std::string& rule, double value) const {
    if (ok) return;
    std::ostringstream got;
    got << value;  // shortest form, as Python prints it: 1.5, -0.001, 1e-08
    throw std::invalid_argument(name_ + ": " + rule + "; got " + got.str());
}

Tensor Optimizer::grad_of(size_t k) const {
    const auto& [pname, p] = params_[k];
    const Layout& built = built_for_[k];
    if (p.dtype() != built.dtype || p.shape() != built.shape)
        throw std::invalid_argument(name_ + ": parameter '" + pname + "' is now " + dtype_name(p.dtype()) + " of shape " +
                                    shape_str(p.shape()) + ", but the optimiser was built for " +
                                    dtype_name(built.dtype) + " of shape " + shape_str(built.shape) +
                                    " (was the model converted with Module::to afterwards? build the optimiser after "
                                    "converting)");
    if (!p.is_contiguous())
        throw std::invalid_argument(name_ + ": parameter '" + pname + "' is no longer contiguous (strides " +
                                    shape_str(p.strides()) + "): was it given other values with set_data?");
    Tensor g = p.grad();
    if (g.defined() && (g.shape() != p.shape() || g.dtype() != p.dtype() || !g.is_contiguous()))
        throw std::invalid_argument(name_ + ": a gradient must be contiguous and of its parameter's shape " +
                                    shape_str(p.shape()) + " and dtype; got " + shape_str(g.shape()) +
                                    " with strides " + shape_str(g.strides()) + " for '" + pname + "'");
    return g;
}

bool Optimizer::check_grads() const {
    bool any = false;
    for (size_t k = 0; k < params_.size(); ++k) any = grad_of(k).defined() || any;
    return any;
}

// ---- SGD ------------------------------------------------------------------------------------------------------------

namespace {

struct SgdCoefficients {
    double neg_lr, momentum, one_minus_dampening, weight_decay;
    bool nesterov;
};

// One SGD update of the n elements of p from gradient g; buf is the momentum buffer (null without momentum),
// `first` says it has just been made and holds nothing yet.
template <typename Scalar>
void sgd_update(Scalar* p, const Scalar* g, Scalar* buf, bool first, int64_t n, const SgdCoefficients& c) {
    const Scalar neg_lr = Scalar(c.neg_lr), momentum = Scalar(c.momentum), weight_decay = Scalar(c.weight_decay);
    const Scalar one_minus_dampening = Scalar(c.one_minus_dampening);
    for (int64_t i = 0; i < n; ++i) {
        // d = g + weight_decay * p
        Scalar d = c.weight_decay != 0 ? std::fma(weight_decay, p[i], g[i]) : g[i];
        if (buf) {
            // buf = momentum * buf + (1 - dampening) * d, or buf = d on the first step
            buf[i] = first ? d : std::fma(one_minus_dampening, d, buf[i] * momentum);
            // d = nesterov ? d + momentum * buf : buf
            d = c.nesterov ? std::fma(momentum, buf[i], d) : buf[i];
        }
        // p = p - lr * d
        p[i] = std::fma(neg_lr, d, p[i]);
    }
}

}  // namespace

SGD::SGD(NamedTensors params, double lr, double momentum, double weight_decay, double dampening, bool nesterov)
    : Optimizer("SGD", std::move(params)),
      momentum(momentum),
      weight_decay(weight_decay),
      dampening(dampening),
      nesterov(nesterov) {
    require(lr >= 0, "lr must be non-negative", lr);
    require(momentum >= 0, "momentum must be non-negative", momentum);
    require(weight_decay >= 0, "weight_decay must be non-negative", weight_decay);
    if (nesterov && !(momentum > 0 && dampening == 0)) {
        std::ostringstream got;
        got << "momentum=" << momentum << ", dampening=" << dampening;
        throw std::invalid_argument(name_ + ": nesterov needs momentum > 0 and dampening = 0; got " + got.str());
    }
    this->lr = lr;
    if (momentum != 0) {
        for (const auto& named : params_) momentum_buffer_.push_back(zeros(named.second.shape(), named.second.dtype()));
        momentum_started_ = zeros({static_cast<int64_t>(params_.size())}, DType::Bool);
    }
}

void SGD::step() {
    NoGradGuard no_grad;
    if (!check_grads()) return;
    const SgdCoefficients c{-lr, momentum, 1 - dampening, weight_decay, nesterov};
    for (size_t k = 0; k < params_.size(); ++k) {
        const Tensor& p = params_[k].second;
        const Tensor g = grad_of(k);
        if (!g.defined()) continue;
        bool* started = momentum != 0 ? momentum_started_.data<bool>() + k : nullptr;
        const bool first = started && !*started;
        dispatch_floating(p.dtype(), "SGD", [&]<typename Scalar>() {
            sgd_update<Scalar>(p.data<Scalar>(), g.data<Scalar>(), started ? momentum_buffer_[k].data<Scalar>() : nullptr, first,
                          p.numel(), c);
        });
        if (started) *started = true;
        p.bump_version();  // an in-place update: a graph that saved p refuses to run backward on its new values
    }
}

NamedTensors SGD::state() {
    NamedTensors out;
    if (momentum == 0) return out;
    for (size_t k = 0; k < params_.size(); ++k) out.emplace_back("momentum_buffer." + params_[k].first, momentum_buffer_[k]);
    out.emplace_back("momentum_started", momentum_started_);
    return out;
}

// ---- AdamW ----------------------------------------------------------------------------------------------------------

namespace {

struct AdamWCoefficients {
    double decay, beta1, one_minus_beta1, beta2, one_minus_beta2, bias_correction2_sqrt, eps, neg_step_size;
};

// One AdamW update of the n elements of p from gradient g, with first moment m and second moment v.
template <typename Scalar>
void adamw_update(Scalar* p, const Scalar* g, Scalar* m, Scalar* v, int64_t n, const AdamWCoefficients& c) {
    const Scalar decay = Scalar(c.decay), beta1 = Scalar(c.beta1), one_minus_beta1 = Scalar(c.one_minus_beta1), beta2 = Scalar(c.beta2);
    const Scalar one_minus_beta2 = Scalar(c.one_minus_beta2), bias_correction2_sqrt = Scalar(c.bias_correction2_sqrt);
    const Scalar eps = Scalar(c.eps), neg_step_size = Scalar(c.neg_step_size);
    // The four arrays are distinct (each parameter has its own gradient and moments): the loop vectorises.
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
        const Scalar gi = g[i];
        // m = beta1 * m + (1 - beta1) * g
        const Scalar mi = std::fma(one_minus_beta1, gi, m[i] * beta1);
        // v = beta2 * v + (1 - beta2) * g * g
        const Scalar vi = std::fma(one_minus_beta2 * gi, gi, v[i] * beta2);
        m[i] = mi;
        v[i] = vi;
        // denom = sqrt(v) / sqrt(bias_correction2) + eps
        const Scalar denom = std::sqrt(vi) / bias_correction2_sqrt + eps;
        // p = p * (1 - lr * weight_decay) - lr / bias_correction1 * m / denom
        p[i] = p[i] * decay + neg_step_size * mi / denom;
    }
}

}  // namespace

AdamW::AdamW(NamedTensors params, double lr, double beta1, double beta2, double eps, double weight_decay)
    : Optimizer("AdamW", std::move(params)),
      beta1(beta1),
      beta2(beta2),
      eps(eps),
      weight_decay(weight_decay),
      step_(zeros({}, DType::Int64)) {
    require(lr >= 0, "lr must be non-negative", lr);
    require(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1)", beta1);
    require(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1)", beta2);
    require(eps >= 0, "eps must be non-negative", eps);
    require(weight_decay >= 0, "weight_decay must be non-negative", weight_decay);
    this->lr = lr;
    for (const auto& named : params_) {
        exp_avg_.push_back(zeros_like(named.second));
        exp_avg_sq_.push_back(zeros_like(named.second));
    }
}

void AdamW::step() {
    NoGradGuard no_grad;
    if (!check_grads()) return;
    int64_t& t = *step_.data<int64_t>();  // the live count: a checkpoint loader may have written it
    if (t < 0 || t == std::numeric_limits<int64_t>::max())
        throw std::invalid_argument(name_ + ": the step count must be in [0, 2^63 - 1) to take a step; got " +
                                    std::to_string(t) + " (from a checkpoint?)");
    ++t;
    // bias_correction1 = 1 - beta1^t ; bias_correction2 = 1 - beta2^t (in double, as PyTorch's Python does)
    const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(t));
    const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(t));
    const AdamWCoefficients c{1 - lr * weight_decay, beta1, 1 - beta1, beta2, 1 - beta2, std::sqrt(bias_correction2),
                              eps, -(lr / bias_correction1)};
    for (size_t k = 0; k < params_.size(); ++k) {
        const Tensor& p = params_[k].second;
        const Tensor g = grad_of(k);
        if (!g.defined()) continue;
        dispatch_floating(p.dtype(), "AdamW", [&]<typename Scalar>() {
            adamw_update<Scalar>(p.data<Scalar>(), g.data<Scalar>(), exp_avg_[k].data<Scalar>(), exp_avg_sq_[k].data<Scalar>(), p.numel(), c);
        });
        p.bump_version();  // an in-place update: a graph that saved p refuses to run backward on its new values
    }
}

NamedTensors AdamW::state() {
    NamedTensors out{{"step", step_}};
    for (size_t k = 0; k < params_.size(); ++k) {
        out.emplace_back("exp_avg." + params_[k].first, exp_avg_[k]);
        out.emplace_back("exp_avg_sq." + params_[k].first, exp_avg_sq_[k]);
    }
    return out;
}

int64_t AdamW::step_count() const { return *step_.data<int64_t>(); }

}  // namespace ag
