// The backward driver: accumulation, graph lifetime and grad mode (scale: test_memory.cpp).
#include <catch2/catch.hpp>

#include <memory>

#include "engine/engine.h"

using namespace ag;

TEST_CASE("autograd: a reused input accumulates both contributions (a + a, a * a)") {
    Tensor a = tensor({1.0, -2.0, 3.0}).requires_grad_();
    (a + a).sum().backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2, 2, 2});
    a.zero_grad();
    (a * a).sum().backward();  // d(a^2) = 2a
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2, -4, 6});
}

TEST_CASE("autograd: gradients accumulate across backward calls until zero_grad") {
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

TEST_CASE("autograd: a diamond graph sends the gradient down both paths once") {
    // y = exp(a); z = y * y + y  =>  dz/da = (2y + 1) * y
    Tensor a = tensor({0.5}, DType::Float64).requires_grad_();
    Tensor y = exp(a);
    Tensor z = y * y + y;
    z.backward(ones({1}, DType::Float64));
    double e = std::exp(0.5);
    CHECK(a.grad().item() == Approx((2 * e + 1) * e).epsilon(1e-12));
}

TEST_CASE("autograd: only leaves keep .grad unless retain_grad is asked for") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor hidden = a * 3.0;
    Tensor kept = a * 2.0;
    kept.retain_grad();
    ((hidden + kept) * 5.0).sum().backward();
    CHECK_FALSE(hidden.grad().defined());
    CHECK(kept.grad().to_vector<float>() == std::vector<float>{5, 5});
    CHECK(a.grad().to_vector<float>() == std::vector<float>{25, 25});
}

TEST_CASE("autograd: tensors that need no gradient get none") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor b = tensor({3.0, 4.0});
    (a * b).sum().backward();
    CHECK(a.grad().defined());
    CHECK_FALSE(b.grad().defined());
    CHECK_FALSE(b.requires_grad());
}

TEST_CASE("autograd: backward(grad) seeds a non-scalar output") {
    Tensor a = tensor({{1.0, 2.0}, {3.0, 4.0}}).requires_grad_();
    Tensor y = a * a;
    y.backward(tensor({{1.0, 0.0}, {0.0, 10.0}}));
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2, 0, 0, 80});
}

TEST_CASE("autograd: detach cuts the graph and shares the values") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor d = (a * 2.0).detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.is_leaf());
    Tensor y = (a * d).sum();  // d acts as a constant
    y.backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{2, 4});
}

TEST_CASE("autograd: NoGradGuard records nothing and restores the mode when it ends") {
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

TEST_CASE("autograd: retain_graph allows a second backward; otherwise it is refused") {
    Tensor a = tensor({2.0}).requires_grad_();
    Tensor y = (a * a).sum();
    y.backward(Tensor(), /*retain_graph=*/true);
    y.backward();
    CHECK(a.grad().item() == 8.0);  // 4 + 4
    REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("already freed") && Catch::Contains("retain_graph"));
}

TEST_CASE("autograd: each node names its op") {
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    CHECK((a + a).grad_fn()->name == "AddBackward");
    CHECK(matmul(a, a).grad_fn()->name == "MatmulBackward");
    CHECK(softmax(a, 0).grad_fn()->name == "SoftmaxBackward");
    CHECK(a.transpose(0, 0).grad_fn()->name == "TransposeBackward");
}

TEST_CASE("autograd: the graph and its saved tensors are released after backward") {
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

TEST_CASE("autograd: a graph dropped without backward leaks nothing") {
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

TEST_CASE("autograd: gradients flow through views into the base tensor") {
    Tensor a = arange(6.0).reshape({2, 3}).detach().requires_grad_();
    Tensor y = a.select(1, 2) * 10.0 + a.slice(1, 0, 3, 2).sum(1);  // a[:, 2] * 10 + (a[:, 0] + a[:, 2])
    y.sum().backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{1, 0, 11, 1, 0, 11});
}

TEST_CASE("autograd: a retained gradient is not sent down again by a later backward through a kept graph") {
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

TEST_CASE("autograd: a backward that throws leaves no gradient in flight for the next pass") {
    Tensor x = tensor({2.0}).requires_grad_();
    Tensor h = x * 3.0;
    Tensor bad = h.detach();
    set_grad_fn(bad, "ThrowingBackward", {&h}, /*saved=*/{}, [](const Tensor&) { throw std::invalid_argument("boom"); });
    Tensor loss = (bad + h).sum();
    REQUIRE_THROWS_WITH(loss.backward(Tensor(), true), "boom");
    (h * 1.0).sum().backward();
    CHECK(x.grad().item() == 3.0);  // only this pass's gradient reached x
}

TEST_CASE("autograd: pow(a, 0) has a zero gradient, also at a = 0") {
    Tensor a = tensor({0.0, 2.0}).requires_grad_();
    a.pow(0.0).sum().backward();
    CHECK(a.grad().to_vector<float>() == std::vector<float>{0, 0});
}

TEST_CASE("backward: gradients of slices add into their parts of a leaf's .grad across calls") {
    Tensor x = ag::zeros({4}).requires_grad_();
    for (int call = 0; call < 2; ++call) (x.slice(0, 0, 2).sum() + x.slice(0, 1, 3).sum() * 2.0).backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 6, 4, 0});
    Tensor kept = x.grad();  // a handle the user keeps: the next call must not write into it
    x[3].sum().backward();
    CHECK(kept.to_vector<float>() == std::vector<float>{2, 6, 4, 0});
    CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 6, 4, 1});
}
