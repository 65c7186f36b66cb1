// Looking at a graph: the ops backward will run, as text (print_graph) or as a Graphviz picture (to_dot).
//
//   Tensor loss = ...;
//   std::cout << ag::print_graph(loss);          // one line per op, in the order backward visits them
//   loss.backward(Tensor(), /*retain_graph=*/true);
//   std::ofstream("graph.dot") << ag::to_dot(loss);   // then: dot -Tsvg graph.dot -o graph.svg
// Tensors named with set_name("q") show their names. After backward, leaves (and tensors that retain_grad) show a
// summary of their gradient; call backward with retain_graph = true to dump the graph afterwards (otherwise
// backward frees it and only the root remains).
#pragma once
#include <string>

#include "engine/tensor.h"

namespace ag {

// The ops from root back to the leaves, in the order backward visits them, with each op's output shape and the
// inputs it sends gradients to (those that require grad; constants are not part of the graph).
std::string print_graph(const Tensor& root);

// The graph as Graphviz DOT: one node per tensor (name or op, shape, gradient summary), edges in data-flow order.
std::string to_dot(const Tensor& root);

}  // namespace ag
