#include "layers/module.h"

#include <cxxabi.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <typeinfo>

#include "engine/autograd.h"

namespace ag {

// ---- Which Modules a constructor built ---------------------------------------------------------------------------
// Every live Module, by its construction number, with the thread that built it. A constructor builds all its
// members before its body runs; so the Modules a thread built between a Module's own number and its first
// register call are that Module's members (and their members). Each must end up registered.

namespace {

struct Built {
    const Module* module;
    std::thread::id thread;
};

struct Registry {
    std::mutex mutex;
    uint64_t next_number = 1;  // 0 means "not known yet" in members_end_
    std::map<uint64_t, Built> live;
};

Registry& registry() {
    static Registry* r = new Registry;  // never destroyed: a static Module may outlive any static registry
    return *r;
}

// "ag::Linear" for a Linear (the compiler's name when it cannot be demangled).
std::string type_name(const Module& m) {
    const char* mangled = typeid(m).name();
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> readable(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
    return status == 0 ? readable.get() : mangled;
}

}  // namespace

Module::Module() {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    number_ = r.next_number++;
    r.live.emplace(number_, Built{this, std::this_thread::get_id()});
}

Module::~Module() {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.live.erase(number_);
}

void Module::members_built() {
    if (members_end_ != 0) return;  // only the first call marks the end
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    members_end_ = r.next_number;
}

void Module::check_members_registered() const {
    for (const auto& named : children_) named.second->check_members_registered();
    if (members_end_ == 0) return;  // registered nothing yet: its members are not known
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    const std::thread::id thread = r.live.at(number_).thread;
    for (auto it = r.live.upper_bound(number_); it != r.live.end() && it->first < members_end_; ++it) {
        const Module& member = *it->second.module;
        if (member.registered_ || it->second.thread != thread) continue;
        std::vector<std::pair<std::string, Tensor>> params;
        member.collect("", params);
        std::string what;
        for (const auto& [name, p] : params) what += (what.empty() ? "" : ", ") + name + " " + shape_str(p.shape());
        throw std::invalid_argument("Module: every member module must be registered with register_module; got an "
                                    "unregistered " + type_name(member) + " (" +
                                    (what.empty() ? "no parameters, but train()/eval() would miss it" : what) +
                                    ") built in the constructor of " + type_name(*this));
    }
}

// ---- Parameters ---------------------------------------------------------------------------------------------------

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
    for (const auto& [name, p] : parameters_) out.emplace_back(prefix + name, *p);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
    check_members_registered();
    std::vector<std::pair<std::string, Tensor>> out;
    collect("", out);
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
    members_built();  // the constructor's body runs after every member is built
    parameter.requires_grad_();
    parameter.set_name(name);  // so graph dumps show "weight"; a parent module prefixes its path
    parameters_.emplace_back(std::move(name), &parameter);
}

void Module::register_module(std::string name, Module& child) {
    if (name.empty()) throw std::invalid_argument("register_module: a name must be non-empty");
    members_built();  // the constructor's body runs after every member is built
    for (auto& [path, p] : child.named_parameters()) p.set_name(name + "." + path);  // throws if child misses one
    child.registered_ = true;
    children_.emplace_back(std::move(name), &child);
}

}  // namespace ag
