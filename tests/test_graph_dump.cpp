// print_graph and to_dot: what a learner sees of the graph.
#include <catch2/catch.hpp>

#include "engine/engine.h"
#include "layers/attention.h"

using namespace ag;

TEST_CASE("print_graph: lists the ops in backward's order with names, shapes and inputs", "[graph_dump]") {
    Tensor w = ones({3, 2}).requires_grad_();
    w.set_name("w");
    Tensor x = ones({4, 3});
    Tensor h = matmul(x, w).set_name("h");
    Tensor loss = (h * h).sum();
    std::string text = print_graph(loss);
    INFO(text);
    CHECK(text.find("t0 [] = SumBackward(t1)") != std::string::npos);
    CHECK(text.find("t1 [4, 2] = MulBackward(t2 'h', t2 'h')") != std::string::npos);
    CHECK(text.find("t2 'h' [4, 2] = MatmulBackward(t3 'w')") != std::string::npos);
    CHECK(text.find("t3 'w' [3, 2] = leaf") != std::string::npos);
    CHECK(text.find("grad") == std::string::npos);  // no gradients before backward
}

TEST_CASE("to_dot: one node per tensor, edges from inputs to results, gradients after backward", "[graph_dump]") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor y = (a * 3.0).sum();
    y.backward(Tensor(), /*retain_graph=*/true);
    std::string dot = to_dot(y);
    INFO(dot);
    CHECK(dot.rfind("digraph", 0) == 0);
    CHECK(dot.find("t2 -> t1;") != std::string::npos);
    CHECK(dot.find("t1 -> t0;") != std::string::npos);
    CHECK(dot.find("grad norm 4.243, max |g| 3") != std::string::npos);  // da = [3, 3]
    CHECK(dot.back() == '\n');
}

TEST_CASE("print_graph: a Head names its packed projection, its parameters and its output", "[graph_dump]") {
    manual_seed(0);
    Tensor x = randn({2, 4, 8});
    Head head(8, 4);
    std::string text = print_graph(head(x).sum());
    INFO(text);
    for (const char* name : {"'out'", "'kqv'", "'w_kqv'", "'query.weight'", "'key.weight'", "'value.weight'",
                             "SelfAttentionBackward"})
        CHECK(text.find(name) != std::string::npos);
    // the fused op reads k, q and v inside kqv and never builds the weights as a tensor of the graph
    for (const char* name : {"'q'", "'k'", "'v'", "'wei'"}) CHECK(text.find(name) == std::string::npos);
}
