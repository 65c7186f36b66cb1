#include "layers/module.h"

#include <stdexcept>

#include "engine/autograd.h"

namespace ag {

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
    std::vector<std::pair<std::string, Tensor>> out;
    for (const auto& [name, p] : parameters_) out.emplace_back(name, *p);
    for (const auto& [prefix, child] : children_)
        for (auto& [name, p] : child->named_parameters()) out.emplace_back(prefix + "." + name, p);
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& named : named_parameters()) out.push_back(named.second);
    return out;
}

int64_t Module::num_parameters() const {
    int64_t n = 0;
    for (const Tensor& p : parameters()) n += p.numel();
    return n;
}

void Module::zero_grad() {
    for (Tensor& p : parameters()) p.zero_grad();
}

void Module::train(bool on) {
    training_ = on;
    for (auto& named : children_) named.second->train(on);
}

void Module::to(DType dtype) {
    if (!is_floating(dtype))
        throw std::invalid_argument("Module::to: parameters must be floating-point; got " + dtype_name(dtype));
    NoGradGuard no_grad;
    for (auto& named : parameters_) {
        Tensor& p = *named.second;
        if (p.dtype() == dtype) continue;  // already there: nothing changes
        p.set_data(p.detach().to(dtype));  // the same tensor (every handle to it) now holds the converted values
    }
    for (auto& named : children_) named.second->to(dtype);
}

void Module::apply(const std::function<void(Module&)>& fn) {
    for (auto& named : children_) named.second->apply(fn);
    fn(*this);
}

void Module::register_parameter(std::string name, Tensor& parameter) {
    if (name.empty() || name.find('.') != std::string::npos)
        throw std::invalid_argument("register_parameter: a name must be non-empty and have no '.'; got '" + name + "'");
    parameter.requires_grad_();
    parameter.set_name(name);  // so graph dumps show "weight"; a parent module prefixes its path
    parameters_.emplace_back(std::move(name), &parameter);
}

void Module::register_module(std::string name, Module& child) {
    if (name.empty()) throw std::invalid_argument("register_module: a name must be non-empty");
    for (auto& [path, p] : child.named_parameters()) p.set_name(name + "." + path);
    children_.emplace_back(std::move(name), &child);
}

}  // namespace ag
