// The in-place Tensor methods (+=, -=, *=, /=, add_, mul_; uniform_, normal_, bernoulli_), from_vector of bools and
// linear: values against torch 1.13 (tests/fixtures/inplace_fixtures.inc, written by
// tests/fixtures/make_inplace_fixtures.py), bit for bit where torch's kernel rounds once; linear's gradients by
// gradcheck in float64; every refusal.
#include <catch2/catch.hpp>

#include "engine/engine.h"
#include "layers/layers.h"
#include "tests/gradcheck_helpers.h"
#include "tests/op_fixture.h"

namespace fixture {
#include "tests/fixtures/inplace_fixtures.inc"
}  // namespace fixture

namespace {

namespace fi = fixture::fx_inplace;
using Catch::Contains;

// Both dtypes of an in-place result, bit for bit.
void check_exact(const std::function<void(Tensor&)>& write, const fixture::Array& start,
                 const fixture::Expected& want) {
    for (DType dt : {DType::Float32, DType::Float64}) {
        Tensor x = make(start, dt);
        write(x);
        fixture::check_values(x, want.shape, dt == DType::Float32 ? want.f32 : want.f64, {0, 0});
    }
}

// A random fill of a fresh tensor after manual_seed(seed), bit for bit.
void check_drawn(uint64_t seed, DType dt, const Shape& shape, const std::function<void(Tensor&)>& fill,
                 const fixture::Array& want) {
    ag::manual_seed(seed);
    Tensor x = ag::empty(shape, dt);
    fill(x);
    check_equal(x.reshape({x.numel()}), want, dt);
}

}  // namespace

TEST_CASE("inplace_methods: +=, -=, *=, /= and add_ with alpha equal torch's, broadcasting into this tensor",
          "[inplace_methods]") {
    auto other = [](const fixture::Array& a, const Tensor& x) { return make(a, x.dtype()); };
    check_exact([&](Tensor& x) { x += other(fi::b14, x); }, fi::a34, fi::add_b14);
    for (DType dt : {DType::Float32, DType::Float64})  // alpha y + x: torch fuses some elements, so within a rounding
        check_close(make(fi::a34, dt).add_(make(fi::a31, dt), -0.37), fi::add_a31_alpha, dt);
    check_exact([&](Tensor& x) { x -= other(fi::b14, x); }, fi::a34, fi::sub_b14);
    check_exact([&](Tensor& x) { x *= other(fi::a31, x); }, fi::a34, fi::mul_a31);
    check_exact([&](Tensor& x) { x.mul_(other(fi::a31, x)); }, fi::a34, fi::mul_a31);
    check_exact([&](Tensor& x) { x /= other(fi::p34, x); }, fi::a34, fi::div_p34);
    check_exact([&](Tensor& x) { x /= other(fi::p14, x); }, fi::a34, fi::div_p14);
}

TEST_CASE("inplace_methods: with a number, which acts as a 0-d tensor of this dtype, as in torch",
          "[inplace_methods]") {
    check_exact([](Tensor& x) { x += 0.1; }, fi::a34, fi::add_scalar);
    // alpha other is rounded before the add; torch fuses the two for some elements: equal within one rounding.
    for (DType dt : {DType::Float32, DType::Float64}) check_close(make(fi::a34, dt).add_(0.7, 2.5), fi::add_scalar_alpha, dt);
    check_exact([](Tensor& x) { x -= 0.3; }, fi::a34, fi::sub_scalar);
    check_exact([](Tensor& x) { x *= 0.1; }, fi::a34, fi::mul_scalar);
    check_exact([](Tensor& x) { x.mul_(0.1); }, fi::a34, fi::mul_scalar);
    check_exact([](Tensor& x) { x /= 3.0; }, fi::a34, fi::div_scalar);
}

TEST_CASE("inplace_methods: int64 tensors add, subtract and multiply exactly", "[inplace_methods]") {
    const Tensor i14 = ag::from_vector(fi::i14.values, fi::i14.shape).to(DType::Int64);
    auto start = [] { return ag::from_vector(fi::i34.values, fi::i34.shape).to(DType::Int64); };
    Tensor x = start();
    check_equal(x += i14, fi::int_add_i14, DType::Int64);
    check_equal(start().add_(i14, 2), fi::int_add_i14_alpha2, DType::Int64);
    check_equal(start() -= 4, fi::int_sub_4, DType::Int64);
    check_equal(start() *= -3, fi::int_mul_minus3, DType::Int64);
}

TEST_CASE("inplace_methods: they return this tensor, write through views and read an overlapping source as it was",
          "[inplace_methods]") {
    Tensor x = ag::zeros({2, 3});
    Tensor& same = (x += 1.0);
    CHECK(same.impl_ptr() == x.impl_ptr());
    x[1] *= 5.0;  // a view of row 1
    CHECK(x.to_vector<float>() == std::vector<float>{1, 1, 1, 5, 5, 5});
    Tensor m = ag::tensor({{1, 2}, {3, 4}});
    m += m.t();  // reads the old values of the transpose
    CHECK(m.to_vector<float>() == std::vector<float>{2, 5, 5, 8});
    Tensor v = ag::tensor({1, 2, 3});
    ag::add_(v, ag::tensor({1, 1, 1}));  // the optimisers' free function is the same add
    CHECK(v.to_vector<float>() == std::vector<float>{2, 3, 4});
}

TEST_CASE("inplace_methods: they bump the version, so a graph that saved the old value refuses backward",
          "[inplace_methods][version]") {
    Tensor w = ag::tensor({1.0, 2.0}).requires_grad_();
    Tensor x = ag::tensor({3.0, 4.0});
    Tensor loss = (w * x).sum();  // MulBackward saves x for w's gradient
    const uint64_t before = x.version();
    x += 1.0;
    x.mul_(2.0);
    x /= ag::tensor({2.0});
    CHECK(x.version() == before + 3);
    REQUIRE_THROWS_WITH(loss.backward(), Contains("was modified by an in-place operation after MulBackward saved it"));
}

TEST_CASE("inplace_methods: refused on a tensor that requires grad unless under NoGradGuard, and on bad operands",
          "[inplace_methods]") {
    Tensor w = ag::ones({3}).requires_grad_();
    REQUIRE_THROWS_WITH(w += 1.0, Contains("add_: cannot write in place into a tensor that requires grad"));
    REQUIRE_THROWS_WITH(w.mul_(ag::ones({3})), Contains("mul_: cannot write in place into a tensor that requires grad"));
    Tensor y = w * 2.0;  // not a leaf: not recorded in the graph either, so refused too
    REQUIRE_THROWS_WITH(y -= 1.0, Contains("sub_: cannot write in place into a tensor that requires grad"));
    {
        ag::NoGradGuard no_grad;
        w -= 0.5;  // the optimisers' way
    }
    CHECK(w.to_vector<float>() == std::vector<float>{0.5, 0.5, 0.5});

    Tensor x = ag::zeros({3});
    REQUIRE_THROWS_WITH(x += ag::ones({2, 3}), "add_: source must broadcast to the destination's shape; got [2, 3] into [3]");
    REQUIRE_THROWS_WITH(x *= ag::ones({2}), Contains("mul_:") && Contains("[2]"));
    REQUIRE_THROWS_WITH(x += ag::ones({3}, DType::Float64), "add_: both tensors must have the same dtype; got torch.float32 and torch.float64");
    Tensor ints = ag::zeros({3}, DType::Int64);
    REQUIRE_THROWS_WITH(ints += ag::ones({3}), "add_: both tensors must have the same dtype; got torch.int64 and torch.float32");
    REQUIRE_THROWS_WITH(ints += 2.5, "add_: the number must be a whole number for an int64 tensor; got 2.5");
    REQUIRE_THROWS_WITH(ints.add_(ints, 0.5), "add_: alpha must be a whole number for an int64 tensor; got 0.5");
    REQUIRE_THROWS_WITH(ints /= 2.0, Contains("div_: true division gives floats, which an int64 tensor cannot hold"));
    Tensor mask = ag::zeros({3}, DType::Bool);
    REQUIRE_THROWS_WITH(mask += mask, "add_: expected a float32, float64 or int64 tensor; got bool");
    REQUIRE_THROWS_WITH(x *= 1e300, Contains("mul_:"));  // does not fit float32
    Tensor wide = ag::zeros({1}).expand({3});
    REQUIRE_THROWS_WITH(wide += 1.0, Contains("add_: unsupported operation: more than one element"));
    Tensor empty = ag::zeros({0, 3});
    empty += ag::ones({3});  // zero-size: nothing to write, allowed as in torch
    CHECK(empty.numel() == 0);
}

TEST_CASE("inplace_methods: uniform_ and bernoulli_ draw torch's numbers bit for bit in float32 and float64",
          "[inplace_methods][random]") {
    using F = const fixture::Array&;
    for (DType dt : {DType::Float32, DType::Float64}) {
        const bool f32 = dt == DType::Float32;
        F u5 = f32 ? fi::uniform_f32_5 : fi::uniform_f64_5, u40 = f32 ? fi::uniform_f32_40 : fi::uniform_f64_40;
        F u01 = f32 ? fi::uniform01_f32_20 : fi::uniform01_f64_20;
        F b5 = f32 ? fi::bernoulli_f32_5 : fi::bernoulli_f64_5, b40 = f32 ? fi::bernoulli_f32_40 : fi::bernoulli_f64_40;
        check_drawn(1337, dt, {5}, [](Tensor& x) { x.uniform_(-2, 3); }, u5);
        check_drawn(1337, dt, {40}, [](Tensor& x) { x.uniform_(-2, 3); }, u40);
        check_drawn(42, dt, {20}, [](Tensor& x) { x.uniform_(); }, u01);
        check_drawn(7, dt, {5}, [](Tensor& x) { x.bernoulli_(0.3); }, b5);
        check_drawn(7, dt, {40}, [](Tensor& x) { x.bernoulli_(0.3); }, b40);
    }
    ag::Generator gen(1337);  // an explicit generator draws the same
    Tensor x = ag::empty({5});
    x.uniform_(-2, 3, &gen);
    check_equal(x, fi::uniform_f32_5, DType::Float32);
}

TEST_CASE("inplace_methods: normal_ draws torch's numbers bit for bit, both paths, both dtypes", "[inplace_methods][random]") {
    for (DType dt : {DType::Float32, DType::Float64}) {
        const bool f32 = dt == DType::Float32;
        INFO(ag::dtype_name(dt));
        check_drawn(99, dt, {5}, [](Tensor& x) { x.normal_(0.3, 1.7); }, f32 ? fi::normal_f32_5 : fi::normal_f64_5);
        check_drawn(99, dt, {16}, [](Tensor& x) { x.normal_(0.3, 1.7); }, f32 ? fi::normal_f32_16 : fi::normal_f64_16);
        check_drawn(99, dt, {37}, [](Tensor& x) { x.normal_(0.3, 1.7); }, f32 ? fi::normal_f32_37 : fi::normal_f64_37);
        check_drawn(11, dt, {2, 3, 7}, [](Tensor& x) { x.normal_(-1, 0.5); },
                    f32 ? fi::normal_f32_2x3x7 : fi::normal_f64_2x3x7);
        // 3 small draws leave a cached normal; 20 (blocked) leave it alone; the next 3 start with it.
        ag::manual_seed(5);
        Tensor a = ag::empty({3}, dt), b = ag::empty({20}, dt), c = ag::empty({3}, dt);
        a.normal_(), b.normal_(), c.normal_();
        check_equal(ag::cat({a, b, c}, 0), f32 ? fi::normal_f32_3_20_3 : fi::normal_f64_3_20_3, dt);
    }
}

TEST_CASE("inplace_methods: random fills refuse int tensors, bad parameters and tensors that require grad",
          "[inplace_methods][random]") {
    Tensor ints = ag::zeros({3}, DType::Int64);
    REQUIRE_THROWS_WITH(ints.uniform_(), "uniform_: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ints.normal_(), "normal_: expected a floating-point tensor; got torch.int64");
    REQUIRE_THROWS_WITH(ints.bernoulli_(0.5), "bernoulli_: expected a floating-point tensor; got torch.int64");
    Tensor x = ag::zeros({3});
    REQUIRE_THROWS_WITH(x.uniform_(1, 0), "uniform_: low must not exceed high; got low=1, high=0");
    REQUIRE_THROWS_WITH(x.normal_(0, -1), "normal_: std must be non-negative; got std=-1");
    REQUIRE_THROWS_WITH(x.bernoulli_(1.5), "bernoulli_: p must be in [0, 1]; got 1.5");
    REQUIRE_THROWS_WITH(x.bernoulli_(-0.1), "bernoulli_: p must be in [0, 1]; got -0.1");
    CHECK(x.to_vector<float>() == std::vector<float>{0, 0, 0});  // nothing written
    Tensor w = ag::zeros({3}).requires_grad_();
    REQUIRE_THROWS_WITH(w.uniform_(), Contains("uniform_: cannot write in place into a tensor that requires grad"));
    CHECK(x.uniform_(2, 2).to_vector<float>() == std::vector<float>{2, 2, 2});  // lo == hi is allowed
    CHECK(x.bernoulli_(1).to_vector<float>() == std::vector<float>{1, 1, 1});
}

TEST_CASE("inplace_methods: from_vector builds bool masks beside the float, double and int64 overloads",
          "[inplace_methods][creation]") {
    Tensor mask = ag::from_vector(std::vector<bool>{true, false, true, true}, {2, 2});
    CHECK(mask.dtype() == DType::Bool);
    CHECK(mask.to(DType::Float32).to_vector<float>() == std::vector<float>{1, 0, 1, 1});
    CHECK(ag::from_vector(std::vector<float>{1, 0}, {2}).dtype() == DType::Float32);
    CHECK(ag::from_vector(std::vector<double>{1, 0}, {2}).dtype() == DType::Float64);
    CHECK(ag::from_vector(std::vector<int64_t>{1, 0}, {2}).dtype() == DType::Int64);
    REQUIRE_THROWS_WITH(ag::from_vector(std::vector<bool>{true}, {2}),
                        "from_vector: the shape must hold exactly the values given; got 1 values for shape [2]");
}

TEST_CASE("inplace_methods: linear equals torch's F.linear, with and without bias, 1-D and batched x",
          "[inplace_methods][linear]") {
    for (DType dt : {DType::Float32, DType::Float64}) {
        const Tensor x = make(fi::lx, dt), v = make(fi::lv, dt), w = make(fi::lw, dt), b = make(fi::lb, dt);
        check_close(ag::linear(x, w, b), fi::linear_bias, dt);
        check_close(ag::linear(x, w), fi::linear_no_bias, dt);
        check_close(ag::linear(v, w, b), fi::linear_1d, dt);
    }
}

TEST_CASE("inplace_methods: linear's gradients match finite differences", "[inplace_methods][linear][gradcheck]") {
    ag::manual_seed(3);
    check([](const std::vector<Tensor>& in) { return ag::linear(in[0], in[1], in[2]); },
          {input({2, 3, 4}), input({5, 4}), input({5})});
    check([](const std::vector<Tensor>& in) { return ag::linear(in[0], in[1]); }, {input({4}), input({5, 4})});
    check([](const std::vector<Tensor>& in) { return ag::linear(in[0].t(), in[1], in[2]); },
          {input({4, 3}), input({2, 4}), input({2})});  // a transposed (strided) x
}

TEST_CASE("inplace_methods: linear refuses mismatched shapes and dtypes", "[inplace_methods][linear]") {
    const Tensor x = ag::zeros({2, 4}), w = ag::zeros({5, 4}), b = ag::zeros({5});
    REQUIRE_THROWS_WITH(ag::linear(ag::zeros({}), w), "linear: x must be (..., in) and weight (out, in); got x [], weight [5, 4]");
    REQUIRE_THROWS_WITH(ag::linear(x, ag::zeros({4})), Contains("linear: x must be (..., in) and weight (out, in)"));
    REQUIRE_THROWS_WITH(ag::linear(ag::zeros({2, 3}), w, b),
                        "linear: x's last dim must equal weight's in (its dim 1); got x [2, 3], weight [5, 4], bias [5]");
    REQUIRE_THROWS_WITH(ag::linear(x, w, ag::zeros({4})), Contains("linear: bias must be (out)"));
    REQUIRE_THROWS_WITH(ag::linear(x, w, ag::zeros({1, 5})), Contains("linear: bias must be (out)"));
    REQUIRE_THROWS_WITH(ag::linear(x, ag::zeros({5, 4}, DType::Float64), b),
                        "linear: x, weight and bias must have the same dtype; got torch.float32, torch.float64, torch.float32");
    ag::Linear layer(4, 5);  // the layer runs the same function
    CHECK(ag::allclose(layer(x), ag::linear(x, layer.weight, layer.bias)));
}
