// The backward driver: accumulation, graph lifetime and grad mode (scale: test_memory.cpp), and the mistakes
// backward and requires_grad_ refuse. Saved tensors written in place: test_version_counter.cpp.
#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <vector>

#include "tests/gradcheck_helpers.h"

using namespace ag;
using Catch::Contains;

namespace {

Tensor leaf(const Shape& shape) { return randn(shape).requires_grad_(); }

}  // namespace

TEST_CASE("autograd: a reused input accumulates both contributions (a + a, a * a)", "[autograd]") {
    Tensor a = tensor({1.0, -2.0, 3.0}).requires_grad_();
    (a + a).sum().backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2, 2, 2});
    a.zero_grad();
    (a * a).sum().backward();  // d(a^2) = 2a
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2, -4, 6});
}

TEST_CASE("autograd: gradients accumulate across backward calls until zero_grad", "[autograd]") {
    Tensor w = tensor({0.5, 2.0}).requires_grad_();
    Tensor x = tensor({3.0, 4.0});
    (w * x).sum().backward();
    (w * x).sum().backward();
    CHECK(w.grad().to_vector<float>() == std::vector<float>{6, 8});
    w.zero_grad();
    CHECK(w.grad().to_vector<float>() == std::vector<float>{0, 0});
    (w * x).sum().backward();
    CHECK(w.grad().to_vector<float>() == std::vector<float>{3, 4});
}

TEST_CASE("autograd: a diamond graph sends the gradient down both paths once", "[autograd]") {
    // y = exp(a); z = y * y + y  =>  dz/da = (2y + 1) * y
    Tensor a = tensor({0.5}, DType::Float64).requires_grad_();
    Tensor y = exp(a);
    Tensor z = y * y + y;
    z.backward(ones({1}, DType::Float64));
    double e = std::exp(0.5);
    CHECK(a.grad().item() == Approx((2 * e + 1) * e).epsilon(1e-12));
}

TEST_CASE("autograd: an input or an intermediate used twice accumulates its gradient (finite differences)",
          "[autograd][gradcheck]") {
    ag::manual_seed(6);
    Tensor x = input({2, 3});
    check_unary([](const Tensor& t) { return t * t + t; }, x);
    check_unary([](const Tensor& t) { return ag::matmul(t, t.transpose(0, 1)); }, x);
    // a diamond: y feeds three consumers, and its own backward must wait for all of them
    check_unary([](const Tensor& t) {
        Tensor y = t.tanh();
        return y * y.exp() + y.sum(0);
    }, x);
}

TEST_CASE("autograd: only leaves keep .grad unless retain_grad is asked for", "[autograd]") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor hidden = a * 3.0;
    Tensor kept = a * 2.0;
    kept.retain_grad();
    ((hidden + kept) * 5.0).sum().backward();
    CHECK_FALSE(hidden.grad().defined());
    CHECK(kept.grad().to_vector<float>() == std::vector<float>{5, 5});
    CHECK(a.grad().to_vector<float>() == std::vector<float>{25, 25});
}

TEST_CASE("autograd: tensors that need no gradient get none", "[autograd]") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor b = tensor({3.0, 4.0});
    (a * b).sum().backward();
    CHECK(a.grad().defined());
    CHECK_FALSE(b.grad().defined());
    CHECK_FALSE(b.requires_grad());
}

TEST_CASE("autograd: backward(grad) seeds a non-scalar output", "[autograd]") {
    Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}}).requires_grad_();
    Tensor y = a * a;
    y.backward(tensor({{1.0, 0.0}, {0.0, 10.0}}));
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2, 0, 0, 80});
}

TEST_CASE("autograd: detach cuts the graph and shares the values", "[autograd]") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor d = (a * 2.0).detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.is_leaf());
    Tensor y = (a * d).sum();  // d acts as a constant
    y.backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2, 4});
}

TEST_CASE("autograd: NoGradGuard records nothing and restores the mode when it ends", "[autograd]") {
    Tensor a = tensor({1.0}).requires_grad_();
    {
        NoGradGuard outer;
        {
            NoGradGuard inner;
            CHECK_FALSE(grad_mode_enabled());
        }
        CHECK_FALSE(grad_mode_enabled());
        Tensor y = a * 2.0;
        CHECK_FALSE(y.requires_grad());
        CHECK(y.grad_fn() == nullptr);
    }
    CHECK(grad_mode_enabled());
    CHECK((a * 2.0).requires_grad());
}

TEST_CASE("autograd: retain_graph allows a second backward; otherwise it is refused", "[autograd]") {
    Tensor a = tensor({2.0}).requires_grad_();
    Tensor y = (a * a).sum();
    y.backward(Tensor(), /*retain_graph=*/true);
    y.backward();
    CHECK(a.grad().item() == 8.0);  // 4 + 4
    REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("already freed") && Catch::Contains("retain_graph"));
}

TEST_CASE("autograd: each node names its op", "[autograd]") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    CHECK((a + a).grad_fn()->name == "AddBackward");
    CHECK(matmul(a, a).grad_fn()->name == "MatmulBackward");
    CHECK(softmax(a, 0).grad_fn()->name == "SoftmaxBackward");
    CHECK(a.transpose(0, 0).grad_fn()->name == "TransposeBackward");
}

TEST_CASE("autograd: the graph and its saved tensors are released after backward", "[autograd]") {
    std::weak_ptr<TensorImpl> intermediate;
    Tensor a = randn({4, 4}).requires_grad_();
    {
        Tensor h = tanh(matmul(a, a));
        intermediate = h.impl_ptr();
        Tensor loss = softmax(h, -1).sum();
        loss.backward();
    }
    CHECK(intermediate.expired());
    CHECK(a.grad().defined());
    CHECK(a.impl_ptr().use_count() == 1);  // nothing in a freed graph still holds the leaf
}

TEST_CASE("autograd: a graph dropped without backward leaks nothing", "[autograd]") {
    std::weak_ptr<TensorImpl> intermediate;
    std::weak_ptr<Node> node;
    Tensor a = randn({3, 3}).requires_grad_();
    {
        Tensor h = exp(a) * a;  // exp saves its result: a second handle, not a cycle
        intermediate = h.impl_ptr();
        node = h.grad_fn();
        Tensor s = softmax(h, 0);
    }
    CHECK(intermediate.expired());
    CHECK(node.expired());
}

TEST_CASE("autograd: gradients flow through views into the base tensor", "[autograd]") {
    Tensor a = arange(6.0).reshape({2, 3}).detach().requires_grad_();
    Tensor y = a.select(1, 2) * 10.0 + a.slice(1, 0, 3, 2).sum(1);  // a[:, 2] * 10 + (a[:, 0] + a[:, 2])
    y.sum().backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{1, 0, 11, 1, 0, 11});
}

TEST_CASE("autograd: a retained gradient is not sent down again by a later backward through a kept graph",
          "[autograd]") {
    Tensor w = tensor({1.0, -2.0}).requires_grad_();
    Tensor m = w * 3.0;
    m.retain_grad();
    m.sum().backward(Tensor(), /*retain_graph=*/true);
    (m * 2.0).sum().backward();
    CHECK(w.grad().to_vector<float>() == std::vector<float>{9, 9});  // 3 + 6, not 3 + (1 + 2) * 3
    CHECK(m.grad().to_vector<float>() == std::vector<float>{3, 3});  // 1 + 2 across the two passes

    Tensor v = tensor({1.0}).requires_grad_();
    Tensor r = (v * 5.0).sum();
    r.retain_grad();
    r.backward(Tensor(), true);
    r.backward();
    CHECK(v.grad().item() == 10.0);
    CHECK(r.grad().item() == 2.0);
}

TEST_CASE("autograd: a backward that throws leaves no gradient in flight for the next pass", "[autograd]") {
    Tensor x = tensor({2.0}).requires_grad_();
    Tensor h = x * 3.0;
    Tensor bad = h.detach();
    set_grad_fn(bad, "ThrowingBackward", {&h}, /*saved=*/{}, [](const Tensor&) { throw std::invalid_argument("boom"); });
    Tensor loss = (bad + h).sum();
    REQUIRE_THROWS_WITH(loss.backward(Tensor(), true), "boom");
    (h * 1.0).sum().backward();
    CHECK(x.grad().item() == 3.0);  // only this pass's gradient reached x
}

TEST_CASE("autograd: pow(a, 0) has a zero gradient, also at a = 0", "[autograd]") {
    Tensor a = tensor({0.0, 2.0}).requires_grad_();
    a.pow(0.0).sum().backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{0, 0});
}

TEST_CASE("backward: gradients of slices add into their parts of a leaf's .grad across calls", "[autograd]") {
    Tensor x = ag::zeros({4}).requires_grad_();
    for (int call = 0; call < 2; ++call) (x.slice(0, 0, 2).sum() + x.slice(0, 1, 3).sum() * 2.0).backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 6, 4, 0});
    Tensor kept = x.grad();  // a handle the user keeps: the next call must not write into it
    x[3].sum().backward();
    CHECK(kept.to_vector<float>() == std::vector<float>{2, 6, 4, 0});
    CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 6, 4, 1});
}

// ---- what backward and requires_grad_ refuse ----------------------------------------------------------------------

TEST_CASE("backward: a non-scalar needs a gradient", "[autograd][errors]") {
    Tensor y = leaf({2, 3}) * 2.0;
    REQUIRE_THROWS_AS(y.backward(), std::invalid_argument);
    REQUIRE_THROWS_WITH(y.backward(), Contains("backward: grad can be implicitly created only for a tensor with one "
                                               "element; got shape [2, 3]"));
}

TEST_CASE("backward: a gradient of the wrong shape or dtype is refused, and the graph stays usable",
          "[autograd][errors]") {
    Tensor y = leaf({2, 3}) * 2.0;
    REQUIRE_THROWS_AS(y.backward(ag::ones({3})), std::invalid_argument);
    REQUIRE_THROWS_WITH(y.backward(ag::ones({3})),
                        "backward: grad must have the shape of the tensor; got [3] for a tensor of shape [2, 3]");
    REQUIRE_THROWS_WITH(y.backward(ag::ones({2, 3}, DType::Float64)),
                        "backward: grad must have the dtype of the tensor; got torch.float64 for torch.float32");
    y.backward(ag::ones({2, 3}));  // the failed calls left the graph usable
}

TEST_CASE("backward: a tensor that does not require grad is refused", "[autograd][errors]") {
    Tensor y = ag::ones({2}).sum();
    REQUIRE_THROWS_AS(y.backward(), std::invalid_argument);
    REQUIRE_THROWS_WITH(y.backward(), "backward: the tensor does not require grad and has no grad_fn");
    Tensor detached = (leaf({2}) * 2.0).sum().detach();
    REQUIRE_THROWS_WITH(detached.backward(), Contains("does not require grad"));
}

TEST_CASE("backward: a second pass through a freed graph is refused, naming the node and retain_graph",
          "[autograd][errors]") {
    Tensor x = leaf({2});
    Tensor m = x * 2.0;
    Tensor loss = m.sum();
    loss.backward();
    REQUIRE_THROWS_AS(loss.backward(), std::invalid_argument);
    REQUIRE_THROWS_WITH(loss.backward(), Contains("backward: the graph through 'SumBackward' was already freed") &&
                                             Contains("retain_graph"));
    // a new loss built on the freed part of the graph fails where it reaches it
    REQUIRE_THROWS_WITH((m * 3.0).sum().backward(), Contains("the graph through 'MulBackward' was already freed"));
    // with retain_graph the second pass works and accumulates
    Tensor y = leaf({2});
    Tensor l2 = (y * 2.0).sum();
    l2.backward(Tensor(), /*retain_graph=*/true);
    l2.backward();
    CHECK(y.grad().to_vector<float>() == std::vector<float>{4, 4});
}

TEST_CASE("requires_grad_: a non-leaf or a non-float tensor is refused", "[autograd][errors]") {
    Tensor y = leaf({2}) * 2.0;
    REQUIRE_THROWS_AS(y.requires_grad_(), std::invalid_argument);
    REQUIRE_THROWS_WITH(y.requires_grad_(), "requires_grad_: only a leaf can be marked; this tensor was made by "
                                            "'MulBackward' (use detach() to make a leaf)");
    REQUIRE_THROWS_AS(ag::ones({2}, DType::Int64).requires_grad_(), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::ones({2}, DType::Int64).requires_grad_(),
                        "requires_grad_: only floating-point tensors can require grad; got torch.int64");
    REQUIRE_THROWS_WITH((ag::ones({2}) > 0.0).requires_grad_(), Contains("got torch.bool"));
}
