#include "engine/autograd.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <stdexcept>

#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {
thread_local bool g_grad_mode = true;
thread_local bool g_anomaly_mode = false;
thread_local uint64_t g_ops_created = 0;
thread_local const Node* g_running = nullptr;  // the node whose backward is running, for anomaly reports
std::atomic<uint64_t> g_backward_pass{0};

// "[1, 2]": the index of flat element i of a row-major shape.
std::string index_str(const Shape& shape, int64_t i) {
    Shape index(shape.size(), 0);
    for (size_t d = shape.size(); d-- > 0;) {
        index[d] = i % shape[d];
        i /= shape[d];
    }
    return shape_str(index);
}

// Throws std::domain_error if t holds a NaN or an infinity; `what` says whose values these are.
void check_finite(const Tensor& t, const std::string& what) {
    std::vector<double> values = t.to_vector<double>();
    for (size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i]))
            throw std::domain_error("anomaly: " + what + " of shape " + shape_str(t.shape()) + " holds " +
                                    std::to_string(values[i]) + " at index " + index_str(t.shape(), i));
}

std::string describe(const Node& node) { return "'" + std::string(node.name) + "' (op #" + std::to_string(node.sequence) + ")"; }

// Throws if a tensor the node saved was written in place after the op ran: its values are not the forward's.
void check_saved(const Node& node) {
    for (const SavedTensor& s : node.saved) {
        const Storage* storage = s.tensor.impl().storage.get();
        if (storage == s.storage.get() && storage->version() == s.version) continue;
        const std::string& name = s.tensor.name();
        const std::string what = "backward: a tensor of shape " + shape_str(s.tensor.shape()) +
                                 (name.empty() ? "" : " ('" + name + "')");
        if (storage != s.storage.get())
            throw std::runtime_error(what + " was given other values (set_data, Module::to) after " + std::string(node.name) +
                                     " saved it; run backward() first");
        throw std::runtime_error(what + " was modified by an in-place operation after " + std::string(node.name) +
                                 " saved it (its version was " + std::to_string(s.version) + ", now " +
                                 std::to_string(storage->version()) +
                                 "); run backward() before writing into it, or write into a clone()");
    }
}

}  // namespace

bool grad_mode_enabled() { return g_grad_mode; }
bool anomaly_mode_enabled() { return g_anomaly_mode; }

DetectAnomaly::DetectAnomaly() : previous_(g_anomaly_mode) { g_anomaly_mode = true; }
DetectAnomaly::~DetectAnomaly() { g_anomaly_mode = previous_; }

NoGradGuard::NoGradGuard() : previous_(g_grad_mode) { g_grad_mode = false; }
NoGradGuard::~NoGradGuard() { g_grad_mode = previous_; }

bool needs_grad(const std::vector<const Tensor*>& inputs) {
    if (!g_grad_mode) return false;
    for (const Tensor* t : inputs)
        if (t->defined() && t->requires_grad()) return true;
    return false;
}

void record_node(Tensor& out, std::shared_ptr<Node> node, const char* name, const Tensor* const* inputs,
                 size_t input_count, std::initializer_list<Tensor> saved) {
    node->name = name;
    node->inputs.reserve(input_count);
    for (size_t i = 0; i < input_count; ++i)
        if (inputs[i]->defined() && inputs[i]->requires_grad()) node->inputs.push_back(inputs[i]->impl_ptr());
    node->saved.reserve(saved.size());
    for (const Tensor& t : saved) {
        if (!t.defined()) continue;  // saved_if(false, ..): not read by this backward
        if (t.impl_ptr() == out.impl_ptr())
            throw std::logic_error(std::string(node->name) + ": an op must save out.detach(), not its own result (a cycle)");
        const std::shared_ptr<Storage>& storage = t.impl().storage;
        node->saved.push_back({t, storage, storage->version()});
    }
    node->sequence = ++g_ops_created;
    if (g_anomaly_mode) check_finite(out, "the output of " + describe(*node));
    out.impl().requires_grad = true;
    out.impl().grad_fn = std::move(node);
}

namespace {
std::atomic<int64_t> g_live_nodes{0};  // Nodes alive now, on all threads
}  // namespace

Node::Node() { g_live_nodes.fetch_add(1, std::memory_order_relaxed); }

int64_t live_nodes() { return g_live_nodes.load(std::memory_order_relaxed); }

void Node::release() {
    if (!released_) free_function();
    released_ = true;
    saved.clear();
    inputs.clear();
}

// A Node owns its inputs, which own their Nodes, and so on: destroying the end of a chain of a million ops would
// recurse a million deep. Instead, each dying node adopts the nodes that only it keeps alive and frees them in a
// loop. The backward function goes first, so that the inputs it captured are owned by `inputs` alone.
// (By the time this runs, the derived NodeWith has destroyed its function: only `inputs` and `saved` hold tensors.)
Node::~Node() {
    g_live_nodes.fetch_sub(1, std::memory_order_relaxed);
    std::vector<std::shared_ptr<Node>> orphans;
    auto adopt = [this, &orphans](Node& n) {
        if (&n != this && !n.released_) n.free_function();
        n.released_ = true;
        n.saved.clear();  // saved tensors may be inputs too: drop these handles before counting the inputs' owners
        std::sort(n.inputs.begin(), n.inputs.end());  // an input listed twice (y * y) is one owner, not two
        n.inputs.erase(std::unique(n.inputs.begin(), n.inputs.end()), n.inputs.end());
        for (auto& input : n.inputs)
            if (input.use_count() == 1 && input->grad_fn && input->grad_fn.use_count() == 1)
                orphans.push_back(std::move(input->grad_fn));
        n.inputs.clear();
    };
    adopt(*this);
    while (!orphans.empty()) {
        std::shared_ptr<Node> n = std::move(orphans.back());
        orphans.pop_back();
        adopt(*n);
    }  // n is destroyed here with no inputs left, so its destructor does not recurse
}

namespace {

// True when nothing but `grad` refers to this buffer and its elements do not overlap: safe to add into in place.
bool exclusively_owned(const std::shared_ptr<TensorImpl>& grad) {
    return grad.use_count() == 1 && grad->storage.use_count() == 1 && grad->contiguous;
}

// slot += grad. A first gradient may keep grad's buffer when `may_share` (it will only be read) or when nothing
// else holds it; otherwise it gets a copy. A later one adds in place when the slot's buffer is its own alone, else
// makes a fresh sum (copy on write), so a shared buffer is never written.
void add_to_slot(std::shared_ptr<TensorImpl>& slot, const Tensor& grad, bool may_share) {
    if (!slot) {
        const bool owned = grad.impl_ptr().use_count() == 1 && grad.impl().storage.use_count() == 1 &&
                           grad.is_contiguous() && grad.offset() == 0;
        slot = may_share || owned ? grad.impl_ptr() : grad.clone().impl_ptr();
    } else if (exclusively_owned(slot)) {  // slot += grad in place: no other tensor shares (or overlaps) its buffer
        Tensor sum(slot);
        dispatch_floating(sum.dtype(), "backward", [&]<typename Scalar>() {
            kernels::zip<Scalar, Scalar>(sum, sum, grad, [](Scalar x, Scalar g) { return x + g; });
        });
        sum.bump_version();
    } else {
        slot = (Tensor(slot) + grad).impl_ptr();
    }
}

}  // namespace

namespace {

// A gradient must have its tensor's dtype: it would not, if set_data (Module::to) converted the tensor after the
// forward that the gradient comes from.
void check_grad_dtype(const Tensor& input, const Tensor& g) {
    if (g.dtype() == input.dtype()) return;
    const std::string& name = input.name();
    throw std::runtime_error("backward: a gradient of " + dtype_name(g.dtype()) + " reached a tensor of shape " +
                             shape_str(input.shape()) + (name.empty() ? "" : " ('" + name + "')") + " that is now " +
                             dtype_name(input.dtype()) +
                             ": it was converted (Module::to, set_data) after the forward; run backward() first");
}

}  // namespace

void accumulate_grad(const Tensor& input, const Tensor& g) {
    if (!input.requires_grad()) return;
    check_grad_dtype(input, g);
    if (g_anomaly_mode && g_running) check_finite(g, "the gradient that the backward of " + describe(*g_running) +
                                                          " gives its input");
    Tensor grad = g.shape() == input.shape() ? g : sum_to(g, input.shape());
    TensorImpl& impl = input.impl();
    // A leaf's .grad belongs to the user and the optimiser, who modify it in place: it needs a buffer of its own.
    // A non-leaf's gradient of this pass is only read, by its op's backward, so it may share g's buffer (often the
    // consumer's own dout: no copy).
    if (input.is_leaf()) add_to_slot(impl.grad, grad, /*may_share=*/false);
    else add_to_slot(impl.incoming_grad, grad, /*may_share=*/true);
}

void accumulate_grad_into(const Tensor& input, const Tensor& g, const std::function<Tensor(const Tensor&)>& region) {
    if (!input.requires_grad()) return;
    check_grad_dtype(input, g);
    if (g_anomaly_mode && g_running) check_finite(g, "the gradient that the backward of " + describe(*g_running) +
                                                          " gives its input");
    TensorImpl& impl = input.impl();
    std::shared_ptr<TensorImpl>& slot = input.is_leaf() ? impl.grad : impl.incoming_grad;
    if (!slot) slot = zeros(input.shape(), g.dtype()).impl_ptr();
    else if (!exclusively_owned(slot)) slot = Tensor(slot).clone().impl_ptr();  // copy on write
    add_(region(Tensor(slot)), g);
}

namespace {

std::string freed_message(const Node& node) {
    return "backward: the graph through '" + std::string(node.name) +
           "' was already freed by an earlier backward(); pass retain_graph = true to the first call to go through "
           "it again";
}

// Tensors with a grad_fn reachable from root, ordered so that every tensor comes before the inputs of its op
// (reverse post-order of an iterative depth-first search: no recursion, so any depth is fine).
std::vector<std::shared_ptr<TensorImpl>> topological_order(const std::shared_ptr<TensorImpl>& root) {
    uint64_t pass = ++g_backward_pass;
    std::vector<std::shared_ptr<TensorImpl>> post_order;
    // (tensor, next input to visit): the thread's own scratch, kept between passes so that a small graph's backward
    // does not allocate it every time (nothing called from here can start another pass)
    thread_local std::vector<std::pair<std::shared_ptr<TensorImpl>, size_t>> stack;
    stack.clear();
    root->grad_fn->visit_mark = pass;
    stack.emplace_back(root, 0);
    while (!stack.empty()) {
        std::shared_ptr<TensorImpl> t = stack.back().first;
        size_t next = stack.back().second++;
        Node& node = *t->grad_fn;
        if (node.released()) {
            const std::string message = freed_message(node);
            stack.clear();  // holds no tensor of the graph after the pass
            throw std::invalid_argument(message);
        }
        if (next < node.inputs.size()) {
            const std::shared_ptr<TensorImpl>& input = node.inputs[next];
            if (input->grad_fn && input->grad_fn->visit_mark != pass) {
                input->grad_fn->visit_mark = pass;
                stack.emplace_back(input, 0);
            }
        } else {
            post_order.push_back(std::move(t));
            stack.pop_back();
        }
    }
    if (stack.capacity() > 4096) stack = {};  // a deep graph's scratch is not kept
    std::reverse(post_order.begin(), post_order.end());
    return post_order;
}

Tensor seed_gradient(const Tensor& root, const Tensor& grad) {
    if (!grad.defined()) {
        if (root.numel() != 1)
            throw std::invalid_argument(
                "backward: grad can be implicitly created only for a tensor with one element; got shape " +
                shape_str(root.shape()) + " (pass a gradient of that shape)");
        return ones(root.shape(), root.dtype());
    }
    if (grad.shape() != root.shape())
        throw std::invalid_argument("backward: grad must have the shape of the tensor; got " + shape_str(grad.shape()) +
                                    " for a tensor of shape " + shape_str(root.shape()));
    if (grad.dtype() != root.dtype())
        throw std::invalid_argument("backward: grad must have the dtype of the tensor; got " + dtype_name(grad.dtype()) +
                                    " for " + dtype_name(root.dtype()));
    return grad.contiguous();  // shared, not copied: a gradient buffer held elsewhere is never written (add_to_slot)
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
    if (!root.requires_grad())
        throw std::invalid_argument("backward: the tensor does not require grad and has no grad_fn");
    if (!is_floating(root.dtype()))
        throw std::invalid_argument("backward: only floating-point tensors have gradients; got " +
                                    dtype_name(root.dtype()));
    NoGradGuard no_grad;  // the backward functions' own ops are not recorded
    Tensor seed = seed_gradient(root, grad);
    if (root.is_leaf()) {
        accumulate_grad(root, seed);
        return;
    }
    // The order holds each tensor until its turn, then lets it go: with the graph's edges cleared behind us,
    // intermediate results and their saved tensors are freed as the pass moves towards the leaves.
    std::vector<std::shared_ptr<TensorImpl>> order = topological_order(root.impl_ptr());
    // If a backward function throws, the gradients in flight must not leak into the next pass.
    struct ClearInFlight {
        std::vector<std::shared_ptr<TensorImpl>>& order;
        ~ClearInFlight() {
            for (auto& t : order)
                if (t) t->incoming_grad.reset();
        }
    } clear_in_flight{order};
    accumulate_grad(root, seed);
    for (std::shared_ptr<TensorImpl>& t : order) {
        Node& node = *t->grad_fn;
        // A tensor that got no gradient (its consumers gave none) contributes nothing further.
        if (t->incoming_grad) {
            // A backward function that ran a backward() of its own may have freed a node this pass still needs.
            if (node.released()) throw std::invalid_argument(freed_message(node));
            check_saved(node);
            g_running = &node;
            struct Reset { ~Reset() { g_running = nullptr; } } reset;  // also when backward throws
            node.backward(Tensor(t->incoming_grad));
            // retain_grad: keep what arrived in this pass, added to what earlier passes left in .grad
            if (t->retains_grad) add_to_slot(t->grad, Tensor(t->incoming_grad), /*may_share=*/false);
            t->incoming_grad.reset();
        }
        if (!retain_graph) node.release();  // frees the tensors this op saved for backward
        t.reset();
    }
}

}  // namespace ag
