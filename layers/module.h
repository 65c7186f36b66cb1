// Module: a layer with named parameters (and child layers), like torch.nn.Module.
//
//   struct Model : ag::Module {
//       ag::Linear key{C, 16, false};                       // members are created in declaration order
//       Model() { register_module("key", key); }
//   };
// named_parameters() lists every parameter as "key.weight" etc. in a stable order: the module's own parameters in
// the order they were registered, then each child's in registration order. Those names are the checkpoint's.
// A Module is neither copyable nor movable: it hands out pointers to its members.
//
// EVERY MEMBER LAYER MUST BE REGISTERED. A member that is not would be missing from parameters() (so an optimiser
// would never train it), from checkpoints and from train()/eval(). named_parameters() (and so parameters(), an
// optimiser built from it, a checkpoint) throws std::invalid_argument for any Module built while this one (or one
// of its registered children) was being constructed and never registered:
//   "Module: every member module must be registered with register_module; got an unregistered ag::Linear
//    (weight [16, 32]) built in the constructor of Model"
// How it knows: a constructor builds every member before its body runs, so the Modules built on this thread from
// the start of a Module's construction to its first register_parameter / register_module call are its members
// (and theirs). What it cannot see, so take care:
//   - a member Tensor never passed to register_parameter (a tensor holds no record of where it lives);
//   - a constructor that registers nothing at all (an optimiser then refuses its empty parameter list);
//   - a Module made in the constructor's body after its first register call (register it right after making it);
// And a class that registers only after its constructor (a list filled by append) calls members_built() in its
// constructor: otherwise Modules built before its first register call would be taken for its members.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace ag {

class Module {
public:
    Module();
    virtual ~Module();
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    // Every parameter with its dotted name ("heads.0.key.weight"), in a stable order. Throws if a member module of
    // this one or of any child was never registered (see above).
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
    // Says that every member has been built, for a constructor that registers nothing itself: a ModuleList, whose
    // items are registered later, by append (the first register call would otherwise mark the end of the members).
    void members_built();

private:
    // Throws unless every Module built by the constructor of this one or of a registered descendant is registered.
    void check_members_registered() const;
    void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;

    std::vector<std::pair<std::string, Tensor*>> parameters_;
    std::vector<std::pair<std::string, Module*>> children_;
    bool training_ = true;
    bool registered_ = false;  // has a parent registered it
    uint64_t number_;          // construction order, counted over all Modules
    // The number of the first Module built after this one's members (0: not known yet): the Modules numbered in
    // (number_, members_end_) on this thread were built by this one's constructor.
    uint64_t members_end_ = 0;
};

// A module whose forward maps one tensor to one tensor, so it can sit in a Sequential.
class Layer : public Module {
public:
    virtual Tensor forward(const Tensor& x) const = 0;
    Tensor operator()(const Tensor& x) const { return forward(x); }
};

}  // namespace ag
