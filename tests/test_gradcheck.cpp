// Tests of ag::gradcheck itself: it passes correct ops, catches a wrong backward and says where, refuses inputs it
// cannot check, leaves the inputs as it found them, and honours its options. The wrong backwards are custom ops
// built here with ag::set_grad_fn, the way an op of the engine records its Node.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "engine/engine.h"

using ag::DType;
using ag::Tensor;
using Catch::Contains;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// y = 3 x element-wise, with a backward that returns dx = 3 dout * (1 + relative_error), and flips the sign of
// element `flip` of dx when flip >= 0.
Tensor triple(const Tensor& x, double relative_error = 0, int64_t flip = -1) {
    Tensor out = x.detach() * 3.0;
    if (ag::needs_grad(x))
        ag::set_grad_fn(out, "TripleBackward", {&x}, /*saved=*/{}, [x, relative_error, flip](const Tensor& dout) {
            Tensor dx = (dout * (3.0 * (1 + relative_error))).contiguous();  // dx += 3 dout (perhaps wrongly)
            if (flip >= 0) dx.data<double>()[flip] *= -1;
            ag::accumulate_grad(x, dx);
        });
    return out;
}

// y = 3 x element-wise, with a backward that reads dout backwards: dx[i] = 3 dout[n - 1 - i].
Tensor triple_reversed(const Tensor& x) {
    Tensor out = x.detach() * 3.0;
    if (ag::needs_grad(x))
        ag::set_grad_fn(out, "TripleReversedBackward", {&x}, /*saved=*/{}, [x](const Tensor& dout) {
            std::vector<double> d = dout.to_vector<double>();
            std::vector<double> reversed(d.rbegin(), d.rend());
            ag::accumulate_grad(x, ag::from_vector(reversed, dout.shape()) * 3.0);  // should be 3 dout
        });
    return out;
}

// out = a * b element-wise, whose backward gets db wrong by a factor 2 (da is right).
Tensor mul_wrong_db(const Tensor& a, const Tensor& b) {
    Tensor out = a.detach() * b.detach();
    if (ag::needs_grad(a, b))
        ag::set_grad_fn(out, "MulWrongBackward", {&a, &b}, /*saved=*/{a, b}, [a, b](const Tensor& dout) {
            ag::accumulate_grad(a, dout * b.detach());        // da += dout * b
            ag::accumulate_grad(b, dout * a.detach() * 2.0);  // db += 2 dout * a   (should be dout * a)
        });
    return out;
}

Tensor input(const ag::Shape& shape) { return ag::randn(shape, DType::Float64).requires_grad_(); }

}  // namespace

TEST_CASE("gradcheck: passes on correct ops", "[gradcheck]") {
    ag::manual_seed(100);
    Fn f = [](const std::vector<Tensor>& in) { return ag::matmul(in[0], in[1]).tanh(); };
    ag::GradcheckResult r = ag::gradcheck(f, {input({3, 4}), input({4, 2})});
    CHECK(r.passed);
    CHECK(static_cast<bool>(r));
    CHECK(r.report.empty());
    CHECK(r.input == -1);
    CHECK(triple(input({2, 2})).requires_grad());
    CHECK(ag::gradcheck([](const std::vector<Tensor>& in) { return triple(in[0]); }, {input({5})}).passed);
}

TEST_CASE("gradcheck: catches a backward off by a factor 2 and names the input, element, analytic and numeric",
          "[gradcheck]") {
    ag::manual_seed(101);
    Tensor a = input({2, 3}), b = input({2, 3});
    ag::GradcheckResult r = ag::gradcheck([](const std::vector<Tensor>& in) { return mul_wrong_db(in[0], in[1]); }, {a, b});
    REQUIRE_FALSE(r.passed);
    REQUIRE_FALSE(static_cast<bool>(r));
    // the worst entry: d out[i] / d b[i] = a[i], reported as 2 a[i], at the element where |a| is largest
    std::vector<double> av = a.to_vector<double>();
    int64_t worst = 0;
    for (int64_t i = 0; i < 6; ++i)
        if (std::abs(av[i]) > std::abs(av[worst])) worst = i;
    CHECK(r.input == 1);
    CHECK(r.input_element == worst);
    CHECK(r.output_element == worst);
    CHECK(r.analytic == Approx(2 * av[worst]));
    CHECK(r.numeric == Approx(av[worst]).epsilon(1e-6));
    CHECK(r.input_index == ag::Shape{worst / 3, worst % 3});
    CHECK(r.gradient_reached);
    const std::string at = "[" + std::to_string(worst / 3) + ", " + std::to_string(worst % 3) + "] of shape [2, 3]";
    CHECK_THAT(r.report, Contains("input 1 is wrong") && Contains("  at its element " + at) &&
                             Contains("  for output element " + at) && Contains("analytic") && Contains("numeric"));
}

TEST_CASE("gradcheck: catches a wrong sign on one element of the gradient", "[gradcheck]") {
    ag::manual_seed(102);
    Tensor x = input({2, 3});
    ag::GradcheckResult r = ag::gradcheck([](const std::vector<Tensor>& in) { return triple(in[0], 0, 4); }, {x});
    REQUIRE_FALSE(r.passed);
    CHECK(r.input == 0);
    CHECK(r.input_element == 4);
    CHECK(r.output_element == 4);
    CHECK(r.analytic == Approx(-3.0));
    CHECK(r.numeric == Approx(3.0).epsilon(1e-6));
    INFO(r.report);
    CHECK_THAT(r.report, Contains("gradcheck: the gradient of input 0 is wrong\n"
                                  "  at its element [1, 1] of shape [2, 3]\n"
                                  "  for output element [1, 1] of shape [2, 3]\n"));
    CHECK_THAT(r.report, Contains("analytic (backward) -3") && Contains("numeric (finite differences) 3"));
    CHECK_THAT(r.report, Contains("atol 1e-05") && Contains("rtol 0.001"));
}

TEST_CASE("gradcheck: catches a gradient in the wrong order, which a plain sum would hide", "[gradcheck]") {
    ag::manual_seed(103);
    Tensor x = input({4});
    auto check_sum = [](const std::vector<Tensor>& in) { return triple_reversed(in[0]).sum(); };
    CHECK(ag::gradcheck(check_sum, {x}).passed);  // every dx[i] = 3 whatever the order: the error cancels
    ag::GradcheckResult full = ag::gradcheck([](const std::vector<Tensor>& in) { return triple_reversed(in[0]); }, {x});
    CHECK_FALSE(full.passed);
    // backward claims d y[3] / d x[0] = 3; it is 0
    CHECK(full.input_element == 0);
    CHECK(full.output_element == 3);
    CHECK(full.analytic == Approx(3.0));
    CHECK(full.numeric == Approx(0.0).margin(1e-9));
    Tensor w = ag::randn({4}, DType::Float64);
    CHECK_FALSE(ag::gradcheck([w](const std::vector<Tensor>& in) { return (triple_reversed(in[0]) * w).sum(); }, {x})
                    .passed);
}

TEST_CASE("gradcheck: catches a gradient lost to a detach", "[gradcheck]") {
    ag::manual_seed(104);
    // x.detach() * x: backward sees only the second factor (x) while the function changes as 2 x
    ag::GradcheckResult r = ag::gradcheck([](const std::vector<Tensor>& in) { return in[0].detach() * in[0]; },
                                          {input({3})});
    REQUIRE_FALSE(r.passed);
    CHECK(r.input == 0);
    CHECK(r.analytic != Approx(r.numeric));
}

TEST_CASE("gradcheck: refuses float32 inputs with a clear message", "[gradcheck]") {
    Tensor x = ag::randn({3}).requires_grad_();
    Fn f = [](const std::vector<Tensor>& in) { return in[0] * 2.0; };
    REQUIRE_THROWS_AS(ag::gradcheck(f, {x}), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::gradcheck(f, {x}), Contains("gradcheck: input 0 is torch.float32") &&
                                                   Contains("finite differences need float64"));
    Tensor y = input({3});
    REQUIRE_THROWS_WITH(ag::gradcheck([](const std::vector<Tensor>& in) { return in[0] + in[1].to(DType::Float64); },
                                      {y, x}),
                        Contains("input 1 is torch.float32"));
}

TEST_CASE("gradcheck: refuses when no input requires grad", "[gradcheck]") {
    Fn f = [](const std::vector<Tensor>& in) { return in[0] * 2.0; };
    REQUIRE_THROWS_AS(ag::gradcheck(f, {ag::randn({3}, DType::Float64)}), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::gradcheck(f, {ag::randn({3}, DType::Float64)}), Contains("gradcheck: no input requires grad"));
    REQUIRE_THROWS_WITH(ag::gradcheck(f, {}), Contains("no input requires grad"));
}

TEST_CASE("gradcheck: refuses an input that is not a leaf", "[gradcheck]") {
    Tensor x = input({3});
    Fn f = [](const std::vector<Tensor>& in) { return in[0] * 2.0; };
    REQUIRE_THROWS_WITH(ag::gradcheck(f, {x * 1.0}), Contains("gradcheck: input 0 is not a leaf"));
}

TEST_CASE("gradcheck: restores the inputs' values and their existing .grad", "[gradcheck]") {
    ag::manual_seed(105);
    Tensor a = input({2, 3}), b = input({3, 2});
    ag::matmul(a, b).sum().backward();  // a and b now hold a .grad of their own
    const std::vector<double> a_before = a.to_vector<double>(), b_before = b.to_vector<double>();
    const std::vector<double> da_before = a.grad().to_vector<double>();
    auto a_grad_impl = a.grad().impl_ptr();
    REQUIRE(b.grad().defined());
    auto b_grad_impl = b.grad().impl_ptr();

    SECTION("after a pass") {
        REQUIRE(ag::gradcheck([](const std::vector<Tensor>& in) { return ag::matmul(in[0], in[1]); }, {a, b}));
    }
    SECTION("after a failure") {
        auto f = [](const std::vector<Tensor>& in) { return mul_wrong_db(in[0], in[1].transpose(0, 1)); };
        REQUIRE_FALSE(ag::gradcheck(f, {a, b}).passed);
    }
    CHECK(a.to_vector<double>() == a_before);  // bit for bit: every perturbation was undone
    CHECK(b.to_vector<double>() == b_before);
    REQUIRE(a.grad().defined());
    CHECK(a.grad().impl_ptr() == a_grad_impl);
    CHECK(a.grad().to_vector<double>() == da_before);
    CHECK(b.grad().impl_ptr() == b_grad_impl);
}

TEST_CASE("gradcheck: leaves an input without a .grad without one", "[gradcheck]") {
    ag::manual_seed(106);
    Tensor x = input({3});
    REQUIRE(ag::gradcheck([](const std::vector<Tensor>& in) { return in[0].exp(); }, {x}));
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("gradcheck: skips inputs that do not require grad", "[gradcheck]") {
    ag::manual_seed(107);
    // the wrong db is never checked when b needs no gradient; an int64 index input is skipped too
    Tensor a = input({2, 3}), b = ag::randn({2, 3}, DType::Float64);
    CHECK(ag::gradcheck([](const std::vector<Tensor>& in) { return mul_wrong_db(in[0], in[1]); }, {a, b}).passed);
    CHECK_FALSE(b.grad().defined());
    Tensor index = ag::from_vector(std::vector<int64_t>{1, 0, 1}, {3});
    CHECK(ag::gradcheck([](const std::vector<Tensor>& in) { return ag::index_select(in[0], 1, in[1]); }, {a, index})
              .passed);
    // a float32 input that needs no gradient is not refused either
    Tensor f32 = ag::randn({3});
    CHECK(ag::gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[1].to(DType::Float64); }, {input({3}), f32})
              .passed);
}

TEST_CASE("gradcheck: honours atol", "[gradcheck]") {
    ag::manual_seed(108);
    Tensor x = input({3});
    // analytic 3 * (1 + 1e-4) against numeric 3: an absolute error of 3e-4
    Fn f = [](const std::vector<Tensor>& in) { return triple(in[0], 1e-4); };
    CHECK(ag::gradcheck(f, {x}, {1e-6, 1e-3, 0.0}).passed);
    ag::GradcheckResult tight = ag::gradcheck(f, {x}, {1e-6, 1e-4, 0.0});
    CHECK_FALSE(tight.passed);
    CHECK_THAT(tight.report, Contains("atol 0.0001"));
    CHECK(ag::gradcheck(f, {x}).passed);  // the defaults allow 1e-5 + 1e-3 * 3
}

TEST_CASE("gradcheck: honours rtol", "[gradcheck]") {
    ag::manual_seed(109);
    Tensor x = input({3});
    Fn f = [](const std::vector<Tensor>& in) { return triple(in[0], 1e-2); };
    CHECK(ag::gradcheck(f, {x}, {1e-6, 0.0, 2e-2}).passed);
    CHECK_FALSE(ag::gradcheck(f, {x}, {1e-6, 0.0, 5e-3}).passed);
    CHECK_FALSE(ag::gradcheck(f, {x}).passed);  // 3e-2 > 1e-5 + 1e-3 * 3
}

TEST_CASE("gradcheck: honours eps", "[gradcheck]") {
    ag::manual_seed(110);
    // central differences of x^3 are off by eps^2 exactly: 1e-2 with eps = 0.1, far below atol with the default
    Fn cube = [](const std::vector<Tensor>& in) { return in[0].pow(3.0); };
    Tensor x = input({3});
    CHECK(ag::gradcheck(cube, {x}).passed);
    ag::GradcheckResult coarse = ag::gradcheck(cube, {x}, {0.1, 1e-5, 0.0});
    REQUIRE_FALSE(coarse.passed);
    CHECK(coarse.numeric - coarse.analytic == Approx(0.01).epsilon(1e-6));
}

TEST_CASE("gradcheck: reports a NaN gradient as a failure", "[gradcheck]") {
    ag::manual_seed(111);
    Tensor x = input({2});
    auto f = [](const std::vector<Tensor>& in) {
        Tensor out = in[0].detach() * 1.0;
        const Tensor& a = in[0];
        if (ag::needs_grad(a))
            ag::set_grad_fn(out, "NaNBackward", {&a}, /*saved=*/{}, [a](const Tensor& dout) { ag::accumulate_grad(a, dout * NAN); });
        return out;
    };
    ag::GradcheckResult r = ag::gradcheck(f, {x});
    REQUIRE_FALSE(r.passed);
    CHECK(std::isnan(r.analytic));
    CHECK_THAT(r.report, Contains("nan"));
}

TEST_CASE("gradcheck: when the function throws, the inputs' values and .grad are restored", "[gradcheck]") {
    ag::Tensor x = ag::tensor({1.0, 2.0}, ag::DType::Float64).requires_grad_();
    (x * 3.0).sum().backward();
    ag::Tensor grad_before = x.grad();
    int calls = 0;
    auto flaky = [&calls](const std::vector<ag::Tensor>& in) {
        if (++calls > 1) throw std::invalid_argument("flaky: failed on purpose");
        return (in[0] * in[0]).sum();
    };
    REQUIRE_THROWS_WITH(ag::gradcheck(flaky, {x}), "flaky: failed on purpose");
    CHECK(x.to_vector<double>() == std::vector<double>{1.0, 2.0});
    CHECK(x.grad().impl_ptr() == grad_before.impl_ptr());
}

TEST_CASE("gradcheck: options that cannot measure anything are refused, not blamed on the backward", "[gradcheck]") {
    Tensor x = ag::randn({3}, ag::DType::Float64).requires_grad_();
    auto f = [](const std::vector<Tensor>& in) { return in[0] * in[0]; };
    REQUIRE_THROWS_WITH(ag::gradcheck(f, {x}, {0.0, 1e-5, 1e-3}), "gradcheck: eps must be positive and finite; got 0");
    REQUIRE_THROWS_AS(ag::gradcheck(f, {x}, {-1e-6, 1e-5, 1e-3}), std::invalid_argument);
    REQUIRE_THROWS_AS(ag::gradcheck(f, {x}, {NAN, 1e-5, 1e-3}), std::invalid_argument);
    REQUIRE_THROWS_AS(ag::gradcheck(f, {x}, {INFINITY, 1e-5, 1e-3}), std::invalid_argument);
    REQUIRE_THROWS_WITH(ag::gradcheck(f, {x}, {1e-6, -1, 1e-3}), "gradcheck: atol must be non-negative and finite; got -1");
    REQUIRE_THROWS_WITH(ag::gradcheck(f, {x}, {1e-6, 1e-5, -0.5}),
                        "gradcheck: rtol must be non-negative and finite; got -0.5");
    CHECK(ag::gradcheck(f, {x}, {1e-6, 0, 0.01}).passed);  // atol 0 is a strict but valid choice
}

TEST_CASE("gradcheck: an expanded input, whose elements share memory, is refused", "[gradcheck]") {
    Tensor x = ag::ones({1}, ag::DType::Float64).expand({3}).detach().requires_grad_();
    auto f = [](const std::vector<Tensor>& in) { return (in[0] * in[0]).sum(); };
    REQUIRE_THROWS_WITH(ag::gradcheck(f, {x}), Contains("gradcheck: input 0 has a dim of stride 0"));
}

TEST_CASE("gradcheck: the report gives elements as multi-indices into their shapes", "[gradcheck]") {
    ag::manual_seed(104);
    Tensor x = input({3, 5});
    // flip element [1, 4] (flat 9) of dx; the output is x's shape, reshaped to (5, 3): flat 9 is [3, 0] there
    ag::GradcheckResult r =
        ag::gradcheck([](const std::vector<Tensor>& in) { return triple(in[0], 0, 9).reshape({5, 3}); }, {x});
    REQUIRE_FALSE(r.passed);
    CHECK(r.input_element == 9);
    CHECK(r.input_index == ag::Shape{1, 4});
    CHECK(r.output_index == ag::Shape{3, 0});
    CHECK_THAT(r.report, Contains("  at its element [1, 4] of shape [3, 5]\n") &&
                             Contains("  for output element [3, 0] of shape [5, 3]\n"));
}

TEST_CASE("gradcheck: says so when no gradient reached an input that requires grad", "[gradcheck]") {
    ag::manual_seed(105);
    Tensor a = input({2}), b = input({3});
    // out = a.sum() * b, with a backward that forgets b: b's .grad is never written
    auto forgets_b = [](const std::vector<Tensor>& in) {
        Tensor out = (in[0].detach().sum() * in[1].detach());
        const Tensor a = in[0], b = in[1].detach();
        ag::set_grad_fn(out, "ForgetsBBackward", {&in[0]}, /*saved=*/{}, [a, b](const Tensor& dout) {
            ag::accumulate_grad(a, (dout * b).sum().expand({2}));  // da += sum(dout * b) ; db forgotten
        });
        return out;
    };
    ag::GradcheckResult r = ag::gradcheck(forgets_b, {a, b});
    REQUIRE_FALSE(r.passed);
    CHECK(r.input == 1);
    CHECK_FALSE(r.gradient_reached);
    CHECK(r.analytic == 0);
    CHECK_THAT(r.report, Catch::StartsWith("gradcheck: no gradient reached input 1 (backward never wrote its .grad)\n"
                                           "  at its element ["));
    // an input that nothing depends on gets no gradient, and none is needed: finite differences agree
    CHECK(ag::gradcheck([](const std::vector<Tensor>& in) { return in[0] * 2.0; }, {input({2}), input({2})}).passed);
}

TEST_CASE("gradcheck: no line of the report is wider than 78 columns, with long numbers and big shapes",
          "[gradcheck]") {
    ag::manual_seed(106);
    // values like -1.2345678e-08: the longest numbers the report prints
    Tensor x = (ag::randn({7, 11, 13}, DType::Float64) * 1e-7).requires_grad_();
    ag::GradcheckOptions o;
    o.atol = 1.2345678e-300;
    o.rtol = 1.2345678e-100;
    ag::GradcheckResult r =
        ag::gradcheck([](const std::vector<Tensor>& in) { return triple(in[0], 1e-3).reshape({11, 13, 7}); }, {x}, o);
    REQUIRE_FALSE(r.passed);
    std::istringstream lines(r.report);
    int n = 0;
    for (std::string line; std::getline(lines, line); ++n) {
        INFO(line);
        CHECK(line.size() <= 78);
    }
    CHECK(n == 7);
}
