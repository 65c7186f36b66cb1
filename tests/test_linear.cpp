// linear (engine/linear.cpp): one op for x @ w^T + b. Values by hand and against the composition matmul + add,
// gradients by finite differences, sizes of 0, strided arguments, the graph it records, and its errors. Then
// linear_relu, relu(linear) as one op, and Sequential's use of it.
// (Its values against PyTorch's F.linear are in test_inplace_methods.cpp.)
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/engine.h"
#include "layers/layers.h"
#include "tests/gradcheck_helpers.h"

namespace {

using Catch::Contains;

// The same shape and the same values bit for bit, NaN matching NaN.
bool same(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape()) return false;
    const std::vector<double> u = a.to_vector<double>(), v = b.to_vector<double>();
    for (size_t i = 0; i < u.size(); ++i)
        if (!(u[i] == v[i] || (std::isnan(u[i]) && std::isnan(v[i])))) return false;
    return true;
}

Tensor composed(const Tensor& x, const Tensor& w, const Tensor& b) {
    const Tensor y = ag::matmul(x, w.transpose(0, 1));
    return b.defined() ? y + b : y;
}

}  // namespace

TEST_CASE("linear: values and gradients by hand", "[linear]") {
    Tensor x = ag::tensor({{1.0, 2.0}, {3.0, 4.0}}).requires_grad_();
    Tensor w = ag::tensor({{1.0, 0.0}, {0.0, 1.0}, {1.0, 1.0}}).requires_grad_();
    Tensor b = ag::tensor({10.0, 20.0, 30.0}).requires_grad_();
    Tensor y = ag::linear(x, w, b);
    CHECK(y.shape() == Shape{2, 3});
    CHECK(y.to_vector<float>() == std::vector<float>{11, 22, 33, 13, 24, 37});
    y.sum().backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 2, 2, 2});        // ones(2, 3) @ w
    CHECK(w.grad().to_vector<float>() == std::vector<float>{4, 6, 4, 6, 4, 6});  // ones(3, 2) @ x
    CHECK(b.grad().to_vector<float>() == std::vector<float>{2, 2, 2});           // rows summed
}

TEST_CASE("linear: one node whose gradients match the composition and finite differences, for any strides",
          "[linear][gradcheck]") {
    ag::manual_seed(11);
    // x (2, 3, 2, 5); a weight that is the transpose of a (5, 4) tensor; a bias read with a stride of 2
    const Tensor x = input({2, 3, 2, 5}), w_t = input({5, 4}), b_long = input({8});
    const auto w_of = [](const Tensor& t) { return t.transpose(0, 1); };
    const auto b_of = [](const Tensor& t) { return t.index({ag::Slice{0, 8, 2}}); };
    Tensor y = ag::linear(x, w_of(w_t), b_of(b_long));
    REQUIRE(y.grad_fn() != nullptr);
    CHECK(y.grad_fn()->name == "LinearBackward");
    CHECK(y.grad_fn()->inputs.size() == 3);
    CHECK(ag::allclose(y, composed(x, w_of(w_t), b_of(b_long)), 1e-12, 1e-12));

    const Tensor g = ag::randn({2, 3, 2, 4}, DType::Float64);
    (y * g).sum().backward();
    const Tensor dx = x.grad().clone(), dw = w_t.grad().clone(), db = b_long.grad().clone();
    for (const Tensor* t : {&x, &w_t, &b_long}) t->impl().grad.reset();
    (composed(x, w_of(w_t), b_of(b_long)) * g).sum().backward();
    CHECK(ag::allclose(dx, x.grad(), 1e-12, 1e-12));
    CHECK(ag::allclose(dw, w_t.grad(), 1e-12, 1e-12));
    CHECK(ag::allclose(db, b_long.grad(), 1e-12, 1e-12));

    check([&](const std::vector<Tensor>& in) { return ag::linear(in[0], w_of(in[1]), b_of(in[2])); },
          {input({2, 3, 2, 5}), input({5, 4}), input({8})});
    check([](const std::vector<Tensor>& in) { return ag::linear(in[0], in[1]); }, {input({3, 1, 4}), input({2, 4})});
    // only some arguments require grad; the same weight used twice adds both gradients
    check([](const std::vector<Tensor>& in) { return ag::linear(ag::linear(in[0], in[1]), in[1]); },
          {input({3, 4}), input({4, 4})});
    Tensor fixed_w = ag::randn({3, 4}, DType::Float64), xb = input({2, 4});
    y = ag::linear(xb, fixed_w);
    CHECK(y.grad_fn()->inputs.size() == 1);
}

TEST_CASE("linear: sizes of 0 give empty results and zero gradients", "[linear][zero_size]") {
    SECTION("no rows") {
        Tensor x = ag::zeros({0, 4}).requires_grad_(), w = ag::ones({5, 4}).requires_grad_(),
               b = ag::ones({5}).requires_grad_();
        Tensor y = ag::linear(x, w, b);
        CHECK(y.shape() == Shape{0, 5});
        y.sum().backward();
        CHECK(x.grad().shape() == Shape{0, 4});
        CHECK(w.grad().to_vector<float>() == std::vector<float>(20, 0.0f));
        CHECK(b.grad().to_vector<float>() == std::vector<float>(5, 0.0f));
    }
    SECTION("no inputs: y is the bias") {
        Tensor x = ag::zeros({3, 0}).requires_grad_(), w = ag::zeros({2, 0}).requires_grad_(),
               b = ag::tensor({1.5, -2.0}).requires_grad_();
        Tensor y = ag::linear(x, w, b);
        CHECK(y.to_vector<float>() == std::vector<float>{1.5f, -2.0f, 1.5f, -2.0f, 1.5f, -2.0f});
        CHECK(ag::linear(x, w).to_vector<float>() == std::vector<float>(6, 0.0f));
        y.sum().backward();
        CHECK(x.grad().shape() == Shape{3, 0});
        CHECK(w.grad().shape() == Shape{2, 0});
        CHECK(b.grad().to_vector<float>() == std::vector<float>{3, 3});
    }
    SECTION("no outputs") {
        Tensor x = ag::ones({3, 4}).requires_grad_(), w = ag::zeros({0, 4}).requires_grad_();
        Tensor y = ag::linear(x, w, ag::zeros({0}));
        CHECK(y.shape() == Shape{3, 0});
        y.sum().backward();
        CHECK(x.grad().to_vector<float>() == std::vector<float>(12, 0.0f));
    }
}

TEST_CASE("linear: the same bits on every run with a thread count, and the same values on 1 and 2 threads",
          "[linear][threads]") {
    // (OpenBLAS may round a product split into blocks differently from the whole: 1 and 2 threads agree to float
    // rounding, not bit for bit.)
    ag::manual_seed(5);
    const Tensor x = ag::randn({192, 300}), w = ag::randn({256, 300}), b = ag::randn({256}), g = ag::randn({192, 256});
    const int previous = ag::set_num_threads(1);
    std::vector<std::vector<float>> runs;  // y, dx, dw, db of each run
    for (int t : {1, 2, 2}) {
        ag::set_num_threads(t);
        Tensor xl = x.detach().requires_grad_(), wl = w.detach().requires_grad_(), bl = b.detach().requires_grad_();
        Tensor y = ag::linear(xl, wl, bl);
        (y * g).sum().backward();
        for (const Tensor& v : {y, xl.grad(), wl.grad(), bl.grad()}) runs.push_back(v.to_vector<float>());
    }
    ag::set_num_threads(previous);
    for (size_t k = 0; k < 4; ++k) {
        CHECK(runs[4 + k] == runs[8 + k]);  // 2 threads, twice
        const Tensor one = ag::from_vector(runs[k], {static_cast<int64_t>(runs[k].size())});
        const Tensor two = ag::from_vector(runs[4 + k], {static_cast<int64_t>(runs[k].size())});
        CHECK(ag::allclose(one, two, 1e-5, 1e-4));
    }
}

TEST_CASE("linear: an argument that starts to require grad after the forward gets no gradient from it",
          "[linear][version]") {
    Tensor x = ag::ones({2, 3}).requires_grad_(), w = ag::ones({4, 3}), b = ag::ones({4});
    Tensor loss = ag::linear(x, w, b).sum();
    w.requires_grad_(true);
    b.requires_grad_(true);
    {
        ag::NoGradGuard no_grad;
        x.mul_(10.0);  // x was not saved (w needed no gradient): writing it is allowed, and must not matter
    }
    loss.backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>(6, 4.0f));
    CHECK_FALSE(w.grad().defined());  // as in PyTorch: the graph was built without an edge to w or b
    CHECK_FALSE(b.grad().defined());
}

TEST_CASE("linear: refuses integer tensors and a saved input written in place", "[linear][version]") {
    REQUIRE_THROWS_WITH(ag::linear(ag::zeros({2, 3}, DType::Int64), ag::zeros({4, 3}, DType::Int64)),
                        "linear: expected floating-point tensors; got torch.int64");
    Tensor x = ag::ones({2, 3}).set_name("x"), w = ag::ones({4, 3}).requires_grad_();
    Tensor loss = ag::linear(x, w).sum();
    x.fill_(2.0);
    REQUIRE_THROWS_WITH(loss.backward(), Contains("('x') was modified by an in-place operation after LinearBackward saved it"));
    CHECK_FALSE(w.grad().defined());
}

TEST_CASE("linear_relu: relu(linear(..)) bit for bit, NaN kept, and its gradients", "[linear][relu][gradcheck]") {
    ag::manual_seed(13);
    for (DType dt : {DType::Float32, DType::Float64}) {
        Tensor x = ag::randn({3, 5, 6}, dt), w = ag::randn({7, 6}, dt), b = ag::randn({7}, dt);
        x[0][1][2] = NAN;  // row (0, 1) of the product is NaN, and stays NaN
        CHECK(same(ag::linear_relu(x, w, b), ag::relu(ag::linear(x, w, b))));
        CHECK(std::isnan(ag::linear_relu(x, w, b)[0][1][0].item()));
        CHECK(same(ag::linear_relu(x, w), ag::relu(ag::linear(x, w))));
    }
    const Tensor x = input({2, 3, 4}), w = input({5, 4}), b = input({5}), g = ag::randn({2, 3, 5}, DType::Float64);
    Tensor y = ag::linear_relu(x, w, b);
    CHECK(y.grad_fn()->name == "LinearReluBackward");
    (y * g).sum().backward();
    const Tensor dx = x.grad().clone(), dw = w.grad().clone(), db = b.grad().clone();
    for (const Tensor* t : {&x, &w, &b}) t->impl().grad.reset();
    (ag::relu(ag::linear(x, w, b)) * g).sum().backward();
    CHECK(same(dx, x.grad()));
    CHECK(same(dw, w.grad()));
    CHECK(same(db, b.grad()));
    check([](const std::vector<Tensor>& in) { return ag::linear_relu(in[0], in[1], in[2]); },
          {input({2, 3, 4}), input({5, 4}), input({5})});
    check([](const std::vector<Tensor>& in) { return ag::linear_relu(in[0].t(), in[1]); }, {input({4, 3}), input({2, 4})});
    REQUIRE_THROWS_WITH(ag::linear_relu(ag::zeros({2, 3}), ag::zeros({4, 4})),
                        "linear_relu: x's last dim must equal weight's in (its dim 1); got x [2, 3], weight [4, 4]");
    Tensor empty_rows = ag::linear_relu(ag::zeros({0, 4}), ag::ones({3, 4}), ag::ones({3}));
    CHECK(empty_rows.shape() == Shape{0, 3});
}

namespace {

// A Linear whose forward is its own: Sequential must run it, not the fused op.
class DoubledLinear : public ag::Linear {
public:
    using ag::Linear::Linear;
    Tensor forward(const Tensor& x) const override { return ag::Linear::forward(x) * 2.0; }
};

}  // namespace

TEST_CASE("Sequential: a Linear then a ReLU run as one op with the same values and gradients", "[linear][relu][layers]") {
    ag::manual_seed(17);
    ag::Sequential net;
    net.append<ag::Linear>(6, 8);
    net.append<ag::ReLU>();
    net.append<ag::Linear>(8, 3);
    net.append<ag::ReLU>();
    const Tensor x = ag::randn({4, 6});
    Tensor fused = net(x);
    REQUIRE(fused.grad_fn() != nullptr);
    CHECK(fused.grad_fn()->name == "LinearReluBackward");
    CHECK(fused.grad_fn()->inputs.front()->grad_fn->name == "LinearReluBackward");
    fused.sum().backward();
    std::vector<Tensor> grads;
    for (const auto& [name, p] : net.named_parameters()) grads.push_back(p.grad().clone());
    net.zero_grad();
    Tensor one_by_one = x;
    for (const ag::Layer& layer : net) one_by_one = layer(one_by_one);
    CHECK(one_by_one.grad_fn()->name == "ReluBackward");
    CHECK(same(fused, one_by_one));
    one_by_one.sum().backward();
    size_t i = 0;
    for (const auto& [name, p] : net.named_parameters()) CHECK(same(grads[i++], p.grad()));

    ag::Sequential custom;
    custom.append<DoubledLinear>(6, 8);
    custom.append<ag::ReLU>();
    const Tensor y = custom(x);
    CHECK(y.grad_fn()->name == "ReluBackward");
    CHECK(same(y, ag::relu(custom[0](x))));
    CHECK(ag::allclose(y, ag::relu(ag::linear(x, static_cast<const ag::Linear&>(custom[0]).weight,
                                              static_cast<const ag::Linear&>(custom[0]).bias) * 2.0)));
}
