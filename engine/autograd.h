// The define-by-run graph and the reverse-mode driver.
//
// Every op that reads a tensor requiring grad gives its result a Node: the op's name, the input tensors it read
// (the graph's edges), and a backward function that receives dout = d loss / d result and accumulates (+=) into
// each input's gradient. backward() visits the nodes in reverse topological order, so each node runs once, after
// every consumer of its result has contributed to dout.
//
// Ownership: result -> Node -> inputs. A backward function captures its inputs (or tensors with no grad_fn), never
// its own result: that would be a shared_ptr cycle and leak the graph. An op that needs its result in backward
// (softmax) saves result.detach(), a second handle to the same values with no grad_fn.
//
// Saved tensors: an op names the tensors whose values its backward reads (mul saves a and b, exp its result, add
// nothing). The Node records each one's version (Storage::version, bumped by every in-place write), and backward
// throws std::runtime_error, naming the op and the tensor, if any of them was written since: the gradient would
// otherwise be computed from values the forward never saw, as PyTorch also refuses.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/tensor.h"

namespace ag {

// A tensor that a backward function reads, with the buffer and its version when the op ran.
struct SavedTensor {
    Tensor tensor;
    std::shared_ptr<Storage> storage;  // the buffer the values were in (Tensor::set_data may give tensor another)
    uint64_t version;
};

// The record of one op in the graph. Each op's Node is a NodeWith<its backward function> (below), made by
// set_grad_fn in one allocation together with the function and what it captured.
struct Node {
    std::string_view name;                              // "MatmulBackward" (a literal): in graph dumps and errors
    std::vector<std::shared_ptr<TensorImpl>> inputs;    // the tensors this op read that require grad
    std::vector<SavedTensor> saved;                     // what backward reads, checked unchanged before it runs
    uint64_t visit_mark = 0;                            // scratch for the topological sort
    uint64_t sequence = 0;                              // creation order on this thread: "op #12" in anomaly reports

    // Runs the op's backward function: reads dout = d loss / d result, accumulates into its inputs' gradients.
    virtual void backward(const Tensor& dout) = 0;
    // Frees the backward function and the tensors it captured, the saved tensors and the edges (after a backward
    // without retain_graph); released() is then true and backward() may not be called again.
    void release();
    bool released() const { return released_; }

    Node();
    virtual ~Node();                                    // frees long chains without recursion
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

protected:
    virtual void free_function() = 0;

private:
    bool released_ = false;
};

// A Node holding its backward function inline: no separate allocation for the function (as std::function
// would make for any capture larger than two pointers).
template <typename Fn>
struct NodeWith final : Node {
    explicit NodeWith(Fn&& fn) : function(std::in_place, std::move(fn)) {}
    void backward(const Tensor& dout) override { (*function)(dout); }
    void free_function() override { function.reset(); }
    std::optional<Fn> function;
};

// How many Nodes exist now, on all threads: 0 once every graph has been freed (a check for leaked graphs).
int64_t live_nodes();

// True while gradients are being recorded on this thread (the default). NoGradGuard switches it off.
bool grad_mode_enabled();

// RAII: ops run inside its scope record no graph (for evaluation and optimiser updates).
// The mode is per thread; the engine's own worker threads never create tensors.
class NoGradGuard {
public:
    NoGradGuard();
    ~NoGradGuard();
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

private:
    bool previous_;
};

// RAII, like torch.autograd.detect_anomaly: while one exists on this thread, every recorded op checks its output
// and every backward function checks the gradients it produces for NaN and infinity, and throws
// std::domain_error naming the op, its number in creation order, the shape and the first bad index.
// Off by default; when off, the only cost is one test of a flag per op.
class DetectAnomaly {
public:
    DetectAnomaly();
    ~DetectAnomaly();
    DetectAnomaly(const DetectAnomaly&) = delete;
    DetectAnomaly& operator=(const DetectAnomaly&) = delete;

private:
    bool previous_;
};
bool anomaly_mode_enabled();

// True when grad mode is on and any of the tensors requires grad: the op must record a Node.
bool needs_grad(const std::vector<const Tensor*>& inputs);
inline bool needs_grad(const Tensor& a) { return grad_mode_enabled() && a.requires_grad(); }
inline bool needs_grad(const Tensor& a, const Tensor& b) {
    return grad_mode_enabled() && (a.requires_grad() || b.requires_grad());
}

// Makes `out` the result of a recorded op: out.requires_grad becomes true and out.grad_fn a Node with these
// inputs (those that require grad become edges), the tensors whose values the backward function reads (`saved`,
// their versions recorded; never `out` itself, save out.detach()) and the backward function, any callable taking
// the gradient of out. The name is a string literal (the Node keeps the pointer, not a copy):
//   set_grad_fn(out, "ExpBackward", {&a}, /*saved=*/{y}, [a, y](const Tensor& dout) { ... });  // y = out.detach()
void record_node(Tensor& out, std::shared_ptr<Node> node, const char* name, const Tensor* const* inputs,
                 size_t input_count, std::initializer_list<Tensor> saved);  // set_grad_fn's work, for any Fn
template <typename Fn>
void set_grad_fn(Tensor& out, const char* name, std::initializer_list<const Tensor*> inputs,
                 std::initializer_list<Tensor> saved, Fn backward) {
    record_node(out, std::make_shared<NodeWith<Fn>>(std::move(backward)), name, inputs.begin(), inputs.size(), saved);
}
template <typename Fn>
void set_grad_fn(Tensor& out, const char* name, const std::vector<const Tensor*>& inputs,
                 std::initializer_list<Tensor> saved, Fn backward) {
    record_node(out, std::make_shared<NodeWith<Fn>>(std::move(backward)), name, inputs.data(), inputs.size(), saved);
}
// For a `saved` list: t when the backward will read it, else an undefined tensor (not saved, not checked). mul
// reads a only for b's gradient: {saved_if(b.requires_grad(), a), saved_if(a.requires_grad(), b)}.
inline Tensor saved_if(bool read, const Tensor& t) { return read ? t : Tensor(); }

// How a backward function hands a gradient to an input: input.grad += g. When g has the broadcast shape
// of the op rather than input's own shape, it is first summed back to input's shape (sum_to). No-op when the
// input does not require grad.
void accumulate_grad(const Tensor& input, const Tensor& g);
// input.grad[region] += g, for the backward of a view that covers part of its input (a slice, a select):
// region(full) returns the part of a gradient of input's shape that g belongs to. Adds into that part of the
// gradient buffer directly, instead of building a zero tensor of input's shape around g and adding all of it.
void accumulate_grad_into(const Tensor& input, const Tensor& g, const std::function<Tensor(const Tensor&)>& region);

// Runs reverse-mode differentiation from `root` (Tensor::backward calls this).
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

}  // namespace ag
