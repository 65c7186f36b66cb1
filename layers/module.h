// Module: a layer with named parameters (and child layers), like torch.nn.Module.
//
//   struct Model : ag::Module {
//       ag::Linear key{C, 16, false};                       // members are created in declaration order
//       Model() { register_module("key", key); }
//   };
// named_parameters() lists every parameter as "key.weight" etc. in a stable order: the module's own parameters in
// the order they were registered, then each child's in registration order. Those names are the checkpoint's.
// A Module is neither copyable nor movable: it hands out pointers to its members.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace ag {

class Module {
public:
    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    // Every parameter with its dotted name ("heads.0.key.weight"), in a stable order.
    std::vector<std::pair<std::string, Tensor>> named_parameters() const;
    std::vector<Tensor> parameters() const;
    // Total number of parameter elements.
    int64_t num_parameters() const;
    // Zeroes the gradient of every parameter.
    void zero_grad();
    // Training mode (the default) or evaluation mode; applies to every child. Layers that act differently in
    // training (Dropout, and the attention layers' dropout) read is_training().
    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }
    // Converts every parameter to a floating dtype (e.g. Float64 for gradcheck) in place: each parameter stays the
    // same tensor (Tensor::set_data), keeping its name and requires_grad; a converted one loses its .grad. A
    // parameter already of that dtype is left as it is. An optimiser built before a conversion refuses to step
    // (its state has the old dtype): build optimisers after converting, as in PyTorch.
    void to(DType dtype);
    // Calls fn on every module of the tree, each child (recursively) before its parent, in registration order:
    // torch.nn.Module.apply, the order in which the lecture's GPT re-initialises its weights.
    void apply(const std::function<void(Module&)>& fn);

protected:
    // Registers a member tensor as a parameter: it becomes a leaf that requires grad, named after its path in the
    // module tree ("key.weight") so that print_graph and to_dot show where it lives.
    void register_parameter(std::string name, Tensor& parameter);
    // Registers a member layer so its parameters appear under "name." (a list of layers uses "heads.0", ...).
    void register_module(std::string name, Module& child);

private:
    std::vector<std::pair<std::string, Tensor*>> parameters_;
    std::vector<std::pair<std::string, Module*>> children_;
    bool training_ = true;
};

// A module whose forward maps one tensor to one tensor, so it can sit in a Sequential.
class Layer : public Module {
public:
    virtual Tensor forward(const Tensor& x) const = 0;
    Tensor operator()(const Tensor& x) const { return forward(x); }
};

}  // namespace ag
