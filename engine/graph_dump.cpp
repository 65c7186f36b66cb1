#include "engine/graph_dump.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "engine/autograd.h"

namespace ag {

namespace {

// Every tensor reachable from root through the graph's edges, each before the inputs of its op (reverse post-order
// of an iterative depth-first search), and a short id for each ("t0" is the root).
struct Walk {
    std::vector<TensorImpl*> order;
    std::unordered_map<TensorImpl*, size_t> id;
};

Walk walk(const Tensor& root) {
    Walk w;
    std::vector<std::pair<TensorImpl*, size_t>> stack{{&root.impl(), 0}};
    std::unordered_map<TensorImpl*, bool> seen{{&root.impl(), true}};
    std::vector<TensorImpl*> post;
    while (!stack.empty()) {
        auto& [t, next] = stack.back();
        const Node* node = t->grad_fn.get();
        if (node && next < node->inputs.size()) {
            TensorImpl* input = node->inputs[next++].get();
            if (!seen[input]) {
                seen[input] = true;
                stack.emplace_back(input, 0);
            }
        } else {
            post.push_back(t);
            stack.pop_back();
        }
    }
    w.order.assign(post.rbegin(), post.rend());
    for (size_t i = 0; i < w.order.size(); ++i) w.id[w.order[i]] = i;
    return w;
}

std::string label(const TensorImpl* t, size_t id) {
    std::string s = "t" + std::to_string(id);
    if (t->name && !t->name->empty()) s += " '" + *t->name + "'";
    return s;
}

// "grad norm 0.731, max |g| 0.25" for a tensor with a gradient, else "".
std::string grad_summary(const TensorImpl* t) {
    if (!t->grad) return "";
    std::vector<double> g = Tensor(t->grad).to_vector<double>();
    double sq = 0, largest = 0;
    for (double v : g) {
        sq += v * v;
        largest = std::max(largest, std::abs(v));
    }
    std::ostringstream s;
    s.precision(4);
    s << "grad norm " << std::sqrt(sq) << ", max |g| " << largest;
    return s.str();
}

std::string op_of(const TensorImpl* t) {
    if (!t->grad_fn) return t->requires_grad ? "leaf" : "constant";
    const std::string name(t->grad_fn->name);
    return !t->grad_fn->released() ? name : name + " (freed)";
}

}  // namespace

std::string print_graph(const Tensor& root) {
    Walk w = walk(root);
    std::ostringstream s;
    s << "backward visits, from the root to the leaves:\n";
    for (TensorImpl* t : w.order) {
        s << "  " << label(t, w.id[t]) << " " << shape_str(t->shape) << " = " << op_of(t);
        if (t->grad_fn && !t->grad_fn->inputs.empty()) {
            s << "(";
            for (size_t i = 0; i < t->grad_fn->inputs.size(); ++i)
                s << (i ? ", " : "") << label(t->grad_fn->inputs[i].get(), w.id[t->grad_fn->inputs[i].get()]);
            s << ")";
        }
        std::string g = grad_summary(t);
        if (!g.empty()) s << "   [" << g << "]";
        s << "\n";
    }
    return s.str();
}

std::string to_dot(const Tensor& root) {
    Walk w = walk(root);
    std::ostringstream s;
    s << "digraph graph_of_" << "t0 {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n";
    for (TensorImpl* t : w.order) {
        std::string g = grad_summary(t);
        s << "  t" << w.id[t] << " [label=\"" << label(t, w.id[t]) << "\\n" << op_of(t) << "\\n" << shape_str(t->shape)
          << (g.empty() ? "" : "\\n" + g) << "\"" << (t->grad_fn ? "" : ", style=filled, fillcolor=\"#dde8f7\"") << "];\n";
    }
    for (TensorImpl* t : w.order)  // data flows from each input to the op's result
        if (t->grad_fn)
            for (const auto& input : t->grad_fn->inputs) s << "  t" << w.id[input.get()] << " -> t" << w.id[t] << ";\n";
    s << "}\n";
    return s.str();
}

}  // namespace ag
